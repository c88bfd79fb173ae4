// Package behaviour compares models with human observers on behaviour: accuracy under image
// distortions as psychometric curves (beside human curves from model-vs-human), trial-by-trial
// error consistency with human subjects, confusion matrices, and the smallest adversarial
// perturbation that flips a model's decision.
//
// # Distortions
//
// Each distortion (see Distortions and Lookup) maps a float32 CHW image with values in [0,1]
// and a level to a new image in [0,1]. The definitions follow Geirhos et al. 2018
// ("Generalisation in humans and deep neural networks", NeurIPS) and the model-vs-human
// toolbox (Geirhos et al. 2021, "Partial success in closing the gap between human and machine
// vision"), whose human data sets name the same levels:
//
//   - contrast c in [0,1]: x' = c*x + (1-c)/2 (contrast reduced towards mid grey);
//     model-vs-human condition "c30" is c = 0.30.
//   - uniform-noise w in [0,1]: contrast first reduced to 30%, then noise uniform in [-w,w],
//     independent per pixel (shared across channels), added and clipped to [0,1].
//   - low-pass sigma >= 0: Gaussian blur with standard deviation sigma (reflecting borders).
//   - high-pass sigma > 0 or +Inf: x - lowpass(x, sigma) + 0.5, clipped; +Inf (condition "inf")
//     leaves the image unchanged.
//   - phase-scrambling w in [0,180] degrees: every Fourier component's phase is shifted by noise
//     uniform in [-w,w] degrees, the same for all channels and antisymmetric in frequency so the
//     result is real; amplitudes (the power spectrum) are kept; the result is clipped.
//   - rotation angle in [0,360] degrees, counter-clockwise about the centre, bilinear, corners
//     filled with mid grey (multiples of 90 on a square image are exact pixel permutations).
//   - occlusion fraction f in [0,1]: the image is cut into an 8x8 grid of blocks and a seeded
//     random round(64 f) of them are set to mid grey (no model-vs-human counterpart).
//
// Blur widths (low-pass, high-pass) are given, as in model-vs-human, in pixels of a 224-pixel
// image and are scaled by width/224, so a level removes the same part of the spectrum at any
// image size. Geirhos et al. converted images to greyscale first; CurveConfig.Grey does the same.
//
// # Error consistency
//
// Kappa follows Geirhos et al. 2020 ("Beyond accuracy: quantifying trial-by-trial behaviour
// of CNNs and humans by measuring error consistency", NeurIPS): with observed consistency
// c_obs (the fraction of trials both observers get right or both get wrong) and accuracies
// p1, p2, c_exp = p1 p2 + (1-p1)(1-p2) and kappa = (c_obs - c_exp)/(1 - c_exp).
//
// A behavioural benchmark of that kind is a Spec (YAML; see Spec and the built-in
// geirhos-edges-cifar10.yaml): stimuli, trial CSVs, the class mapping between the data set's
// categories and the model's classes, and the trials kept.
package behaviour

// Package analysis asks what a model's layers compute: how large their receptive fields are
// (ReceptiveFields: theoretical, from the architecture, and effective, from gradients), what
// images drive their channels most (Visualize: activation maximisation), how linearly
// decodable the image category is from each layer (Decode: the untangling curve), and what
// silencing a fraction of a layer's channels or units does to accuracy and brain scores
// (Lesion, LesionSweep). Every analysis is seeded: the same inputs give the same numbers.
//
// Models are never modified: gradients are taken with the model's weights as they are (the
// parameter gradients that a backward pass accumulates are cleared afterwards), and lesions
// run on a copy of the graph whose lesioned layer is wrapped in a masking op.
package analysis

package nn

import "github.com/ventral-lab/ventral/tensor"

// These helpers complement tensor.Im2col and tensor.Col2im: they take a row stride ld for the
// destination (several images side by side for one wide GEMM) and have a fast path for unit
// strides that copies through a zero-padded image.

// im2colLd unrolls the receptive fields of one image src (c x h x w) into columns: row
// (ci*kh + ki)*kw + kj, column oy*ow + ox of dst holds the input under kernel tap (ki, kj) of
// channel ci for output position (oy, ox), zero where it falls in the padding. Rows of dst are
// ld apart, so several images can be written side by side into one wide matrix.
func im2colLd(src []float32, c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW int, dst []float32, ld int) {
	oh := tensor.ConvOut(h, kh, padH, strideH, dilH)
	ow := tensor.ConvOut(w, kw, padW, strideW, dilW)
	if strideH == 1 && strideW == 1 && dilH == 1 && dilW == 1 {
		// Copy the image once into a zero-padded buffer (unless there is no padding); every
		// kernel tap's rows are then one strided copy.
		hp, wp := h+2*padH, w+2*padW
		var pad []float32
		if padH > 0 || padW > 0 {
			pad = getScratch(hp * wp)
			clear(pad)
		}
		for ci := 0; ci < c; ci++ {
			img := src[ci*h*w : (ci+1)*h*w]
			if pad != nil {
				for y := 0; y < h; y++ {
					copy(pad[(y+padH)*wp+padW:(y+padH)*wp+padW+w], img[y*w:(y+1)*w])
				}
				img = pad
			}
			for ki := 0; ki < kh; ki++ {
				for kj := 0; kj < kw; kj++ {
					tensor.CopyRows(dst[((ci*kh+ki)*kw+kj)*ld:], img[ki*wp+kj:], oh, ow, wp)
				}
			}
		}
		if pad != nil {
			putScratch(pad)
		}
		return
	}
	for ci := 0; ci < c; ci++ {
		img := src[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				row := dst[((ci*kh+ki)*kw+kj)*ld:]
				x0 := kj*dilW - padW
				// valid ox: 0 <= ox*strideW + x0 < w
				lo, hi := validRange(x0, strideW, w, ow)
				for oy := 0; oy < oh; oy++ {
					r := row[oy*ow : oy*ow+ow]
					iy := oy*strideH - padH + ki*dilH
					if iy < 0 || iy >= h || lo >= hi {
						clear(r)
						continue
					}
					for i := range r[:lo] {
						r[i] = 0
					}
					for i := hi; i < ow; i++ {
						r[i] = 0
					}
					line := img[iy*w : iy*w+w]
					if strideW == 1 {
						copy(r[lo:hi], line[lo+x0:hi+x0])
					} else {
						ix := lo*strideW + x0
						for ox := lo; ox < hi; ox++ {
							r[ox] = line[ix]
							ix += strideW
						}
					}
				}
			}
		}
	}
}

// col2imLd is the adjoint of im2colLd: it adds every column entry back onto the image pixel it
// was read from (dst must be initialised by the caller, typically zeroed).
func col2imLd(col []float32, ld, c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW int, dst []float32) {
	oh := tensor.ConvOut(h, kh, padH, strideH, dilH)
	ow := tensor.ConvOut(w, kw, padW, strideW, dilW)
	if strideH == 1 && strideW == 1 && dilH == 1 && dilW == 1 {
		// Accumulate into a zero-padded image (no bounds per segment), then add its interior;
		// without padding, straight into dst. Each kernel tap's rows are one strided add.
		hp, wp := h+2*padH, w+2*padW
		padded := padH > 0 || padW > 0
		var pad []float32
		if padded {
			pad = getScratch(hp * wp)
		}
		for ci := 0; ci < c; ci++ {
			img := dst[ci*h*w : (ci+1)*h*w]
			acc := img
			if padded {
				acc = pad
				clear(pad)
			}
			for ki := 0; ki < kh; ki++ {
				for kj := 0; kj < kw; kj++ {
					tensor.AddRows(acc[ki*wp+kj:], wp, col[((ci*kh+ki)*kw+kj)*ld:], oh, ow)
				}
			}
			if padded {
				for y := 0; y < h; y++ {
					tensor.AddTo(img[y*w:(y+1)*w], pad[(y+padH)*wp+padW:(y+padH)*wp+padW+w])
				}
			}
		}
		if padded {
			putScratch(pad)
		}
		return
	}
	for ci := 0; ci < c; ci++ {
		img := dst[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			for kj := 0; kj < kw; kj++ {
				row := col[((ci*kh+ki)*kw+kj)*ld:]
				x0 := kj*dilW - padW
				lo, hi := validRange(x0, strideW, w, ow)
				if lo >= hi {
					continue
				}
				for oy := 0; oy < oh; oy++ {
					iy := oy*strideH - padH + ki*dilH
					if iy < 0 || iy >= h {
						continue
					}
					r := row[oy*ow : oy*ow+ow]
					line := img[iy*w : iy*w+w]
					if strideW == 1 {
						tensor.AddTo(line[lo+x0:hi+x0], r[lo:hi])
					} else {
						ix := lo*strideW + x0
						for ox := lo; ox < hi; ox++ {
							line[ix] += r[ox]
							ix += strideW
						}
					}
				}
			}
		}
	}
}

// validRange returns the output positions [lo, hi) whose input index o*stride + x0 lies in
// [0, w).
func validRange(x0, stride, w, ow int) (int, int) {
	lo := 0
	if x0 < 0 {
		lo = (-x0 + stride - 1) / stride
	}
	hi := 0
	if w-1-x0 >= 0 {
		hi = (w-1-x0)/stride + 1
	}
	hi = min(hi, ow)
	lo = min(lo, hi)
	return lo, hi
}

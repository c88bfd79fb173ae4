package tensor

import "fmt"

// ConvOut is the output size of a convolution (or pooling) along one axis: input size in, kernel
// size k, zero padding pad on both sides, stride and dilation dil. It is 0 or less when the
// window does not fit (Go's division truncates toward zero, so that case is tested first).
func ConvOut(in, k, pad, stride, dil int) int {
	span := in + 2*pad - dil*(k-1) - 1
	if span < 0 {
		return 0
	}
	return span/stride + 1
}

// colRange returns the range [lo, hi) of output positions o in [0, out) whose input position
// o*stride + off lies in [0, in).
func colRange(off, stride, in, out int) (lo, hi int) {
	if off < 0 {
		lo = (-off + stride - 1) / stride
	}
	if last := in - 1 - off; last >= 0 {
		hi = last/stride + 1
	}
	lo, hi = min(lo, out), min(hi, out)
	return lo, max(hi, lo)
}

func checkConvGeom(name string, c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW int, img, col []float32) (outH, outW int) {
	if c <= 0 || h <= 0 || w <= 0 || kh <= 0 || kw <= 0 || strideH <= 0 || strideW <= 0 || dilH <= 0 || dilW <= 0 || padH < 0 || padW < 0 {
		panic(fmt.Sprintf("tensor.%s: bad geometry c=%d h=%d w=%d k=%dx%d pad=%d,%d stride=%d,%d dil=%d,%d",
			name, c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW))
	}
	outH, outW = ConvOut(h, kh, padH, strideH, dilH), ConvOut(w, kw, padW, strideW, dilW)
	if outH <= 0 || outW <= 0 {
		panic(fmt.Sprintf("tensor.%s: empty output %dx%d", name, outH, outW))
	}
	if len(img) < c*h*w || len(col) < c*kh*kw*outH*outW {
		panic(fmt.Sprintf("tensor.%s: image has %d values (need %d), columns %d (need %d)",
			name, len(img), c*h*w, len(col), c*kh*kw*outH*outW))
	}
	return outH, outW
}

// Im2col lays out one c x h x w image as the (c*kh*kw) x (outH*outW) matrix dst whose row
// (ci*kh+ki)*kw+kj, column oy*outW+ox holds src[ci, oy*strideH-padH+ki*dilH, ox*strideW-padW+kj*dilW]
// (0 outside the image), so that a convolution is weights (outC x c*kh*kw) times dst.
// outH, outW are ConvOut of the geometry. Every element of dst is written.
func Im2col(src []float32, c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW int, dst []float32) {
	outH, outW := checkConvGeom("Im2col", c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW, src, dst)
	plane := outH * outW
	row := 0
	for ci := 0; ci < c; ci++ {
		img := src[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			oyLo, oyHi := colRange(ki*dilH-padH, strideH, h, outH)
			for kj := 0; kj < kw; kj++ {
				d := dst[row*plane : (row+1)*plane]
				row++
				offW := kj*dilW - padW
				oxLo, oxHi := colRange(offW, strideW, w, outW)
				clear(d[:oyLo*outW])
				clear(d[oyHi*outW:])
				if oxLo == oxHi {
					clear(d[oyLo*outW : oyHi*outW])
					continue
				}
				if strideW == 2 && oxHi-oxLo > 1 && row < c*kh*kw && oyHi > oyLo {
					// Every second element of each source row, in one vector call over the
					// rows: the odd elements land in the next row of dst, which is written
					// after this one.
					for oy := oyLo; oy < oyHi; oy++ {
						seg := d[oy*outW : (oy+1)*outW]
						clear(seg[:oxLo])
						clear(seg[oxHi:])
					}
					iy := oyLo*strideH - padH + ki*dilH
					x0 := oxLo*strideW + offW
					o := oyLo*outW + oxLo
					deinterleaveRows(d[o:], dst[row*plane+o:], outW, img[iy*w+x0:], strideH*w, 2*(oxHi-oxLo)-1, oyHi-oyLo)
					continue
				}
				for oy := oyLo; oy < oyHi; oy++ {
					iy := oy*strideH - padH + ki*dilH
					seg := d[oy*outW : (oy+1)*outW]
					if oxLo > 0 {
						clear(seg[:oxLo])
					}
					if oxHi < outW {
						clear(seg[oxHi:])
					}
					srow := img[iy*w : (iy+1)*w]
					if strideW == 1 {
						copy(seg[oxLo:oxHi], srow[oxLo+offW:])
						continue
					}
					ix := oxLo*strideW + offW
					for ox := oxLo; ox < oxHi; ox++ {
						seg[ox] = srow[ix]
						ix += strideW
					}
				}
			}
		}
	}
}

// Col2im is the adjoint of Im2col: it adds (+=) every element of the (c*kh*kw) x (outH*outW)
// matrix col into the image position it was gathered from, accumulating an image gradient in dst
// (c x h x w). Positions in the padding are dropped.
func Col2im(col []float32, c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW int, dst []float32) {
	outH, outW := checkConvGeom("Col2im", c, h, w, kh, kw, padH, padW, strideH, strideW, dilH, dilW, dst, col)
	plane := outH * outW
	row := 0
	for ci := 0; ci < c; ci++ {
		img := dst[ci*h*w : (ci+1)*h*w]
		for ki := 0; ki < kh; ki++ {
			oyLo, oyHi := colRange(ki*dilH-padH, strideH, h, outH)
			for kj := 0; kj < kw; kj++ {
				d := col[row*plane : (row+1)*plane]
				row++
				offW := kj*dilW - padW
				oxLo, oxHi := colRange(offW, strideW, w, outW)
				if oxLo == oxHi {
					continue
				}
				for oy := oyLo; oy < oyHi; oy++ {
					iy := oy*strideH - padH + ki*dilH
					seg := d[oy*outW+oxLo : oy*outW+oxHi]
					irow := img[iy*w : (iy+1)*w]
					if strideW == 1 {
						Axpy(1, seg, irow[oxLo+offW:])
						continue
					}
					ix := oxLo*strideW + offW
					for _, v := range seg {
						irow[ix] += v
						ix += strideW
					}
				}
			}
		}
	}
}

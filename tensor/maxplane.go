package tensor

// MaxTo computes dst[i] = max(a[i], b[i]) for i < len(dst), NaN if either is NaN; dst may alias
// a or b.
func MaxTo(dst, a, b []float32) {
	n := len(dst)
	if n == 0 {
		return
	}
	a, b = a[:n], b[:n]
	v := 0
	if useAVX2 {
		v = n &^ 7
		if v > 0 {
			maxAVX2(&dst[0], &a[0], &b[0], v)
		}
	}
	for i := v; i < n; i++ {
		dst[i] = max(a[i], b[i])
	}
}

// MaxPoolPlane max-pools one h x w plane into dst (oh x ow) with a kh x kw window, stride
// sh x sw and padding ph x pw (padding never wins: it counts as -inf), without recording where
// the maxima are (inference). A NaN in a window gives NaN. row is scratch of at least w floats.
// Each output row first takes the elementwise maximum of its window's input rows (vectorised),
// then the maxima along that row.
func MaxPoolPlane(src []float32, h, w, kh, kw, ph, pw, sh, sw, oh, ow int, dst, row []float32) {
	row = row[:w]
	for oy := 0; oy < oh; oy++ {
		y0 := oy*sh - ph
		y1 := min(y0+kh, h)
		y0 = max(y0, 0)
		r := src[y0*w : y0*w+w]
		if y1-y0 > 1 {
			MaxTo(row, r, src[(y0+1)*w:(y0+2)*w])
			for iy := y0 + 2; iy < y1; iy++ {
				MaxTo(row, row, src[iy*w:iy*w+w])
			}
			r = row
		}
		d := dst[oy*ow : oy*ow+ow]
		if kw == 3 && sw == 2 {
			// The common 3x3, stride 2 window: interior outputs without clipping.
			for ox := range d {
				x0 := ox*2 - pw
				if x0 < 0 || x0+3 > w {
					d[ox] = rowMax(r, x0, x0+kw)
					continue
				}
				s := r[x0 : x0+3]
				d[ox] = max(max(s[0], s[1]), s[2])
			}
			continue
		}
		for ox := range d {
			x0 := ox*sw - pw
			d[ox] = rowMax(r, x0, x0+kw)
		}
	}
}

func rowMax(r []float32, x0, x1 int) float32 {
	x1 = min(x1, len(r))
	x0 = max(x0, 0)
	m := r[x0]
	for _, v := range r[x0+1 : x1] {
		m = max(m, v)
	}
	return m
}

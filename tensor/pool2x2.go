package tensor

import "math"

// MaxPool2x2 max-pools one plane (rows w wide) with 2x2 windows at stride 2 into dst
// (oh x ow), recording each window's maximum as its index in the plane, stored in arg as the
// float32's bits (math.Float32frombits(uint32(index))). The window is a tournament: the larger
// of each row's pair, then the bottom one only if it is greater than the top one; so ties keep
// the earlier element (row-major), and a comparison with NaN keeps the first of the two. It
// needs 2*oh rows and 2*ow <= w columns of src.
func MaxPool2x2(src []float32, w, oh, ow int, dst, arg []float32) {
	if oh <= 0 || ow <= 0 {
		return
	}
	_ = src[(2*oh-1)*w+2*ow-1]
	_ = dst[oh*ow-1]
	_ = arg[oh*ow-1]
	v := 0
	if useAVX2 {
		v = ow &^ 7
	}
	for oy := 0; oy < oh; oy++ {
		base := 2 * oy * w
		if v > 0 {
			maxPool2x2RowAVX2(&src[base], &dst[oy*ow], &arg[oy*ow], v, base, w)
		}
		r0 := src[base : base+w]
		r1 := src[base+w : base+2*w]
		d := dst[oy*ow : oy*ow+ow]
		a := arg[oy*ow : oy*ow+ow]
		for ox := v; ox < ow; ox++ {
			i := 2 * ox
			a0, a1, b0, b1 := r0[i], r0[i+1], r1[i], r1[i+1]
			// Top pair, bottom pair, then the two winners, selected through integer masks.
			ct := b2u(a1 > a0)
			t := sel(a0, a1, ct)
			cb := b2u(b1 > b0)
			bt := sel(b0, b1, cb)
			cv := b2u(bt > t)
			d[ox] = sel(t, bt, cv)
			off := ct + (cb+uint32(w)-ct)&-cv
			a[ox] = math.Float32frombits(uint32(base+i) + off)
		}
	}
}

// MaxPool2x2Grad writes the input gradient of MaxPool2x2 for one plane (h x w) to dx: each
// window's four pixels get dy at the recorded maximum and 0 elsewhere; the odd last row or
// column that no window covers is zeroed.
func MaxPool2x2Grad(dx []float32, w, h, oh, ow int, dy, arg []float32) {
	if 2*oh < h || 2*ow < w {
		clear(dx[:h*w])
	}
	if oh <= 0 || ow <= 0 {
		return
	}
	_ = dx[(2*oh-1)*w+2*ow-1]
	_ = dy[oh*ow-1]
	_ = arg[oh*ow-1]
	v := 0
	if useAVX2 {
		v = ow &^ 7
	}
	for oy := 0; oy < oh; oy++ {
		base := 2 * oy * w
		if v > 0 {
			maxPool2x2GradRowAVX2(&dx[base], &dy[oy*ow], &arg[oy*ow], v, base, w)
		}
		r0 := dx[base : base+w]
		r1 := dx[base+w : base+2*w]
		g := dy[oy*ow : oy*ow+ow]
		a := arg[oy*ow : oy*ow+ow]
		for ox := v; ox < ow; ox++ {
			i := 2 * ox
			r0[i], r0[i+1], r1[i], r1[i+1] = 0, 0, 0, 0
			dx[math.Float32bits(a[ox])] = g[ox]
		}
	}
}

// b2u is 1 for true and 0 for false (compiled to SETcc).
func b2u(b bool) uint32 {
	var u uint32
	if b {
		u = 1
	}
	return u
}

// sel returns y when c is 1 and x when c is 0, without a branch.
func sel(x, y float32, c uint32) float32 {
	xb, yb := math.Float32bits(x), math.Float32bits(y)
	return math.Float32frombits(xb ^ (xb^yb)&-c)
}

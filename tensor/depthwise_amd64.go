//go:build amd64 && !purego

package tensor

//go:noescape
func dwPlaneAVX2(dst *float32, rows, n int, src *float32, ld int, offs *int, ks *float32, ntaps int, bias float32)

// dwPlane sets dst[r*n+i] = bias + sum_t ks[t]*src[r*ld+offs[t]+i] for r < rows, i < n.
func dwPlane(dst []float32, rows, n int, src []float32, ld int, offs []int, ks []float32, bias float32) {
	if useAVX2 {
		// The assembly reads src[r*ld+off+i] for every offset: check the largest in Go.
		hi := 0
		for _, o := range offs {
			if o < 0 {
				panic("tensor: negative depthwise tap offset")
			}
			hi = max(hi, o)
		}
		_ = src[(rows-1)*ld+hi+n-1]
		_ = ks[len(offs)-1]
		_ = dst[rows*n-1]
		dwPlaneAVX2(&dst[0], rows, n, &src[0], ld, &offs[0], &ks[0], len(offs), bias)
		return
	}
	dwPlaneGo(dst, rows, n, src, ld, offs, ks, bias)
}

//go:noescape
func stridedRowsAVX2(dst *float32, dstStride int, src *float32, srcStride, w, rows int)

//go:noescape
func deinterleaveRowsAVX2(even, odd *float32, dstStride int, src *float32, srcStride, w, rows int)

// stridedRows copies rows rows of w floats from src (stride ss) to dst (stride ds).
func stridedRows(dst []float32, ds int, src []float32, ss, w, rows int) {
	if rows <= 0 || w <= 0 {
		return
	}
	_, _ = dst[(rows-1)*ds+w-1], src[(rows-1)*ss+w-1]
	if useAVX2 {
		stridedRowsAVX2(&dst[0], ds, &src[0], ss, w, rows)
		return
	}
	stridedRowsGo(dst, ds, src, ss, w, rows)
}

// deinterleaveRows splits rows rows of w floats from src (stride ss) into their even and odd
// elements, rows ds apart in even and odd.
func deinterleaveRows(even, odd []float32, ds int, src []float32, ss, w, rows int) {
	if rows <= 0 || w <= 0 {
		return
	}
	_, _ = even[(rows-1)*ds+(w+1)/2-1], src[(rows-1)*ss+w-1]
	if w > 1 {
		_ = odd[(rows-1)*ds+w/2-1]
	}
	if useAVX2 && w > 1 {
		deinterleaveRowsAVX2(&even[0], &odd[0], ds, &src[0], ss, w, rows)
		return
	}
	deinterleaveRowsGo(even, odd, ds, src, ss, w, rows)
}

//go:noescape
func dwRowsS1AVX2(dst, src *float32, prog *int, nprog int, taps, blocks *int, masks *int32, ks *float32, bias float32, ow, lds int)

//go:noescape
func dwRowsS2AVX2(dst, src *float32, prog *int, nprog int, taps, blocks *int, masks *int32, ks *float32, bias float32, ow, lds int)

// dwRowsPlane computes one output plane dst of the direct plan from the input plane src and the
// kernel ks (see dwRowsGo), AVX2 for column strides 1 and 2 in one call. The plan comes from
// Check, which keeps every load inside the input plane or under a mask, and every store inside
// the output plane; g.check has seen the lengths of src and dst.
func dwRowsPlane(g *DWGeom, dst, src, ks []float32, bias float32) {
	dwRowsPlaneTail(g, dst, src, ks, bias, nil)
}

// fusesTail reports whether the 3x3 kernel runs (and can apply a tail as it stores).
func (g *DWGeom) fusesTail() bool { return useAVX2 && g.rows != nil && g.rows.k3 && g.rows.asm }

func dwRowsPlaneTail(g *DWGeom, dst, src, ks []float32, bias float32, t *dwTail) {
	p := g.rows
	if !useAVX2 || !p.asm {
		dwRowsPlaneGo(g, dst, src, ks, bias)
		return
	}
	_, _, _ = dst[g.OH*g.OW-1], src[g.H*g.W-1], ks[g.KH*g.KW-1]
	if p.k3 {
		// The input is a whole batch, far larger than the caches: loads ahead of the rows in
		// use halve the time of MobileNetV2's large layers (1.9x on 56x56, 1.6x at stride 2 on
		// 112x112, CPU time at batch 16; 1.1x on 14x14).
		pf := max(dwPrefetch*g.StrideH*g.W*4, dwPrefetchMin)
		var tail *float32
		mode := 0
		if t != nil {
			tail, mode = &t.v[0], t.mode
		}
		if useAVX512 {
			if p.flat != nil {
				dw3FlatAVX512(&dst[0], &src[0], &p.flat[0], len(p.flat)/8, &ks[0], bias, g.W, -g.PadH*g.W-1, tail, mode)
				return
			}
			// Two output rows per pass where their input rows overlap as the kernel expects.
			pair := 0
			if g.StrideH == g.StrideW {
				pair = 1
			}
			if g.StrideW == 1 {
				dw3S1AVX512(&dst[0], &src[0], &p.zeros[0], &p.rows3[0], g.OH, &p.blk512[0], len(p.blk512)/6, &ks[0], bias, g.OW, pf, tail, mode, pair)
			} else {
				dw3S2AVX512(&dst[0], &src[0], &p.zeros[0], &p.rows3[0], g.OH, &p.blk512[0], len(p.blk512)/6, &ks[0], bias, g.OW, pf, tail, mode, pair)
			}
			return
		}
		if g.StrideW == 1 {
			dw3S1AVX2(&dst[0], &src[0], &p.zeros[0], &p.rows3[0], g.OH, &p.blk3[0], len(p.blk3)/3, &p.masks[0], &ks[0], bias, g.OW, pf, tail, mode)
		} else {
			dw3S2AVX2(&dst[0], &src[0], &p.zeros[0], &p.rows3[0], g.OH, &p.blk3[0], len(p.blk3)/3, &p.masks[0], &ks[0], bias, g.OW, pf, tail, mode)
		}
		return
	}
	if t != nil {
		panic("tensor: a tail fused into a depthwise kernel that cannot apply it")
	}
	if g.StrideW == 1 {
		dwRowsS1AVX2(&dst[0], &src[0], &p.prog[0], len(p.prog)/8, &p.taps[0], &p.blocks[0], &p.masks[0], &ks[0], bias, g.OW, g.StrideH*g.W)
	} else {
		dwRowsS2AVX2(&dst[0], &src[0], &p.prog[0], len(p.prog)/8, &p.taps[0], &p.blocks[0], &p.masks[0], &ks[0], bias, g.OW, g.StrideH*g.W)
	}
}

//go:noescape
func dw3S1AVX2(dst, src, zero *float32, rows *int, oh int, blocks *int, nblocks int, masks *int32, ks *float32, bias float32, ow, pf int, tail *float32, mode int)

//go:noescape
func dw3S2AVX2(dst, src, zero *float32, rows *int, oh int, blocks *int, nblocks int, masks *int32, ks *float32, bias float32, ow, pf int, tail *float32, mode int)

//go:noescape
func dw3S1AVX512(dst, src, zero *float32, rows *int, oh int, blocks *int, nblocks int, ks *float32, bias float32, ow, pf int, tail *float32, mode, pair int)

//go:noescape
func dw3S2AVX512(dst, src, zero *float32, rows *int, oh int, blocks *int, nblocks int, ks *float32, bias float32, ow, pf int, tail *float32, mode, pair int)

//go:noescape
func dw3FlatAVX512(dst, src *float32, chunks *int, nchunks int, ks *float32, bias float32, ld, off int, tail *float32, mode int)

// dwPrefetch is how many input rows ahead the 3x3 kernel prefetches, at least dwPrefetchMin
// bytes (on small planes, more than a plane ahead).
const dwPrefetch, dwPrefetchMin = 4, 2048

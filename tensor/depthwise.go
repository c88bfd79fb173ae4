package tensor

import "fmt"

// Depthwise convolution: one KH x KW kernel per (input plane, output plane) pair, as in
// MobileNets' 3x3 layers (groups = input channels). Going through im2col and a GEMM per group
// would unroll every plane KH*KW-fold to multiply it by a matrix with one row, so these kernels
// work on planes directly.
//
// The forward pass (column stride 1 or 2, every MobileNet layer) reads the input plane where it
// lies (see dwRows): no padded or deinterleaved copy of it is made, and each output row is
// computed in registers over all taps and stored once, into the output tensor. The input is a
// layer's whole batch, far larger than the caches, so a copy costs a pass through memory, not
// just its instructions; so does a wide output gathered into the tensor afterwards. The borders
// are blocks of 8 outputs whose loads are masked per kernel column, and stride 2 is two loads
// and a shuffle per tap. The 3x3 kernel (every MobileNet layer) holds its nine weights in
// registers and reads three input rows per output row (a row of zeros in the padding), so a
// tap is one FMA from memory. On MobileNetV2's depthwise layers at batch 16 this took the
// forward pass from about 100 to 60 CPU ms per batch, most of what is left being the passes
// through memory themselves.
//
// The backward passes (and a forward at column stride 3 or more) split the padded input plane
// into its StrideH x StrideW polyphase components P[a][b][i][j] = padded[i*StrideH +
// a][j*StrideW + b], each PW wide (stride 2 deinterleaves rows with AVX2 shuffles). Output (oy,
// ox) reads, for tap (ki, kj), padded[oy*StrideH + ki*DilH][ox*StrideW + kj*DilW], which is one
// component at row oy + ki*DilH / StrideH and column ox + kj*DilW / StrideW: every tap of every
// output row is a contiguous stretch at a fixed offset (dwPlane, AVX2: 32 outputs per
// iteration, one load and one FMA per tap and 8 outputs). The backward passes lay the output
// gradient out "wide" (rows PW apart, zeros in the extra columns), so the input gradient is one
// Axpy per tap over the whole wide plane and the weight gradient one dot product per tap.
//
// Measured (BenchmarkDepthwise in package nn: MobileNetV2's 3x3 depthwise layer, C = 144, 56x56,
// batch 16, one thread, CPU time on a shared 2-core machine): stride 1 forward 13 ms against
// 49 ms for im2col + GEMM per group, forward + backward 43 against 170 ms; stride 2 forward 8.6
// against 27 ms, forward + backward 34 against 96 ms. The direct forward pass then took the
// forward from 18 to 12 ms at stride 1 and from 8.8 to 4.6 ms at stride 2 (medians of three
// interleaved runs, load 5-12).

// At the avx512 level the 3x3 kernel runs in AVX-512 (dw3S1AVX512, dw3S2AVX512, dw3FlatAVX512 on
// planes up to 15 wide), bit for bit the AVX2 kernel: 16 outputs per zmm, each summed in the
// order its AVX2 block sums it (plan512), two output rows per pass, each input row loaded once
// per zmm and its kernel columns' windows shifted or permuted out of it, masks at the rows' ends.
// Against AVX2 on MobileNetV2's layers (one image, every plane, CPU time, medians of alternating
// rounds): 1.7-2.7x, e.g. 112x112 1.9x, 56x56 at stride 2 2.4x, 7x7 1.7x.

// DWGeom is the geometry of a depthwise convolution on one plane: input H x W, kernel KH x KW,
// zero padding, stride and dilation per axis. Check sets the output size OH x OW and the
// polyphase layout.
type DWGeom struct {
	H, W, KH, KW, PadH, PadW, StrideH, StrideW, DilH, DilW int
	OH, OW                                                 int

	ph, pw int // size of one polyphase component

	rows *dwRows // the direct plan (StrideW <= 2), set by Check
}

// dwRows is the plan of the direct forward pass, which reads the input plane where it lies: the
// output rows fall into groups that see the same kernel rows (all of them inside the image,
// fewer at the top and bottom padding), each with its own tap list. Each row is the same list
// of blocks of 8 outputs (32 where they can); the blocks that reach into the padding load
// through masks, precomputed here per block and kernel column, so the inner loops never test
// a column. The kernel runs the whole plane in one call from prog, on the small planes of a
// network's last layers (7x7, 14x14) a call per group or row would cost more than the arithmetic.
type dwRows struct {
	groups []dwGroup
	taps   []int   // per tap: offset of a group's first output row's input, kernel column, kernel index
	blocks []int   // per block: first output column, kind (dwBlock32...), byte offset of its masks
	masks  []int32 // per masked block and kernel column: the lanes of the 16 floats from its first input column
	prog   []int   // per run of rows: output offset, input offset, rows, taps and blocks as byte ranges, whole loads
	reach  int     // the last float a block's load reads, from its first
	asm    bool    // every group has taps (a row with none is the bias alone, left to the Go form)

	// The 3x3 kernel (MobileNets' layers: dilation 1), which holds the kernel in registers and
	// reads three input rows per output row, a row outside the image being a row of zeros.
	k3    bool
	nrow  int       // the blocks of a row are blocks[:nrow]
	blk3  []int     // blocks[:nrow], a masked block whose only partial mask is its first (last) kernel column marked dwBlockLeft (dwBlockRight)
	rows3 []int     // per output row: element offsets of its input rows less PadW, flags (dw3...)
	zeros []float32 // the row of zeros (with margins for the loads around it)

	// The AVX-512 form of the 3x3 kernel: blocks of 16 outputs per zmm (see plan512), or the
	// plane as one flat run of outputs (see planFlat).
	blk512 []int
	flat   []int
}

// Flags of a row of the 3x3 kernel: its masked blocks load under the mask (a whole load would
// leave the plane), a row shorter than 8 stores under a mask (8 lanes would leave the plane),
// and which of its input rows are the row of zeros.
const (
	dw3MaskLoad  = 1
	dw3MaskStore = 2
	dw3Zero0     = 4
)

type dwGroup struct {
	oy, rows int
	taps     []int // the group's slice of dwRows.taps
}

// Block kinds of the row kernel.
const (
	dwBlock32        = iota // 32 outputs, plain loads
	dwBlock8                // 8 outputs, plain loads
	dwBlockMask             // 8 outputs, masked loads
	dwBlockShort            // a row shorter than 8: masked loads, all 8 lanes stored
	dwBlockShortMask        // a row shorter than 8: masked loads and store
	dwBlockLeft             // the 3x3 kernel's masked block with only kernel column 0 masked
	dwBlockRight            // the 3x3 kernel's masked block with only kernel column 2 masked
)

// Check validates the geometry and sets the output size.
func (g *DWGeom) Check() error {
	if g.H <= 0 || g.W <= 0 || g.KH <= 0 || g.KW <= 0 || g.StrideH <= 0 || g.StrideW <= 0 || g.DilH <= 0 || g.DilW <= 0 || g.PadH < 0 || g.PadW < 0 {
		return fmt.Errorf("depthwise: bad geometry %+v", *g)
	}
	g.OH, g.OW = ConvOut(g.H, g.KH, g.PadH, g.StrideH, g.DilH), ConvOut(g.W, g.KW, g.PadW, g.StrideW, g.DilW)
	if g.OH <= 0 || g.OW <= 0 {
		return fmt.Errorf("depthwise: kernel %dx%d does not fit the %dx%d input", g.KH, g.KW, g.H, g.W)
	}
	g.ph = (g.H + 2*g.PadH + g.StrideH - 1) / g.StrideH
	g.pw = (g.W + 2*g.PadW + g.StrideW - 1) / g.StrideW
	g.rows = nil
	if g.StrideW <= 2 {
		g.rows = g.planRows()
	}
	return nil
}

func (g *DWGeom) planRows() *dwRows {
	p := &dwRows{}
	sw, ow := g.StrideW, g.OW
	// Block x0's loads cover input columns x0*sw - PadW + kj*DilW + [0, reach].
	reach := 7
	if sw == 2 {
		reach = 15 // the odd lanes of the second vector are read too
	}
	p.reach = reach
	safeLo, safeHi := (g.PadW+sw-1)/sw, -1
	if last := g.W - 1 - reach - ((g.KW-1)*g.DilW - g.PadW); last >= 0 {
		safeHi = last / sw
	}
	masked := func(x0, kind int) {
		p.blocks = append(p.blocks, x0, kind, 4*len(p.masks))
		for kj := 0; kj < g.KW; kj++ {
			c := x0*sw + kj*g.DilW - g.PadW
			for l := 0; l < 16; l++ {
				var m int32
				if c+l >= 0 && c+l < g.W {
					m = -1
				}
				p.masks = append(p.masks, m)
			}
		}
	}
	if ow < 8 {
		masked(0, dwBlockShort)
	}
	for x0 := 0; x0 < ow && ow >= 8; {
		if ow-x0 < 8 {
			x0 = ow - 8 // the last block overlaps the one before
		}
		safe := x0 >= safeLo && x0 <= safeHi
		switch {
		case safe && ow-x0 >= 32 && x0+24 <= safeHi:
			p.blocks = append(p.blocks, x0, dwBlock32, 0)
			x0 += 32
		case safe:
			p.blocks = append(p.blocks, x0, dwBlock8, 0)
			x0 += 8
		default:
			masked(x0, dwBlockMask)
			x0 += 8
		}
	}
	if len(p.masks) == 0 {
		p.masks = append(p.masks, 0) // the kernel takes its address
	}
	// A row shorter than 8 stores all 8 lanes (into the rows after it, computed later) except
	// where that leaves the plane: those rows take a second block list with a masked store.
	last := len(p.blocks)
	if ow < 8 {
		p.blocks = append(p.blocks, 0, dwBlockShortMask, p.blocks[2])
	}
	kiRange := func(oy int) (int, int) {
		y0 := oy*g.StrideH - g.PadH
		lo, hi := 0, g.KH
		for lo < hi && y0+lo*g.DilH < 0 {
			lo++
		}
		for hi > lo && y0+(hi-1)*g.DilH >= g.H {
			hi--
		}
		return lo, hi
	}
	for oy := 0; oy < g.OH; {
		lo, hi := kiRange(oy)
		end := oy + 1
		for end < g.OH {
			if l, h := kiRange(end); l != lo || h != hi {
				break
			}
			end++
		}
		grp := dwGroup{oy: oy, rows: end - oy}
		t0 := len(p.taps)
		for ki := lo; ki < hi; ki++ {
			row := (oy*g.StrideH - g.PadH + ki*g.DilH) * g.W
			for kj := 0; kj < g.KW; kj++ {
				col := kj*g.DilW - g.PadW
				p.taps = append(p.taps, row+col, kj, ki*g.KW+kj)
			}
		}
		grp.taps = p.taps[t0:len(p.taps):len(p.taps)]
		p.groups = append(p.groups, grp)
		// Runs of rows with the same block list and the same loads in the masked blocks: a row
		// whose masked loads all stay inside the plane loads them whole and clears the lanes
		// outside the image with the mask (a masked load costs several times more).
		for r := 0; r < grp.rows; {
			key := p.rowKind(g, &grp, r)
			e := r + 1
			for e < grp.rows && p.rowKind(g, &grp, e) == key {
				e++
			}
			b0, b1 := 0, last
			if key&1 != 0 {
				b0, b1 = last, len(p.blocks)
			}
			p.prog = append(p.prog, (oy+r)*ow, r*g.StrideH*g.W, e-r, 8*t0, 8*len(p.taps), 8*b0, 8*b1, key>>1)
			r = e
		}
		oy = end
	}
	p.asm = true
	for _, grp := range p.groups {
		p.asm = p.asm && len(grp.taps) > 0
	}
	p.nrow = last
	if g.KH == 3 && g.KW == 3 && g.DilH == 1 && g.DilW == 1 {
		p.plan3(g)
	}
	return p
}

func (p *dwRows) plan3(g *DWGeom) {
	p.k3 = true
	lanes := 8 * g.StrideW
	p.blk3 = append([]int(nil), p.blocks[:p.nrow]...)
	for b := 0; b < len(p.blk3); b += 3 {
		if p.blk3[b+1] != dwBlockMask {
			continue
		}
		partial := 0
		for kj := 0; kj < 3; kj++ {
			for _, m := range p.masks[p.blk3[b+2]/4+16*kj:][:lanes] {
				if m == 0 {
					partial |= 1 << kj
					break
				}
			}
		}
		switch partial {
		case 1:
			p.blk3[b+1] = dwBlockLeft
		case 4:
			p.blk3[b+1] = dwBlockRight
		}
	}
	const margin = 32
	p.zeros = make([]float32, margin+g.W+2*g.PadW+64)
	for oy := 0; oy < g.OH; oy++ {
		var offs [3]int
		flags := 0
		if g.OW < 8 && oy*g.OW+8 > g.OH*g.OW {
			flags |= dw3MaskStore
		}
		for ki := 0; ki < 3; ki++ {
			iy := oy*g.StrideH - g.PadH + ki
			if iy < 0 || iy >= g.H {
				offs[ki] = margin - g.PadW
				flags |= dw3Zero0 << ki
				continue
			}
			offs[ki] = iy*g.W - g.PadW
			for b := 0; b < p.nrow; b += 3 {
				if p.blocks[b+1] < dwBlockMask {
					continue
				}
				if i := offs[ki] + p.blocks[b]*g.StrideW; i < 0 || i+2+p.reach >= g.H*g.W {
					flags |= dw3MaskLoad
				}
			}
		}
		p.rows3 = append(p.rows3, offs[0], offs[1], offs[2], flags)
	}
	p.plan512(g)
}

// dwFlatMax is the widest plane the flat AVX-512 kernel takes (wider ones gain nothing over
// the row kernel).
const dwFlatMax = 15

// planFlat plans dw3FlatAVX512 (eight ints per zmm: first output, the load masks of the three
// kernel rows, the lanes of kernel columns 0 and 2 inside the image, the store mask, 0) on a
// narrow plane at stride 1, padding 1 across, whose every output the AVX2 kernel sums in two
// chains (two[ox]): a row of 7 (MobileNets' last layers) is half a zmm, the flat run fills it.
func (p *dwRows) planFlat(g *DWGeom, two []bool) {
	p.flat = nil
	if g.StrideH != 1 || g.StrideW != 1 || g.PadW != 1 || g.OW != g.W || g.W > dwFlatMax || g.OH+2-2*g.PadH != g.H {
		return
	}
	for _, t := range two {
		if !t {
			return
		}
	}
	n, w, in := g.OH*g.OW, g.W, g.H*g.W
	for o0 := 0; o0 < n; o0 += 16 {
		var c0, c2, st int
		for l := 0; l < 16 && o0+l < n; l++ {
			st |= 1 << l
			if (o0+l)%w != 0 {
				c0 |= 1 << l
			}
			if (o0+l)%w != w-1 {
				c2 |= 1 << l
			}
		}
		p.flat = append(p.flat, o0)
		for ki := 0; ki < 3; ki++ {
			// Lane i (of 18) loads input float o0 + (ki-PadH)*W - 1 + i.
			m := 0
			for i := 0; i < 18; i++ {
				if q := o0 + (ki-g.PadH)*w - 1 + i; q >= 0 && q < in {
					m |= 1 << i
				}
			}
			p.flat = append(p.flat, m)
		}
		p.flat = append(p.flat, c0, c2, st, 0)
	}
}

// Block kinds of the AVX-512 3x3 kernel: one chain of FMAs from the bias (the AVX2 blocks of 32)
// over 64 or 32 outputs with plain loads, or 16 under masks; two chains (its blocks of 8) over 16
// outputs with plain loads or under masks.
const (
	dwZ64 = iota
	dwZ32
	dwZT16
	dwZ16Mask
	dwZT16Mask
)

// plan512 lays out a row of the AVX-512 3x3 kernel (six ints per block: first output column,
// kind, two load masks, 0, store mask). The AVX2 kernel's blocks of 32 sum
// the nine taps in one chain and its blocks of 8 in two, and the last block of a row may overlap
// the one before: each output keeps the arithmetic of the AVX2 block that stored it last, so
// the two kernels agree bit for bit. A block loads under masks (zero outside the image) unless
// every float it loads lies in the input row.
func (p *dwRows) plan512(g *DWGeom) {
	ow, sw := g.OW, g.StrideW
	two := make([]bool, ow)
	for b := 0; b < p.nrow; b += 3 {
		x0, n := p.blocks[b], 8
		if p.blocks[b+1] == dwBlock32 {
			n = 32
		}
		for c := x0; c < min(x0+n, ow); c++ {
			two[c] = p.blocks[b+1] != dwBlock32
		}
	}
	plain := func(x0, n int) bool {
		lo := x0*sw - g.PadW
		return lo >= 0 && lo+n*sw-1+2 < g.W
	}
	p.blk512 = p.blk512[:0]
	p.planFlat(g, two)
	for x := 0; x < ow; {
		e := x + 1
		for e < ow && two[e] == two[x] {
			e++
		}
		for x < e {
			n := e - x
			switch {
			case !two[x] && n >= 64 && plain(x, 64):
				p.blk512 = append(p.blk512, x, dwZ64, 0, 0, 0, 0)
				x += 64
			case !two[x] && n >= 32 && plain(x, 32):
				p.blk512 = append(p.blk512, x, dwZ32, 0, 0, 0, 0)
				x += 32
			case two[x] && n >= 16 && plain(x, 16):
				p.blk512 = append(p.blk512, x, dwZT16, 0, 0, 0, 0)
				x += 16
			default:
				n = min(n, 16)
				kind := dwZ16Mask
				if two[x] {
					kind = dwZT16Mask
				}
				// The input columns of the block's loads inside the image: 16 floats and two
				// more at stride 1, 32 and one more at stride 2.
				var m [2]int
				c0 := x*sw - g.PadW
				for i := 0; i < 16*sw+3-sw; i++ {
					if c := c0 + i; c >= 0 && c < g.W {
						m[i/(16*sw)] |= 1 << (i % (16 * sw))
					}
				}
				p.blk512 = append(p.blk512, x, kind, m[0], m[1], 0, 1<<n-1)
				x += n
			}
		}
	}
}

// rowKind tells, for row r of group grp, whether it takes the block list with a masked store
// (bit 0: a row shorter than 8 whose 8 stored lanes would leave the output plane) and whether
// its masked blocks may load whole (bit 1: every load stays inside the input plane).
func (p *dwRows) rowKind(g *DWGeom, grp *dwGroup, r int) int {
	oy, ow := grp.oy+r, g.OW
	k := 0
	if ow < 8 && oy*ow+8 > g.OH*ow {
		k = 1
	}
	for b := 0; b < len(p.blocks); b += 3 {
		if p.blocks[b+1] < dwBlockMask {
			continue
		}
		for t := 0; t < len(grp.taps); t += 3 {
			i := grp.taps[t] + r*g.StrideH*g.W + p.blocks[b]*g.StrideW
			if i < 0 || i+p.reach >= g.H*g.W {
				return k
			}
		}
	}
	return k | 2
}

// dwRowsPlaneGo is the portable form of the plane kernel.
func dwRowsPlaneGo(g *DWGeom, dst, src, ks []float32, bias float32) {
	for i := range g.rows.groups {
		grp := &g.rows.groups[i]
		dwRowsGo(g, dst[grp.oy*g.OW:], g.OW, grp.rows, src, grp.taps, ks, bias)
	}
}

// dwRowsGo is the portable form of the row kernel: for r < rows and ox < OW,
// dst[r*ldd+ox] = bias + sum over taps t of ks[t.k] * src[r*StrideH*W + t.off + ox*StrideW],
// where input column ox*StrideW + t.kj*DilW - PadW outside [0, W) reads zero.
func dwRowsGo(g *DWGeom, dst []float32, ldd, rows int, src []float32, taps []int, ks []float32, bias float32) {
	if rows <= 0 {
		return
	}
	sw, ow, lds := g.StrideW, g.OW, g.StrideH*g.W
	for r := 0; r < rows; r++ {
		d := dst[r*ldd : r*ldd+ow]
		for i := range d {
			d[i] = bias
		}
		for t := 0; t < len(taps); t += 3 {
			off, col, kv := taps[t]+r*lds, taps[t+1]*g.DilW-g.PadW, ks[taps[t+2]]
			// The output columns whose input column lies in [0, W).
			lo := max(0, (-col+sw-1)/sw)
			hi := 0
			if g.W-1-col >= 0 {
				hi = min(ow, (g.W-1-col)/sw+1)
			}
			for ox := lo; ox < hi; ox++ {
				d[ox] += kv * src[off+ox*sw]
			}
		}
	}
}

// direct reports whether the input plane itself is the only polyphase component.
func (g *DWGeom) direct() bool {
	return g.StrideH == 1 && g.StrideW == 1 && g.PadH == 0 && g.PadW == 0
}

// ScratchLen is the length of the work buffer the plane functions need.
func (g *DWGeom) ScratchLen() int {
	return 2*g.StrideH*g.StrideW*g.ph*g.pw + g.OH*g.pw
}

// wideLen is the length of the wide output that covers every valid output.
func (g *DWGeom) wideLen() int { return (g.OH-1)*g.pw + g.OW }

// tap returns the offset of tap (ki, kj)'s stretch in the polyphase buffer.
func (g *DWGeom) tap(ki, kj int) int {
	a, b := ki*g.DilH, kj*g.DilW
	return ((a%g.StrideH)*g.StrideW+b%g.StrideW)*g.ph*g.pw + (a/g.StrideH)*g.pw + b/g.StrideW
}

// split writes the zero-padded plane's polyphase components into p (returning src itself when
// there is nothing to split). Only the padding is cleared; every image pixel is written once.
func (g *DWGeom) split(src, p []float32) []float32 {
	if g.direct() {
		return src
	}
	sh, sw := g.StrideH, g.StrideW
	comp := g.ph * g.pw
	p = p[:sh*sw*comp]
	for a := 0; a < sh; a++ {
		ilo, ihi := colRange(a-g.PadH, sh, g.H, g.ph)
		for b := 0; b < sw; b++ {
			c := p[(a*sw+b)*comp : (a*sw+b+1)*comp]
			jlo, jhi := colRange(b-g.PadW, sw, g.W, g.pw)
			if jlo >= jhi {
				clear(c)
				continue
			}
			clear(c[:ilo*g.pw])
			clear(c[ihi*g.pw:])
			for i := ilo; i < ihi; i++ {
				clear(c[i*g.pw : i*g.pw+jlo])
				clear(c[i*g.pw+jhi : (i+1)*g.pw])
			}
		}
	}
	if sw <= 2 {
		// The image rows of each row phase a go to one component (two for stride 2 across),
		// at fixed strides: one call per phase.
		for a := 0; a < sh; a++ {
			y0 := ((a-g.PadH)%sh + sh) % sh
			if y0 >= g.H {
				continue
			}
			rows, i0 := (g.H-1-y0)/sh+1, (y0+g.PadH)/sh
			if sw == 1 {
				stridedRows(p[a*comp+i0*g.pw+g.PadW:], g.pw, src[y0*g.W:], sh*g.W, g.W, rows)
				continue
			}
			c0 := g.PadW % 2
			even := p[(a*2+c0)*comp+i0*g.pw+g.PadW/2:]
			odd := p[(a*2+1-c0)*comp+i0*g.pw+(g.PadW+1)/2:]
			deinterleaveRows(even, odd, g.pw, src[y0*g.W:], sh*g.W, g.W, rows)
		}
		return p
	}
	// Wider strides, element by element: image column x goes to component (x + PadW) % sw.
	for y := 0; y < g.H; y++ {
		py := y + g.PadH
		a, i := py%sh, py/sh
		for x, v := range src[y*g.W : (y+1)*g.W] {
			px := x + g.PadW
			p[(a*sw+px%sw)*comp+i*g.pw+px/sw] = v
		}
	}
	return p
}

func stridedRowsGo(dst []float32, ds int, src []float32, ss, w, rows int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*ds:r*ds+w], src[r*ss:r*ss+w])
	}
}

func deinterleaveRowsGo(even, odd []float32, ds int, src []float32, ss, w, rows int) {
	for r := 0; r < rows; r++ {
		for j := 0; 2*j < w; j++ {
			even[r*ds+j] = src[r*ss+2*j]
			if 2*j+1 < w {
				odd[r*ds+j] = src[r*ss+2*j+1]
			}
		}
	}
}

// merge adds the interior of polyphase gradient components p onto the plane gradient dx.
func (g *DWGeom) merge(p, dx []float32) {
	g.phases(func(row []float32, line []float32, jlo, jhi, x int) {
		if g.StrideW == 1 {
			AddTo(line[x:x+jhi-jlo], row[jlo:jhi])
			return
		}
		for j := jlo; j < jhi; j++ {
			line[x] += row[j]
			x += g.StrideW
		}
	}, p, dx)
}

// phases walks every row of every polyphase component that comes from an image row: f gets the
// component row, the image row, the component columns [jlo, jhi) inside the image and the image
// column of jlo (later ones follow StrideW apart).
func (g *DWGeom) phases(f func(row, line []float32, jlo, jhi, x int), p, img []float32) {
	sh, sw := g.StrideH, g.StrideW
	for a := 0; a < sh; a++ {
		ilo, ihi := colRange(a-g.PadH, sh, g.H, g.ph)
		for b := 0; b < sw; b++ {
			base := (a*sw + b) * g.ph * g.pw
			jlo, jhi := colRange(b-g.PadW, sw, g.W, g.pw)
			if jlo >= jhi {
				continue
			}
			x := jlo*sw + b - g.PadW
			for i := ilo; i < ihi; i++ {
				y := i*sh + a - g.PadH
				f(p[base+i*g.pw:base+(i+1)*g.pw], img[y*g.W:(y+1)*g.W], jlo, jhi, x)
			}
		}
	}
}

func (g *DWGeom) check(what string, src, k, dst []float32, mult int) {
	if mult < 1 || g.ph == 0 || len(src) < g.H*g.W || len(k) < mult*g.KH*g.KW || len(dst) < mult*g.OH*g.OW {
		panic(fmt.Sprintf("tensor.%s: buffers too small or geometry not checked (%+v, multiplier %d)", what, *g, mult))
	}
}

// dwPlaneGo is the portable form of dwPlane.
func dwPlaneGo(dst []float32, rows, n int, src []float32, ld int, offs []int, ks []float32, bias float32) {
	for r := 0; r < rows; r++ {
		d, s := dst[r*n:(r+1)*n], src[r*ld:]
		for i := range d {
			d[i] = bias
		}
		for t, off := range offs {
			axpyGo(ks[t], s[off:off+n], d)
		}
	}
}

// DepthwiseForward convolves one input plane src (H x W) with mult kernels k (mult x KH x KW)
// into mult output planes dst (mult x OH x OW), each starting from bias[m] (or zero when bias is
// nil). work has at least ScratchLen floats. Each output row is one pass of dwPlane, which keeps
// a stretch of outputs in registers while it adds every tap.
func DepthwiseForward(g *DWGeom, src, k, bias, dst, work []float32, mult int) {
	g.check("DepthwiseForward", src, k, dst, mult)
	kk, op := g.KH*g.KW, g.OH*g.OW
	if p := g.rows; p != nil {
		// Straight from the input plane (no padded or deinterleaved copy), into dst.
		for m := 0; m < mult; m++ {
			var b float32
			if bias != nil {
				b = bias[m]
			}
			dwRowsPlane(g, dst[m*op:(m+1)*op], src, k[m*kk:(m+1)*kk], b)
		}
		return
	}
	np := g.StrideH * g.StrideW * g.ph * g.pw
	p := g.split(src, work[:np])
	var offBuf [64]int
	offs := offBuf[:0]
	if kk > len(offBuf) {
		offs = make([]int, 0, kk)
	}
	for ki := 0; ki < g.KH; ki++ {
		for kj := 0; kj < g.KW; kj++ {
			offs = append(offs, g.tap(ki, kj))
		}
	}
	for m := 0; m < mult; m++ {
		km := k[m*kk : (m+1)*kk]
		var b float32
		if bias != nil {
			b = bias[m]
		}
		dwPlane(dst[m*g.OH*g.OW:(m+1)*g.OH*g.OW], g.OH, g.OW, p, g.pw, offs, km, b)
	}
}

// DWTail is the elementwise tail of a depthwise layer at inference (a folded batch norm and a
// ReLU, or a quantized network's requantization), applied by DepthwiseForwardTail as each
// output is stored rather than in a second pass over the output.
type DWTail struct {
	// Requant rounds to integer levels: min(max(round(y*A[m]), Lo), Hi) + 0, bit for bit
	// AffineClampQuant(y, y, 0, A[m], 0, -Inf, +Inf, 1, zp, qmin, qmax) with Lo = qmin - zp and
	// Hi = qmax - zp. Otherwise the tail is min(max(y*A[m] + C[m], Lo), Hi), bit for bit
	// AffineClamp(y, y, 0, A[m], C[m], Lo, Hi).
	Requant bool
	A, C    []float32 // per output plane m (C unused with Requant)
	Lo, Hi  float32
}

// dwTail is one plane's tail as the kernel reads it: a, c, lo and hi, each over 8 lanes.
type dwTail struct {
	mode int // 1 requantization, 2 affine map and clamp
	v    [32]float32
}

// FusesTail reports whether DepthwiseForwardTail can run on this geometry (the 3x3 kernel,
// AVX2).
func (g *DWGeom) FusesTail() bool { return g.fusesTail() }

// DepthwiseForwardTail is DepthwiseForward with the tail t applied to each output as it is
// stored. Only where FusesTail.
func DepthwiseForwardTail(g *DWGeom, src, k, bias, dst []float32, mult int, t *DWTail) {
	g.check("DepthwiseForwardTail", src, k, dst, mult)
	if !g.fusesTail() || len(t.A) < mult || (!t.Requant && len(t.C) < mult) {
		panic(fmt.Sprintf("tensor.DepthwiseForwardTail: geometry %+v cannot fuse, or too few coefficients for %d planes", *g, mult))
	}
	// Every plane reads the same input.
	DepthwiseForwardTailPlanes(g, src, 0, k, bias, dst, g.OH*g.OW, mult, t)
}

// DepthwiseForwardTailPlanes is DepthwiseForwardTail (multiplier 1) on planes planes at once:
// plane i reads src[i*srcStride:], the kernel k[i*KH*KW:] and bias[i] (bias may be nil), writes
// dst[i*dstStride:] with the tail's A[i] (and C[i]). One call for a group of planes spares the
// per-call set-up that dominates small planes (a band of a few rows).
func DepthwiseForwardTailPlanes(g *DWGeom, src []float32, srcStride int, k, bias, dst []float32, dstStride, planes int, t *DWTail) {
	if planes <= 0 {
		return
	}
	kk := g.KH * g.KW
	if g.ph == 0 || !g.fusesTail() || len(src) < (planes-1)*srcStride+g.H*g.W || len(k) < planes*kk ||
		len(dst) < (planes-1)*dstStride+g.OH*g.OW || len(t.A) < planes || (!t.Requant && len(t.C) < planes) || (bias != nil && len(bias) < planes) {
		panic(fmt.Sprintf("tensor.DepthwiseForwardTailPlanes: geometry %+v cannot fuse, or buffers too small for %d planes", *g, planes))
	}
	var pt dwTail
	pt.mode = 2
	if t.Requant {
		pt.mode = 1
	}
	for i := 0; i < 8; i++ {
		pt.v[16+i], pt.v[24+i] = t.Lo, t.Hi
	}
	op, ip := g.OH*g.OW, g.H*g.W
	for m := 0; m < planes; m++ {
		var b, c float32
		if bias != nil {
			b = bias[m]
		}
		if !t.Requant {
			c = t.C[m]
		}
		for i := 0; i < 8; i++ {
			pt.v[i], pt.v[8+i] = t.A[m], c
		}
		dwRowsPlaneTail(g, dst[m*dstStride:m*dstStride+op], src[m*srcStride:m*srcStride+ip], k[m*kk:(m+1)*kk], b, &pt)
	}
}

// DepthwiseBackward is the adjoint of DepthwiseForward for one input plane: given the mult
// output-gradient planes dy, it adds the kernel gradients into dk (mult x KH x KW) and, when dx
// is not nil, adds the input-plane gradient into dx (H x W). work has at least ScratchLen floats.
func DepthwiseBackward(g *DWGeom, src, k, dy, dk, dx, work []float32, mult int) {
	g.check("DepthwiseBackward", src, k, dy, mult)
	np := g.StrideH * g.StrideW * g.ph * g.pw
	p := g.split(src, work[:np])
	dp := work[np : 2*np]
	if dx != nil {
		if g.direct() {
			dp = dx[:g.H*g.W]
		} else {
			clear(dp)
		}
	}
	wide := work[2*np : 2*np+g.OH*g.pw]
	n := g.wideLen()
	kk := g.KH * g.KW
	for m := 0; m < mult; m++ {
		d := dy[m*g.OH*g.OW : (m+1)*g.OH*g.OW]
		for oy := 0; oy < g.OH; oy++ {
			copy(wide[oy*g.pw:oy*g.pw+g.OW], d[oy*g.OW:(oy+1)*g.OW])
			if oy+1 < g.OH {
				clear(wide[oy*g.pw+g.OW : (oy+1)*g.pw])
			}
		}
		w := wide[:n]
		km, dkm := k[m*kk:(m+1)*kk], dk[m*kk:(m+1)*kk]
		for ki := 0; ki < g.KH; ki++ {
			for kj := 0; kj < g.KW; kj++ {
				off := g.tap(ki, kj)
				dkm[ki*g.KW+kj] += dot(w, p[off:off+n])
				if dx != nil {
					axpy(km[ki*g.KW+kj], w, dp[off:off+n])
				}
			}
		}
	}
	if dx != nil && !g.direct() {
		g.merge(dp, dx)
	}
}

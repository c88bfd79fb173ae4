package nn

// SetDepthwiseDirect switches Conv2D's depthwise routing for tests that compare it with the
// im2col path; it returns a function restoring the previous setting.
func SetDepthwiseDirect(on bool) func() {
	old := depthwiseDirect
	depthwiseDirect = on
	return func() { depthwiseDirect = old }
}

// FusedChains lists, for an inference pass keeping the named layers, each fused chain as its
// head followed by the absorbed layers.
func FusedChains(g *Graph, keep ...string) [][]string {
	ks := map[int]bool{g.index[g.OutputName()]: true}
	for _, k := range keep {
		ks[g.index[k]] = true
	}
	plan, _ := g.fusePlan(ks, g.liveNodes(ks))
	var out [][]string
	for _, i := range g.order {
		if f := plan[i]; f != nil {
			c := []string{g.Nodes[i].Name}
			for _, j := range f.nodes {
				c = append(c, g.Nodes[j].Name)
			}
			out = append(out, c)
		}
	}
	return out
}

// SetConvColBlock sets the column block of Conv2D's per-sample GEMMs; it returns a function
// restoring the previous value.
func SetConvColBlock(n int) func() {
	old := convColBlock
	convColBlock = n
	return func() { convColBlock = old }
}

// SetIntGemm switches the integer GEMM of convolutions on integer levels; it returns a function
// restoring the previous setting.
func SetIntGemm(on bool) func() {
	old := intGemm
	intGemm = on
	return func() { intGemm = old }
}

// HasPackedLevels reports whether the convolution holds weights packed for the integer GEMM
// from an earlier forward pass.
func HasPackedLevels(cv *Conv2D) bool { return cv.qw.Load() != nil }

// IntGemmSplits counts the samples whose integer GEMM was split over goroutines.
func IntGemmSplits() int64 { return qSplits.Load() }

// IntGemmLeftovers counts the groups of samples whose leftover columns ran as one integer GEMM.
func IntGemmLeftovers() int64 { return qLeftovers.Load() }

// SetPairDW switches the depth-first run of a 1x1 convolution and the depthwise one after it;
// it returns a function restoring the previous setting.
func SetPairDW(on bool) func() {
	old := pairDW
	pairDW = on
	return func() { pairDW = old }
}

// PairedHeads lists, for an inference pass keeping the named layers, each pair's 1x1 and
// depthwise convolutions and the projection after them ("" for none).
func PairedHeads(g *Graph, keep ...string) [][3]string {
	ks := map[int]bool{g.index[g.OutputName()]: true}
	for _, k := range keep {
		ks[g.index[k]] = true
	}
	live := g.liveNodes(ks)
	plan, _ := g.fusePlan(ks, live)
	var out [][3]string
	for _, i := range g.order {
		if p, ok := g.pairPlan(plan, ks, live)[i]; ok {
			proj := ""
			if p.proj >= 0 {
				proj = g.Nodes[p.proj].Name
			}
			out = append(out, [3]string{g.Nodes[i].Name, g.Nodes[p.dw].Name, proj})
		}
	}
	return out
}

// SetPairBudget sets the band buffer of the depth-first pairs (floats); it returns a function
// restoring the previous value.
func SetPairBudget(n int) func() {
	old := pairBudget
	pairBudget = n
	return func() { pairBudget = old }
}

// PairRuns is the number of depth-first pairs run so far, and of those with the projection.
func PairRuns() (int64, int64) { return pairRuns.Load(), pairProjRuns.Load() }

// SetPairProjBudget sets the band of depthwise outputs kept for a pair's projection (floats);
// it returns a function restoring the previous value.
func SetPairProjBudget(n int) func() {
	old := pairProjBudget
	pairProjBudget = n
	return func() { pairProjBudget = old }
}

// SetImplicit switches the implicit-GEMM forward pass on or off, and with all makes it take
// every size of convolution; the returned function restores both.
func SetImplicit(on, all bool) func() {
	old, oldAll := convImplicit, convImplicitAll
	convImplicit, convImplicitAll = on, all
	return func() { convImplicit, convImplicitAll = old, oldAll }
}

// ImplicitPasses reports how many forward passes ran on the implicit GEMM.
func ImplicitPasses() int64 { return implicitPasses.Load() }

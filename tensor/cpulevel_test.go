package tensor

import (
	"fmt"
	"iter"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// forEachLevel runs f as a subtest at every kernel level this CPU can run, the best first, and
// restores the level afterwards.
func forEachLevel(t *testing.T, f func(t *testing.T, l KernelLevel)) {
	t.Helper()
	saved := CurrentKernelLevel()
	defer func() {
		if err := SetKernelLevel(saved); err != nil {
			t.Error(err)
		}
	}()
	for _, l := range AvailableKernelLevels() {
		if err := SetKernelLevel(l); err != nil {
			t.Fatal(err)
		}
		t.Run("kernels="+l.String(), func(t *testing.T) { f(t, l) })
	}
}

// eachLevel sets every kernel level this CPU can run in turn, the best first, yielding whether
// it runs the AVX2 assembly (avx2 or avx512), and restores the level when the loop ends.
func eachLevel(t testing.TB) iter.Seq[bool] {
	return func(yield func(bool) bool) {
		saved := CurrentKernelLevel()
		defer func() {
			if err := SetKernelLevel(saved); err != nil {
				t.Error(err)
			}
		}()
		for _, l := range AvailableKernelLevels() {
			if err := SetKernelLevel(l); err != nil {
				t.Fatal(err)
			}
			if !yield(l >= KernelsAVX2) {
				return
			}
		}
	}
}

func TestKernelLevelSwitch(t *testing.T) {
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	if got, want := MaxKernelLevel() >= KernelsAVX2, haveAsmAVX2 && DetectCPU().AVX2 && DetectCPU().FMA; got != want {
		t.Fatalf("max level %s with assembly %v and CPU %s", MaxKernelLevel(), haveAsmAVX2, DetectCPU())
	}
	if KernelEnvError() == nil && os.Getenv(KernelsEnv) == "" && saved != MaxKernelLevel() {
		t.Fatalf("started at %s, best is %s", saved, MaxKernelLevel())
	}
	levels := AvailableKernelLevels()
	if levels[0] != MaxKernelLevel() || levels[len(levels)-1] != KernelsGeneric {
		t.Fatalf("available %v", levels)
	}
	for _, l := range levels {
		if err := SetKernelLevel(l); err != nil {
			t.Fatal(err)
		}
		if CurrentKernelLevel() != l || useAVX2 != (l >= KernelsAVX2) || useAVX512 != (l == KernelsAVX512) {
			t.Fatalf("level %s: current %s, useAVX2 %v, useAVX512 %v", l, CurrentKernelLevel(), useAVX2, useAVX512)
		}
		if p, err := ParseKernelLevel(" " + strings.ToUpper(l.String())); err != nil || p != l {
			t.Fatalf("parse %q: %v %v", l, p, err)
		}
	}
	if err := SetKernelLevel(KernelLevel(7)); err == nil || CurrentKernelLevel() != KernelsGeneric {
		t.Fatalf("level 7: %v, now %s", err, CurrentKernelLevel())
	}
	if MaxKernelLevel() < KernelsAVX2 {
		if err := SetKernelLevel(KernelsAVX2); err == nil || !strings.Contains(err.Error(), "not available") {
			t.Fatalf("avx2 on a machine without it: %v", err)
		}
	}
	if MaxKernelLevel() < KernelsAVX512 {
		if err := SetKernelLevel(KernelsAVX512); err == nil || !strings.Contains(err.Error(), "not available") {
			t.Fatalf("avx512 on a machine without it: %v", err)
		}
	}
	if _, err := ParseKernelLevel("avx1024"); err == nil || !strings.Contains(err.Error(), "generic, avx2, avx512") {
		t.Fatalf("avx1024 parsed: %v", err)
	}
	s := KernelSummary()
	for _, want := range []string{"kernels=generic", "avx512f", "available: " + MaxKernelLevel().String()} {
		if !strings.Contains(s, want) {
			t.Errorf("summary %q lacks %q", s, want)
		}
	}
}

// TestKernelEnv runs this test binary again with $VENTRAL_KERNELS set: a level is applied at
// start-up, an unknown one is reported by KernelEnvError and leaves the best level.
func TestKernelEnv(t *testing.T) {
	if os.Getenv("VENTRAL_KERNELS_CHILD") != "" {
		fmt.Printf("LEVEL %s ERR %v\n", CurrentKernelLevel(), KernelEnvError())
		return
	}
	for _, c := range []struct{ env, want string }{
		{"generic", "LEVEL generic ERR <nil>"},
		{"AVX2", map[bool]string{true: "LEVEL avx2 ERR <nil>", false: "not available"}[MaxKernelLevel() >= KernelsAVX2]},
		{"avx512", map[bool]string{true: "LEVEL avx512 ERR <nil>", false: "not available"}[MaxKernelLevel() == KernelsAVX512]},
		{"avx1024", "LEVEL " + MaxKernelLevel().String() + ` ERR $VENTRAL_KERNELS="avx1024": unknown kernel level`},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestKernelEnv$")
		cmd.Env = append(os.Environ(), "VENTRAL_KERNELS_CHILD=1", KernelsEnv+"="+c.env)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), c.want) {
			t.Errorf("%s=%s: %v\n%s\nwant %q", KernelsEnv, c.env, err, out, c.want)
		}
	}
}

// TestKernelLevelsAgree runs the kernels' public entry points at every level on the same inputs
// and compares each level with the best one: bit for bit where the package promises identical
// bits (elementwise ops, fused epilogues, Adam, integer GEMM), within float32 rounding of the
// summation order elsewhere (GEMM, dot products, axpy with or without FMA).
func TestKernelLevelsAgree(t *testing.T) {
	if len(AvailableKernelLevels()) < 2 {
		t.Skip("one kernel level on this machine: ", KernelSummary())
	}
	r := rand.New(rand.NewPCG(13, 13))
	vec := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		return x
	}
	type run struct {
		name  string
		exact bool
		f     func() []float32
	}
	a, b := vec(300*700), vec(700*260)
	x, y, z := vec(1027), vec(1027), vec(1027)
	plane := vec(33 * 35)
	qa, qb := make([]float32, 20*50), make([]float32, 50*70)
	for i := range qa {
		qa[i] = float32(r.IntN(2*QGemmMaxLevel+1) - QGemmMaxLevel)
	}
	for i := range qb {
		qb[i] = float32(r.IntN(2*QGemmMaxLevel+1) - QGemmMaxLevel)
	}
	c1, c2, c3 := vec(300*260), vec(37*45), vec(7*9)
	clone := func(c []float32) []float32 { return append([]float32(nil), c...) }
	adam := AdamParams{Beta1: 0.9, Beta2: 0.999, WD: 1e-4, StepSize: 1e-3, BC2: 0.3, Eps: 1e-8}
	runs := []run{
		{"Sgemm 300x260x700 threaded", false, func() []float32 {
			defer SetThreads(Threads())
			SetThreads(2)
			c := clone(c1)
			Sgemm(false, false, 300, 260, 700, 0.5, a, 700, b, 260, 0.25, c, 260)
			return c
		}},
		{"Sgemm A^T B^T edges", false, func() []float32 {
			c := clone(c2)
			Sgemm(true, true, 37, 45, 29, 1, a, 37, b, 29, 1, c, 45)
			return c
		}},
		{"SgemmABt", false, func() []float32 {
			c := clone(c3)
			SgemmABt(7, 9, 300, a, 300, b, 300, c, 9)
			return c
		}},
		{"Dot Axpy", false, func() []float32 {
			o := append([]float32(nil), y...)
			Axpy(0.7, x, o)
			return append(o, Dot(x, y))
		}},
		{"ReluTo ReluGradTo AddTo AddConstTo AddConstCopy MaxTo", true, func() []float32 {
			o := make([]float32, 6*len(x))
			ReluTo(o, x)
			ReluGradTo(o[1027:2054], y, o[:1027])
			copy(o[2054:], z)
			AddTo(o[2054:3081], x)
			AddConstTo(o[2054:3081], -0.3, true)
			AddConstCopy(o[3081:4108], y, 0.2)
			MaxTo(o[4108:5135], x, y)
			return o
		}},
		{"CopyRows AddRows", true, func() []float32 {
			o := make([]float32, 9*40)
			CopyRows(o, x, 9, 37, 40)
			AddRows(o, 40, y, 9, 37)
			return o
		}},
		{"MaxPool2x2 and its gradient, MaxPoolPlane", true, func() []float32 {
			dst, arg := make([]float32, 16*17), make([]float32, 16*17)
			MaxPool2x2(plane, 35, 16, 17, dst, arg)
			dx := make([]float32, 33*35)
			MaxPool2x2Grad(dx, 35, 33, 16, 17, x[:16*17], arg)
			p := make([]float32, 11*12)
			MaxPoolPlane(plane, 33, 35, 3, 3, 1, 1, 3, 3, 11, 12, p, make([]float32, 35))
			return append(append(dst, dx...), p...)
		}},
		{"AffineClamp FakeQuant AffineClampQuant", true, func() []float32 {
			o := make([]float32, 3*len(x))
			AffineClamp(o, x, 0.1, 1.7, -0.2, 0, 6)
			FakeQuant(o[1027:2054], y, 0.05, 3, -128, 127)
			AffineClampQuant(o[2054:], z, 0.1, 1.7, -0.2, 0, 6, 0.05, 3, -128, 127)
			return o
		}},
		{"AdamUpdate", true, func() []float32 {
			w, m, v := append([]float32(nil), x...), append([]float32(nil), y...), make([]float32, len(x))
			for i := range v {
				v[i] = z[i] * z[i]
			}
			AdamUpdate(w, y, m, v, adam)
			return append(append(w, m...), v...)
		}},
		{"QGemm", true, func() []float32 {
			var pa QPackedA
			var pb QPackedB
			if !PackQA(&pa, 20, 50, qa, 50) || !PackQB(&pb, 50, 70, qb, 70) {
				t.Fatal("integer levels rejected")
			}
			c := make([]float32, 20*70)
			QGemm(&pa, &pb, c, 70)
			return c
		}},
	}
	saved := CurrentKernelLevel()
	defer SetKernelLevel(saved)
	for _, rn := range runs {
		var ref []float32
		for _, l := range AvailableKernelLevels() {
			if err := SetKernelLevel(l); err != nil {
				t.Fatal(err)
			}
			got := rn.f()
			if ref == nil {
				ref = got
				continue
			}
			for i := range got {
				g, w := got[i], ref[i]
				if rn.exact {
					if math.Float32bits(g) != math.Float32bits(w) {
						t.Fatalf("%s: %s gives %g at %d, %s gives %g (must be identical)", rn.name, l, g, i, AvailableKernelLevels()[0], w)
					}
				} else if math.Abs(float64(g-w)) > 1e-5*(1+math.Abs(float64(w)))*30 {
					t.Fatalf("%s: %s gives %g at %d, %s gives %g", rn.name, l, g, i, AvailableKernelLevels()[0], w)
				}
			}
		}
	}
}

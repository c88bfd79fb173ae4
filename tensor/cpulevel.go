package tensor

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/cpu"
)

// Kernel levels: which instruction-set family the kernels of this package use. This file is the
// one place that decides. Every assembly switch in the package reads useAVX2, which only
// setKernelLevel writes; the level starts at the best one this build and CPU can run, or at the
// one named by $VENTRAL_KERNELS, and tests force each level with SetKernelLevel.
//
// The avx512 level keeps every AVX2 path and replaces the kernels that gain from 512-bit vectors
// (the float GEMM micro-kernels, the integer GEMM with VNNI): useAVX512 implies useAVX2. Its
// kernels keep the AVX2 kernels' order of arithmetic, so the two levels agree bit for bit.

// KernelLevel is an instruction-set family of kernels, ordered from the most portable.
type KernelLevel int

const (
	// KernelsGeneric is pure Go: every platform, and the reference the assembly is tested against.
	KernelsGeneric KernelLevel = iota
	// KernelsAVX2 is the amd64 assembly using AVX2 and FMA3 (256-bit vectors).
	KernelsAVX2
	// KernelsAVX512 is AVX2 plus kernels in AVX-512 (F, BW, DQ, VL) and AVX512-VNNI, 512-bit
	// vectors in 32 registers.
	KernelsAVX512
)

// KernelsEnv names the environment variable read at start-up to force a lower kernel level.
const KernelsEnv = "VENTRAL_KERNELS"

var kernelLevelNames = [...]string{KernelsGeneric: "generic", KernelsAVX2: "avx2", KernelsAVX512: "avx512"}

func (l KernelLevel) String() string {
	if l >= 0 && int(l) < len(kernelLevelNames) {
		return kernelLevelNames[l]
	}
	return fmt.Sprintf("KernelLevel(%d)", int(l))
}

// ParseKernelLevel reads a level name ("generic", "avx2", "avx512").
func ParseKernelLevel(s string) (KernelLevel, error) {
	for l, name := range kernelLevelNames {
		if strings.EqualFold(strings.TrimSpace(s), name) {
			return KernelLevel(l), nil
		}
	}
	return 0, fmt.Errorf("unknown kernel level %q (known: %s)", s, strings.Join(kernelLevelNames[:], ", "))
}

// MaxKernelLevel is the best level this build can run on this CPU: avx2 needs the amd64
// assembly (not the purego build tag) and a CPU with both AVX2 and FMA; avx512 also needs
// AVX-512 F, BW, DQ, VL and VNNI (with the operating system saving the 512-bit registers).
func MaxKernelLevel() KernelLevel {
	if !haveAsmAVX2 || !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		return KernelsGeneric
	}
	if hasAVX512() {
		return KernelsAVX512
	}
	return KernelsAVX2
}

func hasAVX512() bool {
	x := cpu.X86
	return x.HasAVX512F && x.HasAVX512BW && x.HasAVX512DQ && x.HasAVX512VL && x.HasAVX512VNNI
}

// AvailableKernelLevels lists the levels this build and CPU can run, the best first.
func AvailableKernelLevels() []KernelLevel {
	var out []KernelLevel
	for l := MaxKernelLevel(); l >= KernelsGeneric; l-- {
		out = append(out, l)
	}
	return out
}

var (
	kernelLevel KernelLevel
	// useAVX2 is the switch every AVX2 code path reads (a plain bool: it is read in the hottest
	// loops). Only setKernelLevel writes it.
	useAVX2 bool
	// useAVX512 switches the AVX-512 kernels on; it is only ever true with useAVX2.
	useAVX512    bool
	kernelEnvErr error
)

func init() {
	l := MaxKernelLevel()
	if s := os.Getenv(KernelsEnv); s != "" {
		want, err := ParseKernelLevel(s)
		if err == nil {
			err = checkKernelLevel(want)
		}
		if err != nil {
			// A package cannot fail its initialisation: keep the best level and let the
			// command line refuse to run (KernelEnvError), so that a benchmark never reports
			// figures of a level other than the one asked for.
			kernelEnvErr = fmt.Errorf("$%s=%q: %w", KernelsEnv, s, err)
		} else {
			l = want
		}
	}
	setKernelLevel(l)
}

func checkKernelLevel(l KernelLevel) error {
	if l < KernelsGeneric || int(l) >= len(kernelLevelNames) {
		return fmt.Errorf("unknown kernel level %d", int(l))
	}
	if best := MaxKernelLevel(); l > best {
		why := "this CPU lacks AVX2 or FMA"
		if best == KernelsAVX2 {
			why = "this CPU lacks AVX-512 F, BW, DQ, VL or VNNI"
		}
		if !haveAsmAVX2 {
			why = "this build has no amd64 assembly (other architecture or the purego tag)"
		}
		return fmt.Errorf("kernel level %s is not available: %s (best here: %s)", l, why, best)
	}
	return nil
}

func setKernelLevel(l KernelLevel) {
	kernelLevel = l
	useAVX2 = l >= KernelsAVX2
	useAVX512 = l >= KernelsAVX512
}

// SetKernelLevel switches every kernel of the package to level l (for tests and benchmarks that
// compare levels); a level this build or CPU cannot run is an error and changes nothing. It must
// not be called while other goroutines run tensor kernels.
func SetKernelLevel(l KernelLevel) error {
	if err := checkKernelLevel(l); err != nil {
		return err
	}
	setKernelLevel(l)
	return nil
}

// CurrentKernelLevel is the level the kernels use now.
func CurrentKernelLevel() KernelLevel { return kernelLevel }

// KernelEnvError is the error of a bad $VENTRAL_KERNELS (an unknown level, or one this CPU
// lacks), nil when it is unset or was applied. Commands should refuse to run when it is set.
func KernelEnvError() error { return kernelEnvErr }

// CPUFeatures are the instruction-set features that matter to the kernels.
type CPUFeatures struct {
	AVX2, FMA                       bool
	AVX512F, AVX512VNNI, AVX512BF16 bool
}

// DetectCPU reports the CPU's features (all false off x86).
func DetectCPU() CPUFeatures {
	return CPUFeatures{
		AVX2: cpu.X86.HasAVX2, FMA: cpu.X86.HasFMA,
		AVX512F: cpu.X86.HasAVX512F, AVX512VNNI: cpu.X86.HasAVX512VNNI, AVX512BF16: cpu.X86.HasAVX512BF16,
	}
}

// String lists the features as "+name" (present) or "-name" (absent).
func (c CPUFeatures) String() string {
	var b strings.Builder
	for i, f := range []struct {
		name string
		on   bool
	}{{"avx2", c.AVX2}, {"fma", c.FMA}, {"avx512f", c.AVX512F}, {"avx512vnni", c.AVX512VNNI}, {"avx512bf16", c.AVX512BF16}} {
		if i > 0 {
			b.WriteByte(' ')
		}
		if f.on {
			b.WriteByte('+')
		} else {
			b.WriteByte('-')
		}
		b.WriteString(f.name)
	}
	return b.String()
}

// KernelSummary is one line for benchmark headers: the level in use, the levels available and
// the CPU features, e.g. "kernels=avx2 (available: avx2 generic) cpu: +avx2 +fma -avx512f
// -avx512vnni -avx512bf16".
func KernelSummary() string {
	var avail []string
	for _, l := range AvailableKernelLevels() {
		avail = append(avail, l.String())
	}
	return fmt.Sprintf("kernels=%s (available: %s) cpu: %s", CurrentKernelLevel(), strings.Join(avail, " "), DetectCPU())
}

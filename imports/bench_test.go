package imports

import (
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/nn"
	"github.com/ventral-lab/ventral/tensor"
)

// BenchmarkQuantizedMobileNetV2 times the int8 ONNX MobileNetV2 (exact integer simulation) at
// batch 16, 224 px, the workload of `ventral bench import`; cpu-ms/op is the CPU time per batch,
// steadier than wall time on a shared machine. Profile at one thread with GOMAXPROCS=1.
func BenchmarkQuantizedMobileNetV2(b *testing.B) { benchQuantizedMobileNetV2(b, 16) }

// BenchmarkQuantizedMobileNetV2OneImage is the same at batch 1, where the convolutions split
// each sample's GEMM over the threads (run with -cpu 2 to see it).
func BenchmarkQuantizedMobileNetV2OneImage(b *testing.B) { benchQuantizedMobileNetV2(b, 1) }

func benchQuantizedMobileNetV2(b *testing.B, batch int) {
	m, err := Named("mobilenetv2-imagenet-onnx")
	if err != nil {
		b.Skip(err)
	}
	benchGraph(b, m.Graph, batch)
}

// benchGraph times g's forward pass at inference on a seeded random batch.
func benchGraph(b *testing.B, g *nn.Graph, batch int) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := tensor.New(append([]int{batch}, g.InputShape...)...)
	for i := range x.Data {
		x.Data[i] = float32(rng.NormFloat64())
	}
	ctx := nn.NewCtx(false, 1)
	// One untimed pass: weights packed or transformed once, scratch buffers allocated.
	if _, err := g.Forward(ctx, x); err != nil {
		b.Fatal(err)
	}
	ctx.Reset()
	c0 := cpuNow()
	for b.Loop() {
		if _, err := g.Forward(ctx, x); err != nil {
			b.Fatal(err)
		}
		ctx.Reset()
	}
	b.ReportMetric(float64(cpuNow()-c0)/1e6/float64(b.N), "cpu-ms/op")
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkResNet18 times torchvision's ResNet-18 (float, exported to ONNX by
// bench/peers/export_resnet18.py, as `ventral bench import` does) at batch 16, 224 px. The
// export needs torch and torchvision: skipped without them, failed under CI. Set
// VENTRAL_RESNET18_ONNX to an exported file to skip the export (repeated runs).
func BenchmarkResNet18(b *testing.B) {
	path := os.Getenv("VENTRAL_RESNET18_ONNX")
	if path == "" {
		path = filepath.Join(b.TempDir(), "resnet18.onnx")
		out, err := exec.Command("/usr/bin/python3", "../bench/peers/export_resnet18.py", path).CombinedOutput()
		if err != nil {
			if os.Getenv("CI") != "" {
				b.Fatalf("exporting ResNet-18 (needs torch and torchvision): %v: %s", err, out)
			}
			b.Skipf("exporting ResNet-18 (needs torch and torchvision): %v", err)
		}
	}
	m, err := Load(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	benchGraph(b, m.Graph, 16)
}

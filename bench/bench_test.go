package bench

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/datasets"
)

func TestParsePeer(t *testing.T) {
	out := "# torch 1.13.0 threads=1\nPEER cifar-cnn-train 412.5\nPEER alexnet-infer 30.1\n"
	if v, err := parsePeer(out, "PEER alexnet-infer "); err != nil || v != 30.1 {
		t.Errorf("PEER line: %v %v", v, err)
	}
	lenet := "step 0 loss=2.3\nTRAIN: steps=937 bs=64 first_step=0.010s steady: 936 steps in 3.50s wall => 17115.4 img/s (median step 3.60 ms => 17777.8 img/s; mean step 3.7 ms, p90 4.1 ms)\n"
	if v, err := parsePeer(lenet, "TRAIN:"); err != nil || v != 17777.8 {
		t.Errorf("TRAIN line: %v %v", v, err)
	}
	if _, err := parsePeer("garbage", "PEER x "); err == nil {
		t.Error("missing line accepted")
	}
}

func TestTimeStepsMedianAndErrors(t *testing.T) {
	n := 0
	med, err := timeSteps(func() error { n++; time.Sleep(time.Millisecond); return nil }, 2, 0)
	if err != nil || n != 7 || med < time.Millisecond || med > 50*time.Millisecond {
		t.Errorf("median %v after %d calls, err %v", med, n, err)
	}
	boom := errors.New("boom")
	if _, err := timeSteps(func() error { return boom }, 1, 0); !errors.Is(err, boom) {
		t.Errorf("error not propagated: %v", err)
	}
}

func TestResultLineAndUnknownWorkload(t *testing.T) {
	r := Result{Name: "cornetz-infer", ImagesPerS: 50, PeerImagesPerS: 40}
	if got := r.String(); got != "BENCH cornetz-infer 50.0 peer=40.0 ratio=1.25" {
		t.Errorf("line %q", got)
	}
	r.FLOPsPerImage, r.PeakGFLOPS = 2e9, 400
	if got := r.String(); got != "BENCH cornetz-infer 50.0 peer=40.0 ratio=1.25 gflops=100.0 of_peak=0.25 peer_of_peak=0.20" {
		t.Errorf("line %q", got)
	}
	if _, err := Engine(Options{Only: "resnet"}, nil); err == nil || !strings.Contains(err.Error(), "cifar-cnn-train") {
		t.Errorf("unknown workload: %v", err)
	}
}

func TestParsePLSPeer(t *testing.T) {
	out := "PEER sklearn-pls25-10fold n=1200 p=4096 q=100 seconds=61.20 median_r=0.1370 maxrss_MB=227\n"
	s, r, m, err := parsePLSPeer(out)
	if err != nil || s != 61.2 || r != 0.137 || m != 227 {
		t.Errorf("parsed %v %v %v %v", s, r, m, err)
	}
	if _, _, _, err := parsePLSPeer("nothing"); err == nil {
		t.Error("missing line accepted")
	}
	if (PLSResult{PeerSeconds: 30}).Speedup() != 0 {
		t.Error("speedup without our time")
	}
}

// TestImportSmoke runs the imported-network workload briefly (one thread, batch 2) beside
// onnxruntime when it is installed: the import works and both figures are positive.
func TestImportSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("imports MobileNetV2")
	}
	if _, err := datasets.Resolve("onnx-mobilenetv2-int8", "mobilenetv2-12-int8.onnx"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	_, ortErr := ORTDir("")
	if ortErr != nil && os.Getenv("CI") != "" {
		t.Fatal(ortErr)
	}
	res, err := Import(ImportOptions{Threads: []int{1}, Batch: 2, MinTime: 200 * time.Millisecond, Only: "mobilenetv2-int8-onnx", NoPeer: ortErr != nil}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// With the peers, a second row puts the same figure beside PyTorch (torchvision float32).
	want := 1
	if ortErr == nil {
		want = 2
	}
	if len(res) != want || !(res[0].ImagesPerS > 0) || (ortErr == nil && !(res[0].PeerImagesPerS > 0)) {
		t.Fatalf("results %+v", res)
	}
	if want == 2 {
		torch := res[1]
		if torch.Name != res[0].Name+"-vs-torch" || torch.ImagesPerS != res[0].ImagesPerS {
			t.Fatalf("PyTorch row %+v", torch)
		}
		if torch.PeerErr != nil && os.Getenv("CI") != "" {
			t.Fatal(torch.PeerErr)
		}
		t.Log(torch)
	}
	t.Log(res[0])
}

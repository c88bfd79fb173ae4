package tensor

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
)

func TestTableTmp(t *testing.T) {
	if os.Getenv("TABLE") == "" {
		t.Skip()
	}
	for _, th := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(th)
		SetThreads(th)
		for _, r := range GemmTable(DefaultGemmShapes(), 300*time.Millisecond) {
			fmt.Printf("T%d %-16s %4dx%5dx%4d ours %6.1f gonum %5.1f | cpu ours %6.1f gonum %5.1f\n", th, r.Name, r.M, r.N, r.K, r.OursGFLOPS, r.GonumGFLOPS, r.OursCPUGFLOPS, r.GonumCPUGFLOPS)
		}
		runtime.GOMAXPROCS(prev)
		SetThreads(0)
	}
}

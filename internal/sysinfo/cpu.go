package sysinfo

import (
	"bufio"
	"os"
	"runtime"
	"strings"
)

// CPUModel is the processor's model name ("model name" in /proc/cpuinfo on Linux), or the
// architecture where it cannot be read.
func CPUModel() string {
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if ok && strings.TrimSpace(k) == "model name" && strings.TrimSpace(v) != "" {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH + " processor"
}

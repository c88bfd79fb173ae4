package train

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// tensorOffset returns the absolute byte offset of a tensor's data in a safetensors file.
func tensorOffset(t *testing.T, raw []byte, name string) int {
	t.Helper()
	n := binary.LittleEndian.Uint64(raw[:8])
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(raw[8:8+n], &hdr); err != nil {
		t.Fatal(err)
	}
	var info struct {
		Offsets [2]int `json:"data_offsets"`
	}
	if err := json.Unmarshal(hdr[name], &info); err != nil {
		t.Fatalf("tensor %s: %v", name, err)
	}
	return 8 + int(n) + info.Offsets[0]
}

// TestCheckpointChecksum flips 16 bits of one weight in a saved checkpoint: loading must fail
// with an error naming the file and the tensor (it used to load silently).
func TestCheckpointChecksum(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.Epochs = 1
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, CheckpointFile)
	if _, err := LoadCheckpoint(dir); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	off := tensorOffset(t, raw, "conv1.weight") + 4*5
	raw[off] ^= 0xff
	raw[off+1] ^= 0xff // 16 bits of one float: still a finite number
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	for name, load := range map[string]func() error{
		"LoadCheckpoint": func() error { _, err := LoadCheckpoint(dir); return err },
		"LoadWeights":    func() error { return LoadWeights(tinyModel(t, 4), dir) },
		"Resume": func() error {
			_, err := Resume(dir, Config{Train: synthetic(t, 160, 1), Epochs: 2})
			return err
		},
	} {
		err := load()
		if err == nil || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), `"conv1.weight"`) || !strings.Contains(err.Error(), "checksum") {
			t.Errorf("%s of a checkpoint with flipped bits: %v", name, err)
		}
	}
	// Optimizer state is covered too.
	raw[off] ^= 0xff
	raw[off+1] ^= 0xff
	var mom string
	n := binary.LittleEndian.Uint64(raw[:8])
	var hdr map[string]json.RawMessage
	json.Unmarshal(raw[8:8+n], &hdr)
	for k := range hdr {
		if strings.HasPrefix(k, "optim/") && (mom == "" || k < mom) {
			mom = k
		}
	}
	o := tensorOffset(t, raw, mom)
	raw[o+2] ^= 0x10
	os.WriteFile(file, raw, 0o644)
	if _, err := LoadCheckpoint(dir); err == nil || !strings.Contains(err.Error(), strconv.Quote(mom)) {
		t.Errorf("flipped optimizer state bit: %v", err)
	}
}

// TestCrashBetweenMetricsAndCheckpoint simulates a crash between the two writes at the end of
// an epoch; the resumed run must still have one metrics row per epoch (it used to lose one).
func TestCrashBetweenMetricsAndCheckpoint(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.Epochs = 3
	crash := errors.New("simulated crash")
	betweenWrites = func(epoch int) error {
		if epoch == 2 {
			return crash
		}
		return nil
	}
	defer func() { betweenWrites = nil }()
	if _, err := Run(cfg); !errors.Is(err, crash) {
		t.Fatalf("want the simulated crash, got %v", err)
	}
	betweenWrites = nil
	res, err := Resume(dir, Config{Train: synthetic(t, 160, 1), Test: synthetic(t, 80, 2)})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := ReadMetrics(filepath.Join(dir, MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	var epochs []int
	for _, r := range rows {
		epochs = append(epochs, r.Epoch)
	}
	if len(rows) != 3 || epochs[0] != 1 || epochs[1] != 2 || epochs[2] != 3 || len(res.Rows) != 3 {
		t.Fatalf("metrics epochs %v after the crash and resume, want [1 2 3]", epochs)
	}
}

// deadPID returns the id of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no `true` to spawn:", err)
	}
	return cmd.Process.Pid
}

// TestRunFolderLock: a run folder in use by a live process is refused; a lock left by a dead
// process is taken over with a message; the lock is gone after the run.
func TestRunFolderLock(t *testing.T) {
	dir := t.TempDir()
	lock := filepath.Join(dir, LockFile)
	os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	cfg := baseConfig(t, dir)
	cfg.Epochs = 1
	if _, err := Run(cfg); err == nil || !strings.Contains(err.Error(), lock) || !strings.Contains(err.Error(), strconv.Itoa(os.Getpid())) {
		t.Fatalf("a locked folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointFile)); err == nil {
		t.Fatal("a run wrote into a locked folder")
	}
	os.WriteFile(lock, []byte(strconv.Itoa(deadPID(t))+"\n"), 0o644)
	var log bytes.Buffer
	cfg.Log = &log
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.String(), "stale lock") {
		t.Errorf("no message about the stale lock: %q", log.String())
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock left after the run: %v", err)
	}
	// Resume takes the lock too.
	os.WriteFile(lock, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644)
	if _, err := Resume(dir, Config{Train: synthetic(t, 160, 1), Epochs: 2}); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Fatalf("resume of a locked folder: %v", err)
	}
	os.Remove(lock)
	// Two runs at once on one folder: exactly one succeeds.
	dir2 := t.TempDir()
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			c := baseConfig(t, dir2)
			c.Epochs = 1
			_, err := Run(c)
			errs <- err
		}()
	}
	e1, e2 := <-errs, <-errs
	if (e1 == nil) == (e2 == nil) {
		t.Fatalf("two runs on one folder: %v / %v", e1, e2)
	}
}

// TestResumeEpochs: --epochs fewer than done is an error; equal says there is nothing to do.
func TestResumeEpochs(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.Epochs = 2
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	if _, err := Resume(dir, Config{Train: synthetic(t, 160, 1), Epochs: 1}); err == nil || !strings.Contains(err.Error(), "2 epochs") {
		t.Fatalf("resume to 1 epoch after 2: %v", err)
	}
	var log bytes.Buffer
	res, err := Resume(dir, Config{Train: synthetic(t, 160, 1), Log: &log})
	if err != nil || len(res.Rows) != 2 || !strings.Contains(log.String(), "already") {
		t.Fatalf("resume of a finished run: %v, log %q", err, log.String())
	}
}

// TestResumeDataName: resuming on another data set than the run's is an error naming both;
// SavedData reports the run's.
func TestResumeDataName(t *testing.T) {
	dir := t.TempDir()
	cfg := baseConfig(t, dir)
	cfg.Epochs = 1
	if _, err := Run(cfg); err != nil {
		t.Fatal(err)
	}
	if d, err := SavedData(dir); err != nil || d != "synthetic" {
		t.Fatalf("SavedData: %q %v", d, err)
	}
	_, err := Resume(dir, Config{Train: synthetic(t, 160, 1), DataName: "mnist", Epochs: 2})
	if err == nil || !strings.Contains(err.Error(), "synthetic") || !strings.Contains(err.Error(), "mnist") {
		t.Fatalf("resume on another data set: %v", err)
	}
}

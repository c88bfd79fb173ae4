package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ventral-lab/ventral/internal/mirror"
)

// useMirrors points the registry at an empty temp cache and the shared mirrors.
func useMirrors(t *testing.T) {
	t.Helper()
	t.Setenv("VENTRAL_HOME", t.TempDir())
	t.Setenv("VENTRAL_MIRROR", strings.Join(mirror.Mirrors(), ":"))
}

func sum(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// withEntry adds a registry entry for the duration of the test.
func withEntry(t *testing.T, f File) {
	old := knownFiles
	knownFiles = append(append([]File(nil), old...), f)
	t.Cleanup(func() { knownFiles = old })
}

func TestRegistryTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range knownFiles {
		k := f.Dataset + "/" + f.Name
		if seen[k] {
			t.Errorf("duplicate %s", k)
		}
		seen[k] = true
		if len(f.SHA256) != 64 || strings.ToLower(f.SHA256) != f.SHA256 {
			t.Errorf("%s: bad sha256 %q", k, f.SHA256)
		}
		if f.URL == "" && f.Dataset != "mnist-onnx" {
			t.Errorf("%s: no URL", k)
		}
	}
	for _, k := range []string{"cifar10/train.zip", "cifar10/test.zip", "mnist/train-images-idx3-ubyte.gz",
		"kriegeskorte92/92_brainRDMs.mat", "geirhos-edges/raw-data/edge-experiment_vgg_session_1.csv", "allen-mouse-v1/ORIGINAL_readme.txt"} {
		if !seen[k] {
			t.Errorf("%s not registered", k)
		}
	}
}

func TestMirrorAndHash(t *testing.T) {
	home, m1, m2 := t.TempDir(), t.TempDir(), t.TempDir()
	t.Setenv("VENTRAL_HOME", home)
	t.Setenv("VENTRAL_MIRROR", m1+":"+m2)
	good := []byte("hello ventral\n")
	withEntry(t, File{Dataset: "toy", Name: "sub/a.txt", SHA256: sum(good)})
	if _, err := Resolve("toy", "sub/a.txt"); err == nil {
		t.Fatal("resolved a missing file")
	}
	os.MkdirAll(filepath.Join(m2, "toy", "sub"), 0o755)
	os.WriteFile(filepath.Join(m2, "toy", "sub", "a.txt"), good, 0o444)
	p, err := Resolve("toy", "sub/a.txt")
	if err != nil || p != filepath.Join(m2, "toy", "sub", "a.txt") {
		t.Fatalf("got %q, %v", p, err)
	}
	// A wrong file in an earlier mirror is an error naming file and hashes.
	os.MkdirAll(filepath.Join(m1, "toy", "sub"), 0o755)
	bad := filepath.Join(m1, "toy", "sub", "a.txt")
	os.WriteFile(bad, []byte("tampered\n"), 0o644)
	_, err = Resolve("toy", "sub/a.txt")
	var he *HashError
	if !errors.As(err, &he) || he.Path != bad || he.Expected != sum(good) || he.Found != sum([]byte("tampered\n")) {
		t.Fatalf("want hash error for %s, got %v", bad, err)
	}
	for _, s := range []string{bad, sum(good), sum([]byte("tampered\n"))} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %s", err, s)
		}
	}
	// The verification record is keyed by inode, size, mtime and change time: changing the file is noticed.
	os.WriteFile(bad, good, 0o644)
	if _, err := Resolve("toy", "sub/a.txt"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, ".verified")); len(ents) == 0 {
		t.Error("no verification sidecar written")
	}
	os.WriteFile(bad, []byte("tampered again\n"), 0o644)
	if _, err := Resolve("toy", "sub/a.txt"); !errors.As(err, &he) {
		t.Fatalf("changed file passed: %v", err)
	}
	if _, err := Resolve("toy", "nope"); err == nil {
		t.Error("unregistered file resolved")
	}
}

func TestDownload(t *testing.T) {
	home := t.TempDir()
	t.Setenv("VENTRAL_HOME", home)
	t.Setenv("VENTRAL_MIRROR", "")
	Progress = false
	defer func() { Progress = true }()
	body := []byte(strings.Repeat("ventral data ", 1000))
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/good.bin":
			w.Write(body)
		case "/bad.bin":
			w.Write([]byte("not it"))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	withEntry(t, File{Dataset: "toy", Name: "good.bin", URL: srv.URL + "/good.bin", SHA256: sum(body)})
	withEntry(t, File{Dataset: "toy", Name: "bad.bin", URL: srv.URL + "/bad.bin", SHA256: sum(body)})
	withEntry(t, File{Dataset: "toy", Name: "gone.bin", URL: srv.URL + "/gone.bin", SHA256: sum(body)})
	p, err := Resolve("toy", "good.bin")
	if err != nil || p != filepath.Join(home, "toy", "good.bin") {
		t.Fatalf("%q %v", p, err)
	}
	if b, _ := os.ReadFile(p); string(b) != string(body) {
		t.Fatal("downloaded content differs")
	}
	if _, err := Resolve("toy", "good.bin"); err != nil || hits.Load() != 1 {
		t.Fatalf("second resolve: %v, %d requests", err, hits.Load())
	}
	_, err = Resolve("toy", "bad.bin")
	var he *HashError
	if !errors.As(err, &he) {
		t.Fatalf("want hash error, got %v", err)
	}
	if _, err := os.Stat(filepath.Join(home, "toy", "bad.bin")); err == nil {
		t.Error("bad download landed in the cache")
	}
	if _, err := Resolve("toy", "gone.bin"); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("want 404 error, got %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(home, "toy"))
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}

func TestSharedMirror(t *testing.T) {
	mirror.Path(t, "kriegeskorte92/92_modelRDMs.mat")
	useMirrors(t)
	for _, k := range [][2]string{{"kriegeskorte92", "92_modelRDMs.mat"}, {"geirhos-edges", "raw-data/edge-experiment_vgg_session_1.csv"}, {"mnist-onnx", "mnist_cntk.onnx"}} {
		if _, err := Resolve(k[0], k[1]); err != nil {
			t.Error(err)
		}
	}
	dir, err := ResolveDir("geirhos-edges", "stimuli")
	if err != nil {
		t.Fatal(err)
	}
	ds, err := LoadImageFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 160 || len(ds.Classes) != 16 || ds.H != 224 || ds.W != 224 || ds.C != 3 || ds.Classes[0] != "airplane" {
		t.Fatalf("stimuli: N=%d classes=%v shape %v", ds.N, ds.Classes, ds.Shape())
	}
	if _, err := ResolveDir("geirhos-edges", "nope"); err == nil {
		t.Error("missing folder resolved")
	}
}

func TestModuleCacheMirror(t *testing.T) {
	mc := t.TempDir()
	t.Setenv("VENTRAL_HOME", t.TempDir())
	t.Setenv("VENTRAL_MIRROR", "")
	t.Setenv("PATH", "") // no `go env`: GOMODCACHE must be enough
	t.Setenv("GOMODCACHE", mc)
	modCacheOnce, modCacheList = sync.Once{}, nil
	t.Cleanup(func() { modCacheOnce, modCacheList = sync.Once{}, nil })
	data := []byte("idx bytes")
	old := knownFiles
	knownFiles = []File{{Dataset: "mnist", Name: "toy-idx1-ubyte.gz", URL: "http://127.0.0.1:1/none", SHA256: sum(data)}}
	t.Cleanup(func() { knownFiles = old })
	dir := filepath.Join(mc, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "toy-idx1-ubyte.gz"), data, 0o444)
	p, err := Resolve("mnist", "toy-idx1-ubyte.gz")
	if err != nil || p != filepath.Join(dir, "toy-idx1-ubyte.gz") {
		t.Fatalf("%q %v", p, err)
	}
}

// editInPlace overwrites path with data of the same length and restores its modification
// time, the usual way an edit hides from a size+mtime check.
func editInPlace(t *testing.T, path string, data []byte) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != st.Size() {
		t.Fatalf("edit of %d bytes for a file of %d", len(data), st.Size())
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(path, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	if st2, _ := os.Stat(path); st2.Size() != st.Size() || !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("size or mtime not kept")
	}
}

// TestVerifyCatchesSameSizeSameMtimeEdit edits verified files in place, keeping size and mtime:
// the next Resolve must re-hash and report the change (the verification record is keyed by
// inode and change time too, which no write can keep).
func TestVerifyCatchesSameSizeSameMtimeEdit(t *testing.T) {
	home, m1 := t.TempDir(), t.TempDir()
	t.Setenv("VENTRAL_HOME", home)
	t.Setenv("VENTRAL_MIRROR", m1)
	good := []byte("hello ventral\n")
	withEntry(t, File{Dataset: "toy", Name: "a.txt", SHA256: sum(good)})
	p := filepath.Join(m1, "toy", "a.txt")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, good, 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	// Let the change time fall out of the window in which a record is not trusted.
	racyWindow = 0
	t.Cleanup(func() { racyWindow = defaultRacyWindow })
	time.Sleep(20 * time.Millisecond)
	if _, err := Resolve("toy", "a.txt"); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(filepath.Join(home, ".verified")); len(ents) != 1 {
		t.Fatalf("%d verification records", len(ents))
	}
	time.Sleep(20 * time.Millisecond)
	editInPlace(t, p, []byte("HELLO ventral\n"))
	var he *HashError
	if _, err := Resolve("toy", "a.txt"); !errors.As(err, &he) || he.Path != p {
		t.Fatalf("in-place edit with size and mtime kept passed: %v", err)
	}
	// Restored content (same size and mtime again) verifies again.
	editInPlace(t, p, good)
	if _, err := Resolve("toy", "a.txt"); err != nil {
		t.Fatal(err)
	}
	// A file replaced by another one (new inode) with the same size and mtime is re-hashed too.
	tmp := p + ".new"
	os.WriteFile(tmp, []byte("hellO ventral\n"), 0o644)
	os.Chtimes(tmp, old, old)
	os.Rename(tmp, p)
	if _, err := Resolve("toy", "a.txt"); !errors.As(err, &he) {
		t.Fatalf("replaced file passed: %v", err)
	}
}

// TestResolveDirVerifiesRegisteredFiles: every registered file under a folder that ResolveDir
// returns is hash-checked; an edited one is an error naming it.
func TestResolveDirVerifiesRegisteredFiles(t *testing.T) {
	home, m1 := t.TempDir(), t.TempDir()
	t.Setenv("VENTRAL_HOME", home)
	t.Setenv("VENTRAL_MIRROR", m1)
	a, b := []byte("subject,response\n1,cat\n"), []byte("subject,response\n2,dog\n")
	withEntry(t, File{Dataset: "toy", Name: "raw/s1.csv", SHA256: sum(a)})
	withEntry(t, File{Dataset: "toy", Name: "raw/deeper/s2.csv", SHA256: sum(b)})
	withEntry(t, File{Dataset: "toy", Name: "rawx/other.csv", SHA256: sum(a)})
	dir := filepath.Join(m1, "toy", "raw")
	os.MkdirAll(filepath.Join(dir, "deeper"), 0o755)
	os.WriteFile(filepath.Join(dir, "s1.csv"), a, 0o644)
	os.WriteFile(filepath.Join(dir, "deeper", "s2.csv"), b, 0o644)
	os.WriteFile(filepath.Join(dir, "unregistered.png"), []byte("x"), 0o644)
	if d, err := ResolveDir("toy", "raw"); err != nil || d != dir {
		t.Fatalf("%q %v", d, err)
	}
	os.WriteFile(filepath.Join(dir, "deeper", "s2.csv"), []byte("subject,response\n2,cow\n"), 0o644)
	_, err := ResolveDir("toy", "raw")
	var he *HashError
	if !errors.As(err, &he) || he.Path != filepath.Join(dir, "deeper", "s2.csv") {
		t.Fatalf("edited file under the folder passed: %v", err)
	}
	if _, err := ResolveDir("toy", "raw/deeper"); !errors.As(err, &he) {
		t.Fatalf("edited file in a subfolder passed: %v", err)
	}
	// A registered file missing from the folder is an error too (an incomplete mirror).
	os.WriteFile(filepath.Join(dir, "deeper", "s2.csv"), b, 0o644)
	os.Remove(filepath.Join(dir, "s1.csv"))
	if _, err := ResolveDir("toy", "raw"); err == nil || !strings.Contains(err.Error(), "s1.csv") {
		t.Fatalf("missing registered file: %v", err)
	}
}

package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// File is one entry of the registry: a file of a dataset, where it comes from upstream and
// its sha256. Name may contain slashes (a path inside the dataset folder).
type File struct {
	Dataset string
	Name    string
	URL     string // upstream raw-file URL; empty when the file can only come from a mirror
	SHA256  string // lower-case hex
}

// HashError reports a file whose content does not match the registry.
type HashError struct {
	Path     string
	Expected string
	Found    string
}

func (e *HashError) Error() string {
	return fmt.Sprintf("datasets: sha256 mismatch for %s: expected %s, found %s", e.Path, e.Expected, e.Found)
}

func gh(repo, commit, path string) string {
	return "https://raw.githubusercontent.com/" + repo + "/" + commit + "/" + path
}

// Files returns a copy of the registry table.
func Files() []File { return append([]File(nil), knownFiles...) }

// Lookup returns the registry entry of dataset/name.
func Lookup(dataset, name string) (File, bool) {
	for _, f := range knownFiles {
		if f.Dataset == dataset && f.Name == name {
			return f, true
		}
	}
	return File{}, false
}

// Home returns the download cache folder: $VENTRAL_HOME, or ~/.cache/ventral.
func Home() string {
	if h := os.Getenv("VENTRAL_HOME"); h != "" {
		return h
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".cache", "ventral")
	}
	return filepath.Join(os.TempDir(), "ventral")
}

// Mirrors returns the read-only mirror folders of $VENTRAL_MIRROR (colon-separated), each laid
// out as <mirror>/<dataset>/<file>.
func Mirrors() []string {
	var out []string
	for _, d := range strings.Split(os.Getenv("VENTRAL_MIRROR"), ":") {
		if d != "" {
			out = append(out, d)
		}
	}
	return out
}

// Client is the HTTP client used for downloads. Tests may replace it.
var Client = &http.Client{Timeout: 30 * time.Minute}

// Progress controls whether downloads draw a progress bar on stderr.
var Progress = true

// extraDirs lists implicit flat folders that hold a dataset's files (searched after the
// mirrors, before downloading). For mnist this is the data/ folder of the GoMNIST module in
// the Go module cache.
var extraDirs = map[string]func() []string{
	"mnist": func() []string {
		var out []string
		for _, mc := range modCaches() {
			out = append(out, filepath.Join(mc, "github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data"))
		}
		return out
	},
}

var (
	modCacheOnce sync.Once
	modCacheList []string
)

// modCaches returns candidate Go module cache folders: $GOMODCACHE, `go env GOMODCACHE`,
// $GOPATH/pkg/mod (first GOPATH element) and ~/go/pkg/mod.
func modCaches() []string {
	modCacheOnce.Do(func() {
		seen := map[string]bool{}
		add := func(d string) {
			if d != "" && !seen[d] {
				seen[d] = true
				modCacheList = append(modCacheList, d)
			}
		}
		add(os.Getenv("GOMODCACHE"))
		if goBin, err := exec.LookPath("go"); err == nil {
			if out, err := exec.Command(goBin, "env", "GOMODCACHE").Output(); err == nil {
				add(strings.TrimSpace(string(out)))
			}
		}
		if gp := os.Getenv("GOPATH"); gp != "" {
			add(filepath.Join(filepath.SplitList(gp)[0], "pkg", "mod"))
		}
		if h, err := os.UserHomeDir(); err == nil {
			add(filepath.Join(h, "go", "pkg", "mod"))
		}
	})
	return modCacheList
}

// Resolve returns a local path of the registered file dataset/name, whose sha256 has been
// checked. It looks in the cache (Home()/<dataset>/<name>), then in each mirror
// (<mirror>/<dataset>/<name>), then in implicit folders (the Go module cache for mnist), and
// finally downloads the upstream URL into the cache. A file that is found but has the wrong
// hash is an error (a *HashError); Resolve does not silently fall through to the next place.
func Resolve(dataset, name string) (string, error) {
	f, ok := Lookup(dataset, name)
	if !ok {
		return "", fmt.Errorf("datasets: %s/%s is not in the registry", dataset, name)
	}
	return resolveFile(f)
}

func resolveFile(f File) (string, error) {
	rel := filepath.Join(f.Dataset, filepath.FromSlash(f.Name))
	cands := []string{filepath.Join(Home(), rel)}
	for _, m := range Mirrors() {
		cands = append(cands, filepath.Join(m, rel))
	}
	if p, ok, err := firstVerified(cands, f.SHA256); ok || err != nil {
		return p, err
	}
	// Implicit folders (they may need `go env`), only when the cache and mirrors lack the file.
	if fn := extraDirs[f.Dataset]; fn != nil {
		cands = cands[:0]
		for _, d := range fn() {
			cands = append(cands, filepath.Join(d, filepath.FromSlash(f.Name)))
		}
		if p, ok, err := firstVerified(cands, f.SHA256); ok || err != nil {
			return p, err
		}
	}
	if f.URL == "" {
		return "", fmt.Errorf("datasets: %s/%s not found in cache %s or mirrors %v, and it has no download URL (set VENTRAL_MIRROR)",
			f.Dataset, f.Name, Home(), Mirrors())
	}
	dst := filepath.Join(Home(), rel)
	if err := download(f.URL, dst, f.SHA256); err != nil {
		return "", fmt.Errorf("datasets: downloading %s/%s: %w", f.Dataset, f.Name, err)
	}
	if abs, err := filepath.Abs(dst); err == nil {
		if st, err := os.Stat(abs); err == nil {
			remember(abs, st, f.SHA256)
		}
	}
	return dst, nil
}

// firstVerified returns the first existing regular file of cands after checking its hash.
func firstVerified(cands []string, sum string) (string, bool, error) {
	for _, p := range cands {
		st, err := os.Stat(p)
		if err != nil || !st.Mode().IsRegular() {
			continue
		}
		if err := Verify(p, sum); err != nil {
			return "", false, err
		}
		return p, true, nil
	}
	return "", false, nil
}

// ResolveDir returns a local folder <place>/<dataset>/<dir> from the cache or a mirror. It is
// meant for folders whose files are used together (the raw trials of model-vs-human, the 160
// PNGs of geirhos-edges/stimuli). Every registered file under the folder is hash-checked (a
// missing one is an error: the mirror is incomplete); files the registry does not list (the
// stimuli, which the data README lists without hashes) are not. Nothing is downloaded.
func ResolveDir(dataset, dir string) (string, error) {
	rel := filepath.Join(dataset, filepath.FromSlash(dir))
	places := append([]string{Home()}, Mirrors()...)
	for _, p := range places {
		d := filepath.Join(p, rel)
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			if err := verifyUnder(p, dataset, dir); err != nil {
				return "", err
			}
			return d, nil
		}
	}
	return "", fmt.Errorf("datasets: folder %s not found in cache %s or mirrors %v (set VENTRAL_MIRROR)", rel, Home(), Mirrors())
}

// verifyUnder checks the hash of every registered file of dataset below dir in place.
func verifyUnder(place, dataset, dir string) error {
	prefix := strings.Trim(filepath.ToSlash(filepath.Clean(dir)), "/")
	if prefix == "." {
		prefix = ""
	} else {
		prefix += "/"
	}
	for _, f := range knownFiles {
		if f.Dataset != dataset || !strings.HasPrefix(f.Name, prefix) {
			continue
		}
		p := filepath.Join(place, dataset, filepath.FromSlash(f.Name))
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("datasets: registered file %s/%s is missing from %s (incomplete copy?): %w",
				dataset, f.Name, filepath.Join(place, dataset), err)
		}
		if err := Verify(p, f.SHA256); err != nil {
			return err
		}
	}
	return nil
}

// sidecar records a successful verification of one file. It is trusted only while the file
// keeps its device, inode, size, mtime and change time: an in-place edit that restores size and
// mtime (touch -r) still moves the change time, and a replacement file has another inode. Any
// difference re-hashes the file. Re-hashing every time would be simpler but costs 0.18 s per
// run for the 63 MB of CIFAR-10 zips (measured warm), more for larger data.
type sidecar struct {
	Path     string `json:"path"`
	Size     int64  `json:"size"`
	ModTime  int64  `json:"mtime_ns"`
	Dev      uint64 `json:"dev"`
	Inode    uint64 `json:"inode"`
	Ctime    int64  `json:"ctime_ns"`
	Verified int64  `json:"verified_ns"`
	SHA256   string `json:"sha256"`
}

func sidecarPath(abs string) string {
	h := sha256.Sum256([]byte(abs))
	return filepath.Join(Home(), ".verified", hex.EncodeToString(h[:12])+".json")
}

// defaultRacyWindow: a record made less than this long after the file's last change is not
// trusted, because file systems stamp change times from a coarse clock (a few ms) and a second
// edit within the same tick would keep the change time (git's "racily clean" problem).
const defaultRacyWindow = 2 * time.Second

var racyWindow = defaultRacyWindow

// trusted reports whether record s still vouches for the file described by st.
func (s *sidecar) trusted(abs string, st os.FileInfo, want string) bool {
	dev, ino, ctime, ok := fileIdentity(st)
	return ok && s.Path == abs && s.SHA256 == want && s.Size == st.Size() && s.ModTime == st.ModTime().UnixNano() &&
		s.Dev == dev && s.Inode == ino && s.Ctime == ctime && s.Verified-ctime >= int64(racyWindow)
}

// Verify checks that the file at path has the given sha256. A successful check is remembered
// in a small record in Home()/.verified (keyed by path, device, inode, size, mtime and change
// time), so large files are hashed once, not on every run, while any change to the file makes
// the next Verify hash it again. A mismatch returns a *HashError.
func Verify(path, want string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	st, err := os.Stat(abs)
	if err != nil {
		return err
	}
	sc := sidecarPath(abs)
	if b, err := os.ReadFile(sc); err == nil {
		var s sidecar
		if json.Unmarshal(b, &s) == nil && s.trusted(abs, st, want) {
			return nil
		}
	}
	got, err := hashFile(abs)
	if err != nil {
		return err
	}
	if got != want {
		return &HashError{Path: path, Expected: want, Found: got}
	}
	remember(abs, st, want)
	return nil
}

// remember writes the verification record of abs (best effort: an unwritable cache only
// costs re-hashing). st must have been taken before hashing, so a change during the hash
// leaves a record that no longer matches.
func remember(abs string, st os.FileInfo, sum string) {
	dev, ino, ctime, ok := fileIdentity(st)
	if !ok {
		return
	}
	b, _ := json.Marshal(sidecar{Path: abs, Size: st.Size(), ModTime: st.ModTime().UnixNano(), Dev: dev, Inode: ino,
		Ctime: ctime, Verified: time.Now().UnixNano(), SHA256: sum})
	_ = atomicfile.Write(sidecarPath(abs), b)
}

func hashFile(path string) (string, error) {
	fh, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return "", fmt.Errorf("datasets: hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// download fetches url into dst (temp file + fsync + rename), checking the sha256 before the
// rename so that a bad download never lands in the cache.
func download(url, dst, want string) error {
	resp, err := Client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return atomicfile.WriteFunc(dst, func(w io.Writer) error {
		h := sha256.New()
		out := io.MultiWriter(w, h)
		if Progress {
			bar := progressbar.DefaultBytes(resp.ContentLength, "downloading "+filepath.Base(dst))
			out = io.MultiWriter(out, bar)
			defer bar.Close()
		}
		if _, err := io.Copy(out, resp.Body); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return &HashError{Path: url, Expected: want, Found: got}
		}
		return nil
	})
}

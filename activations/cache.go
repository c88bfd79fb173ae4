package activations

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ventral-lab/ventral/internal/flock"
)

// FormatVersion is part of every cache key; it changes whenever the meaning of cached numbers
// or the entry layout changes, so old entries are never read.
const FormatVersion = "ventral-activations-v1"

// Cache entry layout (all little-endian):
//
//	magic   8 bytes "VNTACT\x00\x01"
//	hlen    uint32, then hlen bytes of JSON header {key, layer, shape, rows, cols, dtype}
//	data    rows*cols float32, row-major (one row per stimulus)
//	sum     32 bytes: sha256 of everything before it
//
// Entries are written to a temporary file in the cache folder, synced and renamed into place
// when complete; a reader checks the size, the key and the checksum, and treats any mismatch as
// a miss. Several processes (grid tasks on a shared folder) may fill one cache at once: a
// writer holds an exclusive lock on the entry's lock file while it computes, and looks again
// once it has the lock, so an entry is computed once and the others read it.
var magic = []byte("VNTACT\x00\x01")

// Header describes a cache entry.
type Header struct {
	Key   string `json:"key"`
	Layer string `json:"layer"`
	Shape []int  `json:"shape"` // the layer's per-sample output shape
	Rows  int    `json:"rows"`
	Cols  int    `json:"cols"`
	DType string `json:"dtype"`
}

func (h *Header) dataBytes() int64 { return int64(h.Rows) * int64(h.Cols) * 4 }

// entryPath is where the entry for key lives under dir.
func entryPath(dir, key string) string {
	return filepath.Join(dir, key[:2], key+".act")
}

// entryWriter streams rows of one entry to a temporary file.
type entryWriter struct {
	f     *os.File
	bw    *bufio.Writer
	h     hash.Hash
	final string
	hd    Header
	rows  int
	buf   []byte
}

func newEntryWriter(path string, hd Header) (*entryWriter, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".tmp-*.act")
	if err != nil {
		return nil, err
	}
	w := &entryWriter{f: f, bw: bufio.NewWriterSize(f, 1<<20), h: sha256.New(), final: path, hd: hd}
	hb, _ := json.Marshal(hd)
	var pre bytes.Buffer
	pre.Write(magic)
	binary.Write(&pre, binary.LittleEndian, uint32(len(hb)))
	pre.Write(hb)
	if err := w.write(pre.Bytes()); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

func (w *entryWriter) write(b []byte) error {
	w.h.Write(b)
	_, err := w.bw.Write(b)
	return err
}

// writeRows appends rows (len a multiple of Cols).
func (w *entryWriter) writeRows(data []float32) error {
	if cap(w.buf) < 4*len(data) {
		w.buf = make([]byte, 4*len(data))
	}
	b := w.buf[:4*len(data)]
	for i, v := range data {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
	}
	w.rows += len(data) / max(w.hd.Cols, 1)
	return w.write(b)
}

// commit writes the checksum and renames the file into place.
func (w *entryWriter) commit() error {
	if w.rows != w.hd.Rows {
		w.abort()
		return fmt.Errorf("activations: entry %s: wrote %d rows, header says %d", w.final, w.rows, w.hd.Rows)
	}
	if _, err := w.bw.Write(w.h.Sum(nil)); err != nil {
		w.abort()
		return err
	}
	if err := w.bw.Flush(); err != nil {
		w.abort()
		return err
	}
	// Synced before the rename: after a crash (or node loss) the name points at whole data.
	if err := w.f.Sync(); err != nil {
		w.abort()
		return err
	}
	if err := w.f.Close(); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	if err := os.Rename(w.f.Name(), w.final); err != nil {
		os.Remove(w.f.Name())
		return err
	}
	return nil
}

// lockEntries takes an exclusive lock (package flock: released by the kernel if the holder
// dies) on the lock file of each key's entry under dir and returns the function that releases
// them. Keys are taken in sorted order so that two processes wanting overlapping sets cannot
// deadlock.
func lockEntries(dir string, keys []string) (unlock func(), err error) {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	var held []func()
	unlock = func() {
		for _, u := range held {
			u()
		}
	}
	for _, k := range keys {
		p := strings.TrimSuffix(entryPath(dir, k), ".act") + ".lock"
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			unlock()
			return nil, err
		}
		u, _, err := flock.Lock(p, true)
		if err != nil {
			unlock()
			return nil, err
		}
		held = append(held, u)
	}
	return unlock, nil
}

func (w *entryWriter) abort() {
	w.f.Close()
	os.Remove(w.f.Name())
}

// errCorrupt marks an entry that exists but fails verification.
var errCorrupt = errors.New("corrupt cache entry")

// readEntry verifies the entry at path for key. With fill it returns the data, otherwise it
// only checks (streaming, in bounded memory). A missing file is os.ErrNotExist; an entry that
// fails any check wraps errCorrupt.
func readEntry(path, key string, fill bool) (*Header, []float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w %s: %s", errCorrupt, path, fmt.Sprintf(format, a...))
	}
	br := bufio.NewReaderSize(f, 1<<20)
	h := sha256.New()
	tr := io.TeeReader(br, h)
	pre := make([]byte, 12)
	if _, err := io.ReadFull(tr, pre); err != nil {
		return nil, nil, bad("short header")
	}
	if !bytes.Equal(pre[:8], magic) {
		return nil, nil, bad("bad magic")
	}
	hlen := int64(binary.LittleEndian.Uint32(pre[8:]))
	if hlen > 1<<20 || 12+hlen > st.Size() {
		return nil, nil, bad("bad header length %d", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(tr, hb); err != nil {
		return nil, nil, bad("short header")
	}
	var hd Header
	if err := json.Unmarshal(hb, &hd); err != nil {
		return nil, nil, bad("header: %v", err)
	}
	if hd.Key != key || hd.DType != "float32" || hd.Rows < 0 || hd.Cols < 0 {
		return nil, nil, bad("header does not match (key %.12s, dtype %q)", hd.Key, hd.DType)
	}
	if want := 12 + hlen + hd.dataBytes() + sha256.Size; st.Size() != want {
		return nil, nil, bad("size %d, expected %d (truncated?)", st.Size(), want)
	}
	var data []float32
	if fill {
		data = make([]float32, hd.Rows*hd.Cols)
	}
	chunk := make([]byte, 1<<20)
	for off := 0; int64(off)*4 < hd.dataBytes(); {
		n := min(int64(len(chunk)), hd.dataBytes()-int64(off)*4)
		if _, err := io.ReadFull(tr, chunk[:n]); err != nil {
			return nil, nil, bad("reading data: %v", err)
		}
		if fill {
			for i := 0; i < int(n)/4; i++ {
				data[off+i] = math.Float32frombits(binary.LittleEndian.Uint32(chunk[4*i:]))
			}
		}
		off += int(n) / 4
	}
	sum := make([]byte, sha256.Size)
	if _, err := io.ReadFull(br, sum); err != nil {
		return nil, nil, bad("missing checksum")
	}
	if !bytes.Equal(sum, h.Sum(nil)) {
		return nil, nil, bad("checksum mismatch")
	}
	return &hd, data, nil
}

// Reader streams the rows of a verified cache entry, for consumers that do not want a whole
// layer in memory.
type Reader struct {
	Header
	f  *os.File
	br *bufio.Reader
	b  []byte
	i  int
}

// Open verifies the entry at path (a full streaming pass over the checksum) and returns a reader
// positioned at its first row.
func Open(path string) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	pre := make([]byte, 12)
	if _, err := io.ReadFull(f, pre); err != nil || !bytes.Equal(pre[:8], magic) {
		f.Close()
		return nil, fmt.Errorf("%w %s: bad magic", errCorrupt, path)
	}
	hb := make([]byte, binary.LittleEndian.Uint32(pre[8:])&(1<<20-1))
	if _, err := io.ReadFull(f, hb); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s: short header", errCorrupt, path)
	}
	var hd Header
	if err := json.Unmarshal(hb, &hd); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s: header: %v", errCorrupt, path, err)
	}
	if _, _, err := readEntry(path, hd.Key, false); err != nil {
		f.Close()
		return nil, err
	}
	return &Reader{Header: hd, f: f, br: bufio.NewReaderSize(f, 1<<20), b: make([]byte, 4*hd.Cols)}, nil
}

// Next fills row (len Cols) with the next stimulus's features; io.EOF after the last row.
func (r *Reader) Next(row []float32) error {
	if r.i >= r.Rows {
		return io.EOF
	}
	if _, err := io.ReadFull(r.br, r.b); err != nil {
		return err
	}
	for j := range row[:r.Cols] {
		row[j] = math.Float32frombits(binary.LittleEndian.Uint32(r.b[4*j:]))
	}
	r.i++
	return nil
}

// Close closes the file.
func (r *Reader) Close() error { return r.f.Close() }

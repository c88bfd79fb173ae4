package datasets

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/ventral-lab/ventral/internal/atomicfile"
	"hash/crc32"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// LoadCIFAR10 returns the CIFAR-10 "train" (50,000) or "test" (10,000) split as 3x32x32
// images in [0,1], labels in the official class order (CIFAR10Classes). It reads
// cifar10/<split>.zip through the registry. The first load decodes the JPEGs in parallel and
// writes a decoded cache file to Home()/cifar10/decoded/, keyed by the zip's sha256 and
// checked (CRC-32C) on every read; later loads read that file.
func LoadCIFAR10(split string) (*Dataset, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("datasets: unknown cifar10 split %q", split)
	}
	f, _ := Lookup("cifar10", split+".zip")
	zipPath, err := resolveFile(f)
	if err != nil {
		return nil, err
	}
	cache := filepath.Join(Home(), "cifar10", "decoded", split+"-"+f.SHA256[:16]+".u8")
	if s, err := readDecoded(cache, f.SHA256); err == nil {
		return s.dataset("cifar10/" + split), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		Warnf("datasets: ignoring decoded cache: %v", err)
	}
	s, err := readImageZipFile(zipPath, ImageOptions{Channels: 3, Classes: CIFAR10Classes})
	if err != nil {
		return nil, err
	}
	if s.h != 32 || s.w != 32 {
		return nil, fmt.Errorf("datasets: %s: images are %dx%d, want 32x32", zipPath, s.w, s.h)
	}
	if err := writeDecoded(cache, f.SHA256, s); err != nil {
		Warnf("datasets: cannot write decoded cache: %v", err)
	}
	return s.dataset("cifar10/" + split), nil
}

// Decoded cache file: "VNTRLU8\x01", uint32 little-endian header length, JSON header,
// pixel bytes, CRC-32C (Castagnoli) of header and pixels as uint32 little-endian.
const decodedMagic = "VNTRLU8\x01"

type decodedHeader struct {
	Source  string   `json:"source_sha256"`
	N       int      `json:"n"`
	C       int      `json:"c"`
	H       int      `json:"h"`
	W       int      `json:"w"`
	Classes []string `json:"classes"`
	Labels  []int    `json:"labels"`
	Files   []string `json:"files"`
}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

func writeDecoded(p, source string, s *u8set) error {
	hdr, err := json.Marshal(decodedHeader{Source: source, N: s.n(), C: s.c, H: s.h, W: s.w,
		Classes: s.classes, Labels: s.labels, Files: s.files})
	if err != nil {
		return err
	}
	return atomicfile.WriteFunc(p, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		crc := crc32.New(castagnoli)
		bw.WriteString(decodedMagic)
		binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
		mw := io.MultiWriter(bw, crc)
		mw.Write(hdr)
		mw.Write(s.pix)
		binary.Write(bw, binary.LittleEndian, crc.Sum32())
		return bw.Flush()
	})
}

func readDecoded(p, source string) (*u8set, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	bad := func(why string) error { return fmt.Errorf("decoded cache %s: %s", p, why) }
	if len(b) < len(decodedMagic)+8 || string(b[:len(decodedMagic)]) != decodedMagic {
		return nil, bad("bad magic")
	}
	b = b[len(decodedMagic):]
	hl := int(binary.LittleEndian.Uint32(b))
	b = b[4:]
	if hl > len(b)-4 {
		return nil, bad("truncated header")
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, castagnoli) != sum {
		return nil, bad("checksum mismatch")
	}
	var h decodedHeader
	if err := json.Unmarshal(body[:hl], &h); err != nil {
		return nil, bad(err.Error())
	}
	if h.Source != source {
		return nil, bad("made from another source")
	}
	pix := body[hl:]
	if h.N <= 0 || h.C <= 0 || h.H <= 0 || h.W <= 0 || len(pix) != h.N*h.C*h.H*h.W ||
		(h.Labels != nil && len(h.Labels) != h.N) || (h.Files != nil && len(h.Files) != h.N) {
		return nil, bad("inconsistent sizes")
	}
	return &u8set{pix: pix, labels: h.Labels, classes: h.Classes, files: h.Files, c: h.C, h: h.H, w: h.W}, nil
}

// CIFAR-10 binary record: 1 label byte and 3072 pixel bytes (1024 R, 1024 G, 1024 B).
const cifarRecord = 1 + 3*32*32

// LoadCIFAR10Binary reads a split from the official binary release cifar-10-binary.tar.gz
// (data_batch_1.bin .. data_batch_5.bin for "train", test_batch.bin for "test", in any
// folder of the archive). The file is not in the registry (no upstream hash is known here):
// pass its path.
func LoadCIFAR10Binary(tarGzPath, split string) (*Dataset, error) {
	fh, err := os.Open(tarGzPath)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	s, err := readCIFAR10Binary(fh, tarGzPath, split)
	if err != nil {
		return nil, err
	}
	return s.dataset("cifar10/" + split), nil
}

func readCIFAR10Binary(r io.Reader, name, split string) (*u8set, error) {
	var want []string
	switch split {
	case "train":
		want = []string{"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin", "data_batch_4.bin", "data_batch_5.bin"}
	case "test":
		want = []string{"test_batch.bin"}
	default:
		return nil, fmt.Errorf("datasets: unknown cifar10 split %q", split)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("datasets: %s: %w", name, err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	got := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: %w", name, err)
		}
		base := path.Base(h.Name)
		if h.Typeflag != tar.TypeReg || !slices.Contains(want, base) {
			continue
		}
		if h.Size%cifarRecord != 0 || h.Size > 100000*cifarRecord {
			return nil, fmt.Errorf("datasets: %s: entry %s has %d bytes, not a whole number of %d-byte records", name, h.Name, h.Size, cifarRecord)
		}
		if _, dup := got[base]; dup {
			return nil, fmt.Errorf("datasets: %s: entry %s appears twice", name, h.Name)
		}
		// Read without trusting h.Size for the allocation: a corrupt header must not make
		// us allocate hundreds of megabytes before the stream ends.
		b, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err == nil && int64(len(b)) != h.Size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, fmt.Errorf("datasets: %s: entry %s: %w", name, h.Name, err)
		}
		got[base] = b
	}
	var missing []string
	n := 0
	for _, w := range want {
		if b, ok := got[w]; !ok {
			missing = append(missing, w)
		} else {
			n += len(b) / cifarRecord
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("datasets: %s lacks %s", name, strings.Join(missing, ", "))
	}
	if n == 0 {
		return nil, fmt.Errorf("datasets: %s holds no records", name)
	}
	s := &u8set{c: 3, h: 32, w: 32, classes: CIFAR10Classes, pix: make([]byte, 0, n*3072), labels: make([]int, 0, n)}
	for _, w := range want {
		b := got[w]
		for off := 0; off < len(b); off += cifarRecord {
			if b[off] > 9 {
				return nil, fmt.Errorf("datasets: %s: entry %s: record %d has label %d", name, w, off/cifarRecord, b[off])
			}
			s.labels = append(s.labels, int(b[off]))
			s.pix = append(s.pix, b[off+1:off+cifarRecord]...)
		}
	}
	return s, nil
}

package idx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	data := make([]byte, 3*4*5)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, gz := range []bool{false, true} {
		enc, err := Encode([]int{3, 4, 5}, data, gz)
		if err != nil {
			t.Fatal(err)
		}
		f, err := Read(bytes.NewReader(enc), "mem")
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if len(f.Dims) != 3 || f.Dims[0] != 3 || f.Dims[1] != 4 || f.Dims[2] != 5 || f.Len() != 60 {
			t.Fatalf("dims %v", f.Dims)
		}
		if !bytes.Equal(f.Data, data) {
			t.Fatal("data differs")
		}
	}
	// idx1 on disk.
	p := filepath.Join(t.TempDir(), "labels-idx1-ubyte.gz")
	enc, _ := Encode([]int{4}, []byte{5, 0, 4, 1}, true)
	if err := os.WriteFile(p, enc, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(p)
	if err != nil || !bytes.Equal(f.Data, []byte{5, 0, 4, 1}) {
		t.Fatalf("%v %v", f, err)
	}
}

func TestErrors(t *testing.T) {
	good, _ := Encode([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}, false)
	gz, _ := Encode([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}, true)
	cases := map[string]struct {
		in   []byte
		want string
	}{
		"empty":     {nil, "truncated header"},
		"magic":     {[]byte{1, 0, 8, 1, 0, 0, 0, 0}, "bad magic"},
		"type":      {[]byte{0, 0, 0x0d, 1, 0, 0, 0, 0}, "unsupported element type"},
		"ndims":     {[]byte{0, 0, 8, 0}, "number of dimensions"},
		"dims":      {good[:9], "truncated header (dimensions)"},
		"data":      {good[:len(good)-1], "truncated data"},
		"trailing":  {append(append([]byte{}, good...), 9), "trailing data"},
		"huge":      {[]byte{0, 0, 8, 2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, "exceed"},
		"gztrunc":   {gz[:len(gz)-12], "unexpected EOF"},
		"gzcorrupt": {append(append([]byte{}, gz[:10]...), bytes.Repeat([]byte{0xff}, 20)...), "mem"},
	}
	for name, c := range cases {
		_, err := Read(bytes.NewReader(c.in), "mem")
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "mem") {
			t.Errorf("%s: error %q lacks %q or the file name", name, err, c.want)
		}
	}
	if err := Write(&bytes.Buffer{}, []int{2, 2}, []byte{1}); err == nil {
		t.Error("Write accepted wrong length")
	}
}

func FuzzIdx(f *testing.F) {
	a, _ := Encode([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6}, false)
	b, _ := Encode([]int{3}, []byte{5, 0, 4}, true)
	f.Add(a)
	f.Add(b)
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Read(bytes.NewReader(in), "fuzz")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		if file.Len() != len(file.Data) {
			t.Fatalf("dims %v but %d bytes", file.Dims, len(file.Data))
		}
		enc, err := Encode(file.Dims, file.Data, false)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Read(bytes.NewReader(enc), "again")
		if err != nil || !bytes.Equal(again.Data, file.Data) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

package neural

import (
	"bytes"
	"testing"
)

// FuzzReadCSV: the CSV reader returns an assembly that validates, or an error; never a panic.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte("stimulus_id,neuroid_id,repetition,value,region,subject\nimg1,n1,1,0.52,IT,m1\nimg2,n1,1,0.1,IT,m1\n"))
	f.Add([]byte("stimulus_id,n1,n2,n3\n#region,V4,IT,IT\nimg1,0.5,1.2,0.3\nimg1,0.4,NaN,\n"))
	f.Add([]byte("stimulus_id,neuroid_id,time_bin,value\na,b,70-170,1e3\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 1<<14 {
			return
		}
		a, err := ReadCSV(bytes.NewReader(data), "fuzz.csv")
		if err != nil {
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("ReadCSV returned an invalid assembly: %v", err)
		}
	})
}

package neural

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ReadFile reads an assembly by the file's extension: .mat (variable is a path such as
// "resp(2).data"), .npy, .npz (variable names the member) or .csv. transpose swaps a matrix
// stored neuroids x stimuli.
func ReadFile(path, variable string, transpose bool) (*Assembly, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".mat":
		return ReadMAT(path, variable, transpose)
	case ".npy":
		return ReadNPY(path, transpose)
	case ".npz":
		return ReadNPZ(path, variable, transpose)
	case ".csv":
		return ReadCSVFile(path)
	}
	return nil, fmt.Errorf("%s: unknown data file type (expected .mat, .npy, .npz or .csv)", path)
}

package neural

import (
	"fmt"
	"path/filepath"
	"strings"
)

// ReadFile reads an assembly by the file's extension: .mat (variable is a path such as
// "resp(2).data"), .npy, .npz (variable names the member), .csv, or NetCDF/HDF5 (.nc, .h5:
// a Brain-Score assembly, see ReadNetCDF; variable names the data variable). transpose swaps a
// matrix stored neuroids x stimuli.
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
	case ".nc", ".nc4", ".h5", ".hdf5", ".cdf":
		if transpose {
			return nil, fmt.Errorf("%s: transpose does not apply to NetCDF/HDF5 data, whose dimensions are named", path)
		}
		return ReadNetCDF(path, NetCDFOptions{Variable: variable})
	}
	return nil, fmt.Errorf("%s: unknown data file type (expected .mat, .npy, .npz, .csv, .nc or .h5)", path)
}

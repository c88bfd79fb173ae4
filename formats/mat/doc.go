// Package mat reads and writes MATLAB level-5 MAT-files (the format MATLAB calls "-v6" and
// "-v7": a 128-byte text header followed by tagged data elements, optionally zlib-compressed).
// The reference is MathWorks' "MAT-File Format" document (matfile_format.pdf, versions 7 and
// later describe the same level-5 layout). HDF5-based -v7.3 files are not supported.
//
// Reading supports every numeric class (double, single, int8 to uint64, logical) with real and
// imaginary parts, char arrays stored as UTF-16, UTF-8 or 8-bit codes, cell arrays, struct
// arrays, objects (read as structs with a class name), sparse matrices, miCOMPRESSED elements,
// the small data element format, big- and little-endian files and N-dimensional arrays.
// Function handles and opaque (MCOS) objects are reported as unsupported when asked for.
//
// MATLAB stores arrays in column-major order (the first index varies fastest). Float64s and the
// other slice accessors return that order unchanged; Matrix and RowMajor convert to row-major
// (C) order. Index and Cell take a column-major linear index, as MATLAB's A(k) does, but
// zero-based.
//
//	f, err := mat.Open("92_brainRDMs.mat")
//	rdms, err := f.Var("RDMs")                // 1x4x2 struct
//	r, err := rdms.Index(0)                   // RDMs(1,1,1)
//	rdm, err := r.Field("RDM")
//	rows, cols, data, err := rdm.Matrix()      // 92 x 92, row-major
//
// Errors name the file, the variable and the path inside it, for example
// `92_brainRDMs.mat: variable "RDMs": element 0: field "RDM": expected numeric, found cell`.
//
// The writer (Write, Encode) stores numeric and char values, optionally compressed.
package mat

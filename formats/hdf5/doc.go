// Package hdf5 is a read-only reader for the subset of HDF5 that h5py, netCDF-4 and xarray
// write: Brain-Score's neural assemblies, NetCDF4 files and h5py dumps of activations.
//
// It is hand-written because no pure-Go HDF5 module is available to this project (the cgo
// bindings need libhdf5, which a static ventral binary cannot link). The reference is The HDF
// Group's "HDF5 File Format Specification Version 3.0".
//
// Supported: superblocks 0 to 3; object headers v1 and v2 with continuation blocks; groups with
// a symbol table (v1 B-tree and local heap), compact link messages and dense link storage
// (fractal heap and v2 B-tree); contiguous, compact and chunked datasets, chunks indexed by a
// v1 B-tree (layout messages 1 to 3: what h5py and netCDF-4 write by default) or, for layout
// 4 (h5py with libver="latest"), by a single chunk, an implicit index, a fixed array, an
// extensible array (up to 2^page-bits chunks per data block: 1024 by default, beyond which its
// data blocks are paged) or a v2 B-tree; the deflate, shuffle and fletcher32 (verified) filters;
// fixed-point, floating-point (16, 32 and 64 bits), fixed- and variable-length string,
// reference, enum (read as its integer base), compound and array datatypes (compound and array
// values can be described but not read); attributes in object headers and dense attribute
// storage, including huge fractal-heap objects; committed (shared) datatypes. Not supported,
// with an error naming the object: szip, n-bit, scale-offset and third-party filters (blosc,
// lz4, zstd), virtual and external storage, external links, shared object header messages
// (the SOHM table), filtered fractal heaps, paged extensible-array data blocks, VAX floats,
// integers with bit offsets or padding, and reading compound, array, opaque, time and bitfield
// values (their types are described, and their attributes skipped by formats/netcdf).
// Checksums are verified for superblocks 2 and 3, v2 object headers and their continuation
// blocks and v2 B-trees; those of fractal heaps, fixed and extensible arrays are not.
//
// Every size and address read from the file is checked against the file length before it is
// used, chunk sizes are bounded by the dataset's chunk shape, and reading a dataset writes chunk
// by chunk into its output, so a corrupt or hostile file gives an error, not a panic or a huge
// allocation. Reads larger than File.Limit bytes (DefaultLimit unless changed) are refused.
//
//	f, err := hdf5.Open("assembly.nc")
//	ds, err := f.Root().Dataset("data")
//	shape := ds.Shape()
//	vals, err := ds.ReadFloat64()          // row-major, len = product of shape
//	ids, err := f.Root().Dataset("stimulus_id")
//	names, err := ids.ReadStrings()
package hdf5

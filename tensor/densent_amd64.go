//go:build amd64 && !purego

package tensor

// streamNT6x16AVX2 adds to the 6x16 tile of Cᵀ at ct (rows ldct apart) the products over kc of 6
// rows of W (ldw apart, read in place) and the packed panel at of Aᵀ (kc rows of 16), prefetching
// W pfd bytes ahead.
//
//go:noescape
func streamNT6x16AVX2(kc int, w *float32, ldw int, at *float32, ct *float32, ldct int, pfd int)

// streamNT6x8AVX2 is streamNT6x16AVX2 for a tile of 8 rows of A (panel rows of 8).
//
//go:noescape
func streamNT6x8AVX2(kc int, w *float32, ldw int, at *float32, ct *float32, ldct int, pfd int)

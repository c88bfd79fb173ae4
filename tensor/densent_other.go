//go:build !amd64 || purego

package tensor

func streamNT6x16AVX2(kc int, w *float32, ldw int, at *float32, ct *float32, ldct int, pfd int) {
	panic("no AVX2")
}

func streamNT6x8AVX2(kc int, w *float32, ldw int, at *float32, ct *float32, ldct int, pfd int) {
	panic("no AVX2")
}

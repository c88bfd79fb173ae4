//go:build !amd64 || purego

package tensor

func dwRow(dst, src []float32, offs []int, ks []float32, bias float32) {
	dwRowGo(dst, src, offs, ks, bias)
}

func deinterleave2(even, odd, src []float32) { deinterleave2Go(even, odd, src) }

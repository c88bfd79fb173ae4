package tensor

// Strided row copies and accumulations for the convolution helpers (im2col and col2im of unit
// stride): one call moves a whole kernel tap's rows instead of one memmove per output row.

// CopyRows copies rows rows of cols elements, ld apart in src, to consecutive rows of dst:
// dst[r*cols+c] = src[r*ld+c].
func CopyRows(dst, src []float32, rows, cols, ld int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_ = dst[rows*cols-1]
	_ = src[(rows-1)*ld+cols-1]
	copyRows(dst, src, rows, cols, ld)
}

func copyRowsGo(dst, src []float32, rows, cols, ld int) {
	for r := 0; r < rows; r++ {
		copy(dst[r*cols:r*cols+cols], src[r*ld:r*ld+cols])
	}
}

// AddRows adds consecutive rows of src (rows x cols) onto rows ld apart in dst:
// dst[r*ld+c] += src[r*cols+c].
func AddRows(dst []float32, ld int, src []float32, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	_ = src[rows*cols-1]
	_ = dst[(rows-1)*ld+cols-1]
	addRows(dst, ld, src, rows, cols)
}

func addRowsGo(dst []float32, ld int, src []float32, rows, cols int) {
	for r := 0; r < rows; r++ {
		d, s := dst[r*ld:r*ld+cols], src[r*cols:r*cols+cols]
		for i, v := range s {
			d[i] += v
		}
	}
}

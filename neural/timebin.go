package neural

import "fmt"

// SelectTimeBin returns the responses in one time bin (all stimuli, neuroids and repetitions,
// metadata kept), for analyses that follow the responses over time bin by bin.
func (a *Assembly) SelectTimeBin(t int) (*Assembly, error) {
	S, N, T, R := a.Shape()
	if t < 0 || t >= T {
		return nil, fmt.Errorf("%s: time bin %d out of range (the data have %d: %v)", a.Name, t, T, a.TimeBins)
	}
	out := a.shallowMeta()
	out.TimeBins = []string{a.TimeBins[t]}
	out.Data = make([]float64, S*N*R)
	for s := 0; s < S; s++ {
		for n := 0; n < N; n++ {
			copy(out.Data[(s*N+n)*R:(s*N+n+1)*R], a.Data[a.idx(s, n, t, 0):a.idx(s, n, t, 0)+R])
		}
	}
	return out, nil
}

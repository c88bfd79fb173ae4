package train

import (
	"slices"

	"github.com/ventral-lab/ventral/imports"
)

// importedByName imports a network of the zoo's imported part by name (ok false: not one).
func importedByName(name string) (*imports.Model, bool, error) {
	if !slices.Contains(imports.Names(), name) {
		return nil, false, nil
	}
	m, err := imports.Named(name)
	return m, true, err
}

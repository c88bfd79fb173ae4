package main

import (
	"strings"
	"testing"
)

// The time course refuses, with the reason, what it cannot follow over time.
func TestAnalyzeTimeCourseRefusals(t *testing.T) {
	t.Cleanup(func() { resetFlags(rootCmd) })
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "time-course", "--model", "lenet5", "--layers", "conv1", "--benchmark", "kriegeskorte92-monkeyIT-rsa"}, "one time step"},
		{[]string{"analyze", "time-course", "--model", "blt-bl", "--layers", "l2", "--benchmark", "kriegeskorte92-monkeyIT-rsa"}, "data of kind rdm"},
		{[]string{"analyze", "time-course", "--model", "blt-bl", "--layers", "l2"}, "--benchmark is required"},
		{[]string{"analyze", "time-course", "--model", "blt-bl", "--benchmark", "x.yaml"}, "--layers is required"},
		{[]string{"analyze", "decode", "--model", "blt-bl", "--layers", "l2@t9"}, "step 9"},
	} {
		out, err := run(c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q\n%s", c.args, err, c.want, out)
		}
	}
}

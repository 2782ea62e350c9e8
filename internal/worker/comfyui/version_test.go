package comfyui

import "testing"

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want version
		bad  bool
	}{
		{in: "0.3.56", want: version{0, 3, 56}},
		{in: "v0.3.10-5-gabcdef", want: version{0, 3, 10}},
		{in: "0.38.1", want: version{0, 38, 1}},
		{in: "1.2", want: version{1, 2, 0}},
		{in: "unknown", bad: true},
		{in: "", bad: true},
		{in: "1.2.3.4", bad: true},
	} {
		v, err := parseVersion(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && v != tc.want) {
			t.Errorf("parseVersion(%q) = %v, %v", tc.in, v, err)
		}
	}
	since := mustVersion(DefaultTargetedInterruptSince)
	if !(version{0, 3, 99}).less(since) || (version{0, 38, 1}).less(since) || since.less(since) {
		t.Errorf("version order is wrong around %v", since)
	}
}

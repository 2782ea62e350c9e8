package translate

import (
	"errors"
	"testing"

	"aimg/internal/aimg"
)

// wantError checks that err is an *aimg.Error with code (and message, when
// msg is not "").
func wantError(t *testing.T, err error, code aimg.Code, msg string) {
	t.Helper()
	var ae *aimg.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T): want an *aimg.Error with code %s", err, err, code)
	}
	if ae.Code != code || (msg != "" && ae.Message != msg) {
		t.Fatalf("error code %s message %q (%v): want code %s message %q", ae.Code, ae.Message, err, code, msg)
	}
}

func mustOpen(t *testing.T, raw string, o Options) Provider {
	t.Helper()
	p, err := Open(raw, o)
	if err != nil {
		t.Fatalf("Open(%q): %v", raw, err)
	}
	return p
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBenchHelpAndRefusals(t *testing.T) {
	none := func(string) string { return "" }
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"bench", "--help"}, none, &out, &errOut); err != nil {
		t.Fatalf("bench --help: %v", err)
	}
	if !strings.Contains(out.String(), "--server") {
		t.Fatalf("bench --help printed %q", out.String())
	}
	for name, args := range map[string][]string{
		"no server":   {"bench", "--duration", "1s"},
		"no key":      {"bench", "--server", "http://127.0.0.1:1", "--duration", "1s"},
		"bad pid":     {"bench", "--server", "http://127.0.0.1:1", "--key", "k", "--server-pid", "x"},
		"stray arg":   {"bench", "extra"},
		"not an http": {"bench", "--server", "127.0.0.1:1", "--key", "k"},
	} {
		if err := run(context.Background(), args, none, &out, &errOut); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

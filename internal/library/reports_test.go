package library

import (
	"strings"
	"testing"
	"time"
)

// The ISO 8601 forms getReports' createdAfter/createdBefore accept; a date
// alone ends its day for createdBefore; anything else names the field.
func TestParseReportTime(t *testing.T) {
	day := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"2026-12-01T10:00:00.000Z":  day.Add(10 * time.Hour),
		"2026-12-01T10:00:00Z":      day.Add(10 * time.Hour),
		"2026-12-01T12:00:00+02:00": day.Add(10 * time.Hour),
		"2026-12-01T10:00:00.5":     day.Add(10*time.Hour + 500*time.Millisecond),
		"2026-12-01T10:00":          day.Add(10 * time.Hour),
		"2026-12-01":                day,
	} {
		got, err := parseReportTime("createdAfter", in, false)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	if got, _ := parseReportTime("createdBefore", "2026-12-01", true); !got.Equal(day.Add(24*time.Hour - time.Millisecond)) {
		t.Errorf("createdBefore date: %v", got)
	}
	if got, err := parseReportTime("createdAfter", " ", false); got != nil || err != nil {
		t.Errorf("empty: %v %v", got, err)
	}
	for _, in := range []string{"yesterday", "2026-13-01", "1700000000000", "2026-12-01T25:00:00Z"} {
		if _, err := parseReportTime("createdBefore", in, true); err == nil || !strings.HasPrefix(err.Error(), "createdBefore: ") {
			t.Errorf("%q: %v, want an error naming createdBefore", in, err)
		}
	}
}

func FuzzParseReportTime(f *testing.F) {
	for _, s := range []string{"2026-12-01", "2026-12-01T10:00:00.000Z", "x", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseReportTime("createdAfter", s, true)
		if err != nil && (got != nil || !strings.HasPrefix(err.Error(), "createdAfter: ") || len(err.Error()) > 400) {
			t.Fatalf("%q: %v %v", s, got, err)
		}
	})
}

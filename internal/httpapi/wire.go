package httpapi

import (
	"encoding/json"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// Small helpers shared by the wire types of every group.

// isoTime formats like JavaScript's toISOString: the spec's ISO 8601 form.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func isoTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := isoTime(*t)
	return &s
}

// msAndISO is a time as the spec's pair of fields (…Date in Unix ms, …Timestamp in ISO 8601).
func msAndISO(t *time.Time) (*int64, *string) {
	if t == nil {
		return nil, nil
	}
	ms := t.UnixMilli()
	return &ms, isoTimePtr(t)
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

// parseIDList reads a list parameter sent as "a,b" or as a JSON array.
func parseIDList(field, v string) ([]string, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "[") {
		var list []string
		if err := json.Unmarshal([]byte(v), &list); err != nil {
			return nil, aimg.Invalid(field, "expected a comma-separated list or a JSON array of strings")
		}
		return cleanList(list), nil
	}
	return SplitCommaList(v), nil
}

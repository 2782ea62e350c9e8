package httpapi

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"

	"github.com/danielgtaylor/huma/v2"
)

// StringList is an array parameter that clients may send either as a JSON
// array of strings or as one comma-separated string (DECISIONS.md). Entries
// are trimmed; empty ones are dropped.
type StringList []string

// UnmarshalJSON accepts ["a","b"] and "a,b".
func (l *StringList) UnmarshalJSON(b []byte) error {
	var list []string
	if err := json.Unmarshal(b, &list); err == nil {
		*l = cleanList(list)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return errors.New("expected an array of strings or a comma-separated string")
	}
	*l = SplitCommaList(s)
	return nil
}

// Schema documents (and lets huma validate) both accepted forms.
func (StringList) Schema(huma.Registry) *huma.Schema {
	return &huma.Schema{
		Description: "An array of strings, or one comma-separated string.",
		OneOf: []*huma.Schema{
			{Type: huma.TypeArray, Items: &huma.Schema{Type: huma.TypeString}},
			{Type: huma.TypeString},
		},
	}
}

// SplitCommaList splits a comma-separated list, trimming entries and
// dropping empty ones.
func SplitCommaList(s string) []string {
	return cleanList(strings.Split(s, ","))
}

func cleanList(in []string) []string {
	out := make([]string, 0, len(in))
	for _, v := range in {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// optionalBool is a query parameter whose absence differs from false.
type optionalBool struct {
	Value bool
	IsSet bool
}

func (o *optionalBool) Receiver() reflect.Value { return reflect.ValueOf(o).Elem().Field(0) }

func (o *optionalBool) OnParamSet(isSet bool, _ any) { o.IsSet = isSet }

// ptr returns a pointer to v when set, nil otherwise.
func (o optionalBool) ptr() *bool {
	if !o.IsSet {
		return nil
	}
	v := o.Value
	return &v
}

// Schema documents the parameter as the boolean it is.
func (optionalBool) Schema(huma.Registry) *huma.Schema { return &huma.Schema{Type: huma.TypeBoolean} }

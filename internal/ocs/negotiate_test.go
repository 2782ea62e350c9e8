package ocs

import (
	"net/http/httptest"
	"testing"
)

func TestFromAccept(t *testing.T) {
	cases := map[string]Format{
		"":                                  XML,
		"application/json":                  JSON, // NextcloudKit
		"application/xml":                   XML,
		"text/html, application/json":       JSON,
		"application/xml, application/json": XML,
		" Application/JSON ":                JSON,
		"json":                              JSON,
		"application/json; charset=utf-8":   XML, // parameters do not match
		"application/json;q=0.9":            XML,
		"*/*":                               XML,
		"text/xml, application/json":        JSON, // text/xml is not "xml"
		"application/vnd.api+json":          XML,
		"application/jsonx, xml":            XML,
	}
	for accept, want := range cases {
		if got := FromAccept(accept); got != want {
			t.Errorf("Accept %q: %v, want %v", accept, got, want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	cases := []struct {
		name   string
		params map[string]any
		accept string
		want   Format
		known  bool
	}{
		{"android-library format=json", map[string]any{"format": "json"}, "", JSON, true},
		{"format=xml beats Accept", map[string]any{"format": "xml"}, "application/json", XML, true},
		{"format=json beats Accept", map[string]any{"format": "json"}, "application/xml", JSON, true},
		{"NextcloudKit Accept", map[string]any{}, "application/json", JSON, true},
		{"default", nil, "", XML, true},
		{"null format is absent", map[string]any{"format": nil}, "application/json", JSON, true},
		{"unknown format", map[string]any{"format": "yaml"}, "application/json", XML, false},
		{"uppercase format", map[string]any{"format": "JSON"}, "", XML, false},
		{"array format", map[string]any{"format": []any{"json"}}, "", XML, false},
	}
	for _, c := range cases {
		got, known := Negotiate(c.params, c.accept)
		if got != c.want || known != c.known {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, known, c.want, c.known)
		}
	}
	// Through ParseRequest: format in the body counts too.
	r := request("POST", "/ocs/v2.php/x", "application/x-www-form-urlencoded", "format=json")
	p, err := ParseRequest(r, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := Negotiate(p, r.Header.Get("Accept")); f != JSON {
		t.Errorf("format in body: %v", f)
	}
	r = httptest.NewRequest("GET", "/ocs/v2.php/x?format=json", nil)
	p, _ = ParseRequest(r, DefaultLimits)
	if f, _ := Negotiate(p, ""); f != JSON {
		t.Errorf("format in query: %v", f)
	}
}

package ocs

import (
	"net/http/httptest"
	"testing"
)

func TestPassesCSRF(t *testing.T) {
	cases := []struct {
		name    string
		headers map[string]string
		want    bool
	}{
		{"OCS-APIRequest true", map[string]string{"OCS-APIRequest": "true"}, true},
		{"header name any case", map[string]string{"ocs-apirequest": "true"}, true},
		{"value True", map[string]string{"OCS-APIRequest": "True"}, false},
		{"value 1", map[string]string{"OCS-APIRequest": "1"}, false},
		{"value with spaces", map[string]string{"OCS-APIRequest": " true "}, true}, // optional white space, as servers strip it
		{"Bearer", map[string]string{"Authorization": "Bearer abc"}, true},
		{"bearer lowercase", map[string]string{"Authorization": "bearer abc"}, false},
		{"Basic only", map[string]string{"Authorization": "Basic dXNlcjpwYXNz"}, false},
		{"Basic and OCS-APIRequest", map[string]string{"Authorization": "Basic dXNlcjpwYXNz", "OCS-APIRequest": "true"}, true},
		{"nothing", nil, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("POST", "/ocs/v2.php/text2image/schedule", nil)
		for k, v := range c.headers {
			r.Header.Set(k, v)
		}
		if got := PassesCSRF(r); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestWriteCSRFFailure(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteCSRFFailure(rec)
	if rec.Code != 412 || rec.Body.String() != `{"message":"CSRF check failed"}` ||
		rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("%d %q %v", rec.Code, rec.Body, rec.Header())
	}
}

package server

import (
	"net/http"
	"testing"

	"aimg/internal/aimg"
)

// Every code maps to its status and back; the rest is internal, 500.
func TestStatusAndCode(t *testing.T) {
	for code, status := range map[aimg.Code]int{aimg.CodeInvalid: 400, aimg.CodeUnauthorized: 401, aimg.CodeForbidden: 403,
		aimg.CodeNotFound: 404, aimg.CodeConflict: 409, aimg.CodeGone: 410, aimg.CodeTooLarge: 413,
		aimg.CodeRateLimited: 429, aimg.CodeUnavailable: 503} {
		if Status(code) != status || Code(status) != code {
			t.Errorf("%s: Status %d, Code(%d) %s", code, Status(code), status, Code(status))
		}
	}
	if Status(aimg.CodeInternal) != http.StatusInternalServerError || Status("nonsense") != 500 || Code(418) != aimg.CodeInternal {
		t.Error("internal and unknown codes are not 500 / internal")
	}
}

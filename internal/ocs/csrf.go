package ocs

import (
	"net/http"
	"strings"
)

// PassesCSRF is SecurityMiddleware's rule for OCS controllers on routes
// without #[NoCSRFRequired]: the request passes when it carries the header
// "OCS-APIRequest" with exactly the value "true" (case-sensitive, as
// Nextcloud compares it), or an Authorization header starting with
// "Bearer " (case-sensitive). Basic auth alone does not pass: AIMG has no
// CSRF request tokens, so the third way in Nextcloud (a valid requesttoken,
// Request::passesCSRFCheck) never applies.
func PassesCSRF(r *http.Request) bool {
	// Servers strip the optional white space around a header value before
	// PHP sees it; net/http does the same for requests it reads.
	if strings.Trim(r.Header.Get("OCS-APIRequest"), " \t") == "true" {
		return true
	}
	return strings.HasPrefix(strings.TrimLeft(r.Header.Get("Authorization"), " \t"), "Bearer ")
}

// CSRFFailureBody is the body of the refusal: the JSONResponse
// SecurityMiddleware::afterException builds from
// CrossSiteRequestForgeryException (not an OCS envelope).
const CSRFFailureBody = `{"message":"CSRF check failed"}`

// WriteCSRFFailure writes Nextcloud's refusal: HTTP 412 with the plain JSON
// body {"message":"CSRF check failed"}.
func WriteCSRFFailure(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusPreconditionFailed)
	_, _ = w.Write([]byte(CSRFFailureBody))
}

package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"aimg/internal/aimg"
)

// CSRF: every state-changing request carries the token of its session, in
// the form field "csrf" or the X-CSRF-Token header. The token is an HMAC of
// the session id under a server secret, so it needs no storage, every
// replica checks it, and it changes when a sign-in rotates the session.
// Go's CrossOriginProtection refuses cross-site browser requests first
// (Sec-Fetch-Site, Origin), whatever they carry.

// CSRFField is the form field of the token.
const CSRFField = "csrf"

// csrfKey derives the token key from the admin key, the one secret every
// replica shares (as the OTP key does); without one, a per-process key.
func csrfKey(adminKey string) []byte {
	if adminKey == "" {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		return k
	}
	sum := sha256.Sum256([]byte("aimg web csrf v1\x00" + adminKey))
	return sum[:]
}

func (s *Server) csrfToken(c aimg.Caller) string {
	if c.Session == nil {
		return ""
	}
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(c.Session.ID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF guards every method that is not safe: the cross-origin check,
// then the token against the session cookie's id, before any handler runs.
func (s *Server) checkCSRF(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writePlainError(w, r, http.StatusForbidden, "Cross-site request refused")
	}))
	return cop.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := s.parseForm(r); err != nil {
				if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
					writePlainError(w, r, http.StatusRequestEntityTooLarge, s.tooLarge(r))
					return
				}
				writePlainError(w, r, http.StatusBadRequest, "The form could not be read: "+err.Error())
				return
			}
			if !s.tokenOK(r) {
				writePlainError(w, r, http.StatusForbidden, "The form is out of date or did not come from this site (CSRF token missing or wrong); reload the page and try again")
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
}

// tokenOK compares the request's token with its session cookie's. A
// request without a session cookie has no valid token.
func (s *Server) tokenOK(r *http.Request) bool {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return false
	}
	got := r.Header.Get("X-CSRF-Token")
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	want := s.csrfToken(aimg.Caller{Session: &aimg.Session{ID: strings.ToLower(ck.Value)}})
	return got != "" && hmac.Equal([]byte(got), []byte(want))
}

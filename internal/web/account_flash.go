package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"

	"aimg/internal/aimg"
)

// A flash is the one-line outcome of an account form ("Password changed"),
// shown once by the page the form redirects to (post/redirect/get). It
// travels in a short-lived cookie signed for the session, so that no URL
// carries text the page would show (no content spoofing by link) and
// another session's cookie does not verify.

// flashCookie names the flash's cookie.
const flashCookie = "aimg_flash"

func (s *Server) flashSum(c aimg.Caller, msg string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte("flash\x00" + c.Session.ID + "\x00" + msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// setFlash keeps msg for the next page of the caller's session.
func (s *Server) setFlash(w http.ResponseWriter, r *http.Request, c aimg.Caller, msg string) {
	if c.Session == nil || msg == "" {
		return
	}
	v := base64.RawURLEncoding.EncodeToString([]byte(msg)) + "." + s.flashSum(c, msg)
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: v, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.https(r), MaxAge: 120})
}

// takeFlash returns the caller's flash, if any, and clears it.
func (s *Server) takeFlash(w http.ResponseWriter, r *http.Request, c aimg.Caller) string {
	ck, err := r.Cookie(flashCookie)
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.https(r), MaxAge: -1})
	enc, sum, ok := strings.Cut(ck.Value, ".")
	raw, err := base64.RawURLEncoding.DecodeString(enc)
	if !ok || err != nil || c.Session == nil || !hmac.Equal([]byte(sum), []byte(s.flashSum(c, string(raw)))) {
		return ""
	}
	return string(raw)
}

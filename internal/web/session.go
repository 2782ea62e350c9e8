package web

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/server"
)

// SessionCookie carries the account service's session id (the API's
// X-Session-ID). It is HttpOnly and SameSite=Lax, Secure behind HTTPS, and
// the id never appears in a URL or a page.
const SessionCookie = "aimg_session"

// withCaller resolves the cookie's session as the API resolves X-Session-ID.
// A visitor without a (well-formed, live) cookie gets a new anonymous
// session id in a cookie at once, so that its forms carry a CSRF token
// bound to it; the session is stored only when it first needs a user.
func (s *Server) withCaller(h func(w http.ResponseWriter, r *http.Request, c aimg.Caller)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := server.Info(r.Context())
		c := aimg.Caller{ClientIP: ri.ClientIP, Domain: s.Config.Service.DomainForHost(ri.Host).ID}
		id := ""
		if ck, err := r.Cookie(SessionCookie); err == nil {
			if u, err := uuid.Parse(ck.Value); err == nil && len(ck.Value) == 36 {
				id = strings.ToLower(u.String())
			}
		}
		fresh := id == ""
		if fresh {
			id = uuid.NewString()
		}
		sess, user, err := s.Accounts.ResolveSession(r.Context(), c.Domain, id)
		if aimg.ErrorCode(err) == aimg.CodeUnauthorized {
			// A disabled account or another domain's session: carry on
			// as a new visitor (the sign-in page says why, if they try).
			id, fresh = uuid.NewString(), true
			sess, user, err = s.Accounts.ResolveSession(r.Context(), c.Domain, id)
		}
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		c.Session, c.User = sess, user
		if user != nil {
			ri.UserID = user.ID
		}
		if fresh {
			s.setSession(w, r, id)
		}
		h(w, r, c)
	})
}

// setSession puts id in the session cookie (a sign-in rotates it).
func (s *Server) setSession(w http.ResponseWriter, r *http.Request, id string) {
	s.sessionCookie(w, r, id, int(s.Config.Service.Accounts.SessionTTL.Seconds()))
}

// clearSession tells the browser to forget the session cookie.
func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	s.sessionCookie(w, r, "", -1)
}

// sessionCookie sets the session cookie with its flags, the same for
// setting and for clearing it.
func (s *Server) sessionCookie(w http.ResponseWriter, r *http.Request, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.https(r), MaxAge: maxAge,
	})
}

// https tells whether the browser reached us over HTTPS: the public URL
// says so, the connection is TLS, or a trusted proxy says it ended TLS.
func (s *Server) https(r *http.Request) bool {
	return strings.HasPrefix(s.Config.PublicURL, "https://") || r.TLS != nil ||
		(s.Config.Service.HTTP.TrustProxyHeaders && r.Header.Get("X-Forwarded-Proto") == "https")
}

package ocs

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/server"
)

// caller resolves who is calling: HTTP Basic (email or username, with the
// password or an app password), or X-Session-ID, or nobody (a guest
// without a session; schedule routes give one a new session, see
// guestSession). A failed Basic login is 401 (997), throttled by the
// account service per client and per login.
func (s *Server) caller(ctx context.Context, r *http.Request) (aimg.Caller, error) {
	ri := server.Info(ctx)
	c := aimg.Caller{ClientIP: ri.ClientIP, Domain: s.opts.Domain(ri.Host)}
	if auth := r.Header.Get("Authorization"); auth != "" {
		login, secret, ok := basicCredentials(auth)
		if !ok {
			return c, aimg.Errorf(aimg.CodeUnauthorized, "Unsupported authorization; use HTTP Basic with an app password")
		}
		u, err := s.opts.Accounts.AuthenticateBasic(ctx, c, login, secret)
		if err != nil {
			return c, err
		}
		c.User = u
		ri.UserID = u.ID
		return c, nil
	}
	id := r.Header.Get("X-Session-ID")
	if id == "" {
		return c, nil
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return c, aimg.Invalid("X-Session-ID", "must be a UUID")
	}
	sess, u, err := s.opts.Accounts.ResolveSession(ctx, c.Domain, strings.ToLower(id))
	if err != nil {
		return c, err
	}
	c.Session, c.User = sess, u
	if u != nil {
		ri.UserID = u.ID
	}
	return c, nil
}

// basicCredentials splits an "Authorization: Basic" value (the scheme is
// case-insensitive, RFC 7617).
func basicCredentials(auth string) (login, secret string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(auth), " ")
	if !found || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest))
	if err != nil {
		return "", "", false
	}
	login, secret, ok = strings.Cut(string(raw), ":")
	return login, secret, ok && login != ""
}

// guestSession gives a caller without credentials or session a new
// anonymous session before it schedules, so that it can read its task
// back: the id is sent in the X-Session-ID response header (Nextcloud
// ties anonymous tasks to nobody; AIMG ties them to this session).
func (s *Server) guestSession(ctx context.Context, c *call) error {
	if c.caller.Session != nil || c.caller.User != nil {
		return nil
	}
	id := uuid.NewString()
	sess, u, err := s.opts.Accounts.ResolveSession(ctx, c.caller.Domain, id)
	if err != nil {
		return err
	}
	c.caller.Session, c.caller.User = sess, u
	c.w.Header().Set("X-Session-ID", id)
	return nil
}

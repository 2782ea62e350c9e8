package httpapi

import (
	"context"
	"strings"

	"aimg/internal/aimg"
)

// Auth is embedded in the input of every operation that may carry a session
// or the admin key. A malformed X-Session-ID never reaches a handler: the
// checkSessionHeader middleware answers 400.
type Auth struct {
	SessionID string `header:"X-Session-ID" doc:"The current session, a UUID."`
	AdminKey  string `header:"X-Administration-Key" doc:"The administration key, for admin calls."`
}

// sessionPolicy says what an operation does without X-Session-ID.
type sessionPolicy int

const (
	sessionOptional sessionPolicy = iota // anonymous callers are fine
	sessionRequired                      // 401 without a session
	sessionCreate                        // start a new session (createUser, authenticateUser, getSelfUser)
)

// caller resolves who is calling. An unknown but well-formed session id
// starts a new anonymous session under that id.
func (s *Server) caller(ctx context.Context, a Auth, p sessionPolicy) (aimg.Caller, error) {
	ri := infoFrom(ctx)
	c := aimg.Caller{
		Admin:    s.adminKeyOK(a.AdminKey),
		ClientIP: ri.clientIP,
		Domain:   s.Config.Service.DomainForHost(ri.host).ID,
	}
	if a.SessionID == "" && p != sessionCreate {
		if p == sessionRequired && !c.Admin {
			return c, aimg.ErrUnauthenticated
		}
		return c, nil
	}
	sess, user, err := s.Accounts.ResolveSession(ctx, c.Domain, strings.ToLower(a.SessionID))
	if err != nil {
		return c, err
	}
	c.Session, c.User = sess, user
	if user != nil {
		ri.userID = user.ID
	}
	return c, nil
}

// admin requires a valid X-Administration-Key. A wrong key is treated as
// none: 401 for anonymous callers, 403 for signed-in users.
func (s *Server) admin(ctx context.Context, a Auth) (aimg.Caller, error) {
	if s.adminKeyOK(a.AdminKey) {
		return s.caller(ctx, a, sessionOptional)
	}
	a.AdminKey = ""
	c, err := s.caller(ctx, a, sessionOptional)
	if err != nil {
		return c, err
	}
	if c.SignedIn() {
		return c, aimg.ErrAdminRequired
	}
	return c, aimg.Errorf(aimg.CodeUnauthorized, "A valid X-Administration-Key is required")
}

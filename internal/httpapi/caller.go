package httpapi

import (
	"context"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"aimg/internal/aimg"
	"aimg/internal/server"
)

// Auth is embedded in the input of every operation that may carry a session
// or the admin key. A malformed X-Session-ID never reaches a handler: the
// checkSessionHeader middleware answers 400.
type Auth struct {
	SessionID string `header:"X-Session-ID" doc:"The current session, a UUID."`
	AdminKey  string `header:"X-Administration-Key" doc:"The administration key, for admin calls."`
}

func (a *Auth) credentials() Auth { return *a }

// credentialed is every input that embeds Auth.
type credentialed interface{ credentials() Auth }

// access says who may call an operation (the route table's third column).
type access int

const (
	anyone     access = iota // no session needed; one that is sent is resolved
	newSession               // without X-Session-ID a new session is started (createUser, authenticateUser, getSelfUser)
	session                  // a session (a guest is fine) or the admin key; else 401
	signedIn                 // a signed-in account's session; else 401
	admin                    // the X-Administration-Key; else 401 (403 for a signed-in user), before the body is read
	ownSession               // the handler reads X-Session-ID itself and nothing is resolved (signOutUser)
)

func (a access) String() string {
	return [...]string{"anyone", "newSession", "session", "signedIn", "admin", "ownSession"}[a]
}

// security is what the OpenAPI document declares for the access level; an
// empty requirement ({}) means the credential is optional.
func (a access) security() []map[string][]string {
	sess, key, none := map[string][]string{"session": {}}, map[string][]string{"adminKey": {}}, map[string][]string{}
	switch a {
	case session, signedIn:
		return []map[string][]string{sess, key}
	case admin:
		return []map[string][]string{key}
	default:
		return []map[string][]string{none, sess}
	}
}

// route is one row of the table, kept for tests.
type route struct {
	Name, Method, Path string
	Access             access
}

// register mounts one operation: the caller is resolved as its access level
// says before the handler runs, and the OpenAPI security requirement is
// generated from the same level.
func register[I, O any](s *Server, spec opSpec, who access, h func(context.Context, aimg.Caller, *I) (*O, error)) {
	op := s.build(spec)
	if _, ok := any(new(I)).(credentialed); ok {
		op.Security = who.security()
	}
	if who == admin {
		op.Middlewares = append(op.Middlewares, s.requireAdminFirst)
	}
	s.table = append(s.table, route{Name: op.OperationID, Method: op.Method, Path: op.Path, Access: who})
	huma.Register(s.api, op, func(ctx context.Context, in *I) (*O, error) {
		var a Auth
		if c, ok := any(in).(credentialed); ok {
			a = c.credentials()
		}
		c, err := s.resolve(ctx, a, who)
		if err != nil {
			return nil, err
		}
		return h(ctx, c, in)
	})
}

// resolve finds who is calling, as the access level requires.
func (s *Server) resolve(ctx context.Context, a Auth, who access) (aimg.Caller, error) {
	switch who {
	case admin:
		return s.admin(ctx, a)
	case ownSession:
		return s.anonymousCaller(ctx, a)
	}
	c, err := s.anonymousCaller(ctx, a)
	if err != nil {
		return c, err
	}
	if a.SessionID == "" && who != newSession {
		if (who == session && !c.Admin) || who == signedIn {
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
		server.Info(ctx).UserID = user.ID
	}
	if who == signedIn && !c.SignedIn() {
		return c, aimg.ErrUnauthenticated
	}
	return c, nil
}

// anonymousCaller is the caller before any session is looked up; an
// X-Administration-Key is checked under "adminKey:ip" (a refused one is
// 429 once the address has guessed too often).
func (s *Server) anonymousCaller(ctx context.Context, a Auth) (aimg.Caller, error) {
	ri := server.Info(ctx)
	c := aimg.Caller{ClientIP: ri.ClientIP, Domain: s.Config.Service.DomainForHost(ri.Host).ID}
	var err error
	c.Admin, err = s.Accounts.CheckAdminKey(ctx, a.AdminKey, ri.ClientIP)
	return c, err
}

// admin requires a valid X-Administration-Key. A wrong key is treated as
// none: 401 for anonymous callers, 403 for signed-in users.
func (s *Server) admin(ctx context.Context, a Auth) (aimg.Caller, error) {
	ok, err := s.Accounts.CheckAdminKey(ctx, a.AdminKey, server.Info(ctx).ClientIP)
	if err != nil {
		return aimg.Caller{}, err
	}
	if ok {
		a.AdminKey = "" // checked: resolve must not count it again
		c, err := s.resolve(ctx, a, anyone)
		c.Admin = true
		return c, err
	}
	a.AdminKey = ""
	c, err := s.resolve(ctx, a, anyone)
	if err != nil {
		return c, err
	}
	if c.SignedIn() {
		return c, aimg.ErrAdminRequired
	}
	return c, aimg.Errorf(aimg.CodeUnauthorized, "A valid X-Administration-Key is required")
}

package httpapi

import (
	"context"

	"aimg/internal/aimg"
)

// App passwords (beyond the spec): secrets a user makes for Nextcloud
// clients and scripts, which sign in with HTTP Basic on the OCS surface
// (docs/api.md "App passwords").

// AppPassword is an app password as listed; the secret is never in it.
type AppPassword struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	CreatedAt  string  `json:"createdAt"`
	LastUsedAt *string `json:"lastUsedAt" doc:"When a client last signed in with it (to the minute); null until then."`
}

func appPassword(p aimg.AppPassword) AppPassword {
	return AppPassword{ID: p.ID, Name: p.Name, CreatedAt: isoTime(p.CreatedAt), LastUsedAt: isoTimePtr(p.LastUsedAt)}
}

type createAppPasswordInput struct {
	Auth
	Body struct {
		Name string `json:"name" doc:"Which app or device it is for (at most 100 bytes)."`
	}
}

// NewAppPassword is createAppPassword's answer: the password, shown this once.
type NewAppPassword struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Password  string `json:"password" doc:"The app password (72 letters and digits); shown only now, stored hashed."`
	CreatedAt string `json:"createdAt"`
}

func (s *Server) createAppPassword(ctx context.Context, c aimg.Caller, in *createAppPasswordInput) (*Response[NewAppPassword], error) {
	p, secret, err := s.Accounts.CreateAppPassword(ctx, c, in.Body.Name)
	if err != nil {
		return nil, err
	}
	return reply(NewAppPassword{ID: p.ID, Name: p.Name, Password: secret, CreatedAt: isoTime(p.CreatedAt)})
}

func (s *Server) getAppPasswords(ctx context.Context, c aimg.Caller, _ *struct{ Auth }) (*Response[[]AppPassword], error) {
	list, err := s.Accounts.AppPasswords(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]AppPassword, len(list))
	for i, p := range list {
		out[i] = appPassword(p)
	}
	return reply(out)
}

type revokeAppPasswordInput struct {
	Auth
	Body struct {
		ID string `json:"id"`
	}
}

func (s *Server) revokeAppPassword(ctx context.Context, c aimg.Caller, in *revokeAppPasswordInput) (*Response[Success], error) {
	if err := s.Accounts.RevokeAppPassword(ctx, c, in.Body.ID); err != nil {
		return nil, err
	}
	return reply(Success{Success: true})
}

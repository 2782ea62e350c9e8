package aimg

import "time"

// OAuthState is one external sign-in under way (POST /auth/{provider}),
// kept until its callback takes it or it expires.
type OAuthState struct {
	State                string
	Provider             string
	Verifier             string // the PKCE code verifier
	SessionID            string // the session that started the flow; signing in rotates it
	Domain               string
	RedirectURL          string
	RefList              []string
	RS                   string
	IsAtLeast18Confirmed bool
	CreatedAt            time.Time
	ExpiresAt            time.Time
}

// UserIdentity links an external account (provider, its user id) to a user.
type UserIdentity struct {
	Domain         string
	Provider       string // github, discord, google
	ProviderUserID string
	UserID         string
	Email          string
	CreatedAt      time.Time
}

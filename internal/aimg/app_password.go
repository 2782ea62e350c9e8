package aimg

import "time"

// AppPassword is a secret a user made for one client (a Nextcloud app, a
// script) to sign in with HTTP Basic instead of the account password. The
// secret itself is shown once and never stored: SecretHash is its SHA-256.
type AppPassword struct {
	ID         string
	UserID     string
	Name       string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt *time.Time // to the minute; nil until first used
}

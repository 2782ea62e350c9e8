package aimg

import "time"

// Role names stored on users; the admin key is the only admin credential for
// now, roles are kept for the RBAC the spec announces.
const (
	RoleUser  = "user"
	RoleAdmin = "admin"
)

// User is an account, or the guest record behind an anonymous session.
type User struct {
	ID                    string
	Domain                string
	Email                 string // empty for guests
	Username              string
	PasswordHash          string // argon2id PHC string; never leaves the account package
	IsGuest               bool
	IsAtLeast18Confirmed  bool
	Roles                 []string
	Abuse                 int
	ProfilePicture        string // WebP data URI, empty when none
	ProfilePictureBanned  bool
	AdditionalInformation string
	RefList               []string
	RS                    string
	Tier                  int
	TierExpiration        *time.Time
	MerchantProcessor     string
	CreatedAt             time.Time
	UpdatedAt             time.Time
	DeletedAt             *time.Time
	ArchivedEmails        []ArchivedEmail
	OTPLogin              bool // has signed in with a one-time password (LoginProvider internal/OTP)
	DeleteItemsRequested  bool // deleted with deleteItems=true: the library purges the Items
}

// ArchivedEmail is a previous email of a user, kept when it changes.
type ArchivedEmail struct {
	Email      string
	ArchivedAt time.Time
}

// Deleted tells whether the account was deleted.
func (u *User) Deleted() bool { return u.DeletedAt != nil }

// Disabled tells whether the account may not be used: deleted or abuse level 9.
func (u *User) Disabled() bool { return u.Deleted() || u.Abuse >= AbuseDisabled }

// EffectiveTier is the PRO tier in force at now (an expired tier counts as 0).
func (u *User) EffectiveTier(now time.Time) int {
	if u.TierExpiration != nil && !u.TierExpiration.After(now) {
		return 0
	}
	return u.Tier
}

// Abuse levels (DECISIONS.md): each level includes the limits of the ones below.
const (
	AbuseNoApprovalRequests = 1
	AbuseNoPublic           = 2
	AbuseConcurrencyOne     = 3
	AbuseNoReportsOrLikes   = 4
	AbuseNoPriority         = 5
	AbuseNoProfileChanges   = 6
	AbuseHourlyLimit        = 7
	AbuseNoGeneration       = 8
	AbuseDisabled           = 9
	MaxAbuse                = 9
)

// Session is an X-Session-ID. A session without a user is anonymous; a
// guest session gets a guest User when it first needs one (e.g. to own Items).
type Session struct {
	ID            string
	UserID        string // empty until the session has a user
	Authenticated bool   // signed in to a real (non-guest) account
	CreatedAt     time.Time
	LastSeenAt    time.Time
}

// Caller is who makes a request, resolved by the HTTP layer and passed to services.
type Caller struct {
	Session  *Session // nil when the request carried no session
	User     *User    // nil for an anonymous session without a guest record
	Admin    bool     // presented a valid X-Administration-Key
	ClientIP string
	Domain   string
}

// SignedIn tells whether the caller is an authenticated, non-guest user.
func (c Caller) SignedIn() bool {
	return c.Session != nil && c.Session.Authenticated && c.User != nil && !c.User.IsGuest
}

package account

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Self is the caller as getSelfUser shows it: the session and, when there
// is one, its user (an account or a guest record).
type Self struct {
	Session *aimg.Session
	User    *aimg.User
}

// ItemCounts are the Item counts SelfUser and the admin view show.
type ItemCounts struct {
	Items           int64 // live Items of the user
	RootFolderItems int64 // live Items in no Folder
	PublicItems     int64 // live Items in Public Folders (publicItemCount)
}

// ItemCounts counts the user's live Items; a nil user has none.
func (s *Service) ItemCounts(ctx context.Context, u *aimg.User) (ItemCounts, error) {
	var c ItemCounts
	if u == nil {
		return c, nil
	}
	var err error
	if c.Items, err = s.store.CountItems(ctx, u.ID); err != nil {
		return c, err
	}
	if c.RootFolderItems, err = s.store.CountRootItems(ctx, u.ID); err != nil {
		return c, err
	}
	c.PublicItems, err = s.store.CountUserPublicItems(ctx, u.ID)
	return c, err
}

// NewUser is the input of CreateUser.
type NewUser struct {
	Email                string
	Username             string
	Password             string
	OTP                  string
	IsAtLeast18Confirmed bool
	RefList              []string
	RS                   string
}

// Credentials is the input of Authenticate.
type Credentials struct {
	Email                string
	Password             string
	OTP                  string
	IsAtLeast18Confirmed bool
}

// CreateUser registers an account by email with an OTP (proving the email)
// and/or a password, and signs the caller in on a new session. Every input
// is checked before the OTP is used up, so a bad username does not burn it.
func (s *Service) CreateUser(ctx context.Context, c aimg.Caller, in NewUser) (*Self, error) {
	if err := s.allow(ctx, "createUser:ip", c.ClientIP); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if in.Password == "" && in.OTP == "" {
		return nil, aimg.Invalid("password", "at least one of password and otp is required")
	}
	if in.Username != "" {
		if err := CheckUsername(in.Username); err != nil {
			return nil, err
		}
	}
	if in.Password != "" {
		if err := CheckPasswordRule(in.Password); err != nil {
			return nil, err
		}
	}
	if in.OTP != "" {
		if err := checkOTPFormat(in.OTP); err != nil {
			return nil, err
		}
	}
	refList, err := cleanRefList(in.RefList)
	if err != nil {
		return nil, err
	}
	if len(in.RS) > maxRSBytes {
		return nil, aimg.Invalid("rs", "must be at most %d bytes", maxRSBytes)
	}
	if _, err := s.store.UserByEmail(ctx, c.Domain, email); err == nil {
		return nil, &aimg.Error{Code: aimg.CodeConflict, Field: "email", Message: "email: already registered"}
	} else if !aimg.IsNotFound(err) {
		return nil, err
	}
	if in.Username != "" {
		if _, err := s.store.UserByUsername(ctx, c.Domain, in.Username); err == nil {
			return nil, &aimg.Error{Code: aimg.CodeConflict, Field: "username", Message: "username: already taken"}
		} else if !aimg.IsNotFound(err) {
			return nil, err
		}
	}
	if in.OTP != "" {
		ok, err := s.consumeOTP(ctx, c.Domain, email, in.OTP)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errWrongCredentials
		}
	}
	now := s.now()
	u := &aimg.User{
		ID: uuid.NewString(), Domain: c.Domain, Email: email, Username: in.Username,
		IsAtLeast18Confirmed: in.IsAtLeast18Confirmed, Roles: []string{aimg.RoleUser},
		RefList: refList, RS: in.RS, OTPLogin: in.OTP != "", CreatedAt: now, UpdatedAt: now,
	}
	if in.Password != "" {
		if u.PasswordHash, err = s.hashPassword(ctx, in.Password); err != nil {
			return nil, err
		}
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	s.log.InfoContext(ctx, "user created", "user", u.ID, "domain", u.Domain, "with_otp", u.OTPLogin)
	return s.signIn(ctx, c, u)
}

// Authenticate signs in with a password or an OTP (either valid credential
// suffices). An unknown email with a valid OTP registers the account, as
// the spec says. Every failure is the same 401, and an unknown email costs
// a password hash like a known one, so answers do not reveal accounts.
func (s *Service) Authenticate(ctx context.Context, c aimg.Caller, in Credentials) (*Self, error) {
	email, err := NormalizeEmail("email", in.Email)
	if err != nil {
		return nil, err
	}
	if in.Password == "" && in.OTP == "" {
		return nil, aimg.Invalid("password", "at least one of password and otp is required")
	}
	if in.OTP != "" {
		if err := checkOTPFormat(in.OTP); err != nil {
			return nil, err
		}
	}
	if err := s.allow(ctx, "authenticateUser:ip", c.ClientIP); err != nil {
		return nil, err
	}
	if err := s.allow(ctx, "authenticateUser:email", c.Domain+"/"+email); err != nil {
		return nil, err
	}
	u, err := s.store.UserByEmail(ctx, c.Domain, email)
	switch {
	case aimg.IsNotFound(err):
		u = nil
	case err != nil:
		return nil, err
	}
	ok, usedOTP := false, false
	if in.Password != "" {
		if ok, err = s.checkPassword(ctx, u, in.Password); err != nil {
			return nil, err
		}
	}
	if !ok && in.OTP != "" {
		if ok, err = s.consumeOTP(ctx, c.Domain, email, in.OTP); err != nil {
			return nil, err
		}
		usedOTP = ok
	}
	if !ok {
		return nil, errWrongCredentials
	}
	now := s.now()
	if u == nil {
		u = &aimg.User{
			ID: uuid.NewString(), Domain: c.Domain, Email: email, Roles: []string{aimg.RoleUser},
			IsAtLeast18Confirmed: in.IsAtLeast18Confirmed, OTPLogin: true, CreatedAt: now, UpdatedAt: now,
		}
		if err := s.store.CreateUser(ctx, u); err != nil {
			return nil, err
		}
		s.log.InfoContext(ctx, "user registered by one-time password", "user", u.ID, "domain", u.Domain)
		return s.signIn(ctx, c, u)
	}
	if u.Disabled() {
		if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return nil, err
		}
		return nil, aimg.Errorf(aimg.CodeUnauthorized, "This account is disabled")
	}
	if (usedOTP && !u.OTPLogin) || (in.IsAtLeast18Confirmed && !u.IsAtLeast18Confirmed) {
		u.OTPLogin = u.OTPLogin || usedOTP
		u.IsAtLeast18Confirmed = u.IsAtLeast18Confirmed || in.IsAtLeast18Confirmed
		u.UpdatedAt = now
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return nil, err
		}
	}
	return s.signIn(ctx, c, u)
}

// checkPassword verifies p for u; for an unknown user or one without a
// password it verifies against a dummy hash so the timing is the same.
func (s *Service) checkPassword(ctx context.Context, u *aimg.User, p string) (bool, error) {
	release, err := s.hashTurn(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if u == nil || u.PasswordHash == "" {
		s.dummyOnce.Do(func() { s.dummyHash, _ = HashPassword("dummy password for timing") })
		_, _ = VerifyPassword(s.dummyHash, p)
		return false, nil
	}
	ok, err := VerifyPassword(u.PasswordHash, p)
	if err != nil {
		return false, aimg.Internal(err)
	}
	return ok, nil
}

// signIn starts a new authenticated session for u and ends the caller's
// old one (rotation: the old id no longer authenticates). A guest record
// behind the old session is handed to the account.
func (s *Service) signIn(ctx context.Context, c aimg.Caller, u *aimg.User) (*Self, error) {
	now := s.now()
	oldID := ""
	if c.Session != nil {
		oldID = c.Session.ID
		if g := c.User; g != nil && g.IsGuest && g.ID != u.ID {
			if g.IsAtLeast18Confirmed && !u.IsAtLeast18Confirmed {
				u.IsAtLeast18Confirmed, u.UpdatedAt = true, now
				if err := s.store.UpdateUser(ctx, u); err != nil {
					return nil, err
				}
			}
			if err := s.store.MoveGuestData(ctx, g.ID, u.ID, now); err != nil {
				return nil, err
			}
		}
	}
	next := &aimg.Session{ID: uuid.NewString(), UserID: u.ID, Authenticated: true, CreatedAt: now, LastSeenAt: now}
	if err := s.store.RotateSession(ctx, oldID, next, s.sessionExpiry(now)); err != nil {
		return nil, err
	}
	return &Self{Session: next, User: u}, nil
}

// SignOut ends the session id; it reports whether a live session existed
// (an anonymous session that owns nothing is not stored, so it has nothing
// to sign out of). It never creates a session.
func (s *Service) SignOut(ctx context.Context, sessionID string) (bool, error) {
	sessionID = strings.ToLower(sessionID)
	if _, err := s.store.SessionByID(ctx, sessionID, s.now()); aimg.IsNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return s.store.DeleteSession(ctx, sessionID)
}

// GuestUser returns the caller's user, creating the guest record behind an
// anonymous session when it first needs one (to own Items, to remember the
// 18+ confirmation); this is also when the session is first stored. Parallel
// first requests of one session get the same guest. Creating one is rate
// limited per client address ("newSession:ip"), since each costs a user and
// a session row for sessionTTL.
func (s *Service) GuestUser(ctx context.Context, c aimg.Caller) (*aimg.User, error) {
	if c.User != nil {
		return c.User, nil
	}
	if c.Session == nil {
		return nil, aimg.ErrUnauthenticated
	}
	// Parallel first requests of one session take turns here, and a later
	// one finds the guest an earlier one stored: it is this session's and
	// costs no "newSession:ip" token (each request took one before). Across
	// replicas the insert-or-get below still makes one guest; only the
	// token may be taken twice.
	unlock := s.firstUse.Lock(c.Session.ID)
	defer unlock()
	if u, ok, err := s.storedUser(ctx, c.Session.ID); err != nil {
		return nil, err
	} else if ok {
		c.Session.UserID = u.ID
		return u, nil
	}
	if err := s.allow(ctx, "newSession:ip", c.ClientIP); err != nil {
		return nil, err
	}
	now := s.now()
	g := &aimg.User{ID: uuid.NewString(), Domain: c.Domain, IsGuest: true, Roles: []string{}, CreatedAt: now, UpdatedAt: now}
	sess := *c.Session
	sess.LastSeenAt = now
	u, err := s.store.GuestSession(ctx, &sess, g, s.sessionExpiry(now))
	if err != nil {
		return nil, err
	}
	c.Session.UserID = u.ID
	return u, nil
}

// storedUser is the user of the stored session id; ok is false when the
// session is not stored or has no user yet.
func (s *Service) storedUser(ctx context.Context, sessionID string) (u *aimg.User, ok bool, err error) {
	sess, err := s.store.SessionByID(ctx, sessionID, s.now())
	if aimg.IsNotFound(err) || (err == nil && sess.UserID == "") {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	u, err = s.store.UserByID(ctx, sess.UserID)
	return u, err == nil, err
}

// sessionExpiry is when a session touched at now expires.
func (s *Service) sessionExpiry(now time.Time) time.Time {
	return now.Add(s.cfg.Service.Accounts.SessionTTL)
}

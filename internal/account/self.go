package account

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"aimg/internal/aimg"
	"aimg/internal/media"
)

// SelfUser is getSelfUser: the caller's session and user. When confirm18 is
// set, the answer is remembered, on a guest record for anonymous sessions.
func (s *Service) SelfUser(ctx context.Context, c aimg.Caller, confirm18 *bool) (*Self, error) {
	if c.Session == nil {
		return nil, aimg.ErrUnauthenticated
	}
	u := c.User
	if confirm18 != nil && (u != nil || *confirm18) {
		var err error
		if u, err = s.GuestUser(ctx, c); err != nil {
			return nil, err
		}
		if u.IsAtLeast18Confirmed != *confirm18 {
			u.IsAtLeast18Confirmed, u.UpdatedAt = *confirm18, s.now()
			if err := s.store.UpdateUser(ctx, u); err != nil {
				return nil, err
			}
		}
	}
	return &Self{Session: c.Session, User: u}, nil
}

// Properties is the input of SetSelfProperties; nil means "not given".
type Properties struct {
	Username             *string
	Password             *string
	Email                *string
	OTP                  *string
	IsAtLeast18Confirmed *bool
}

// signedIn returns the caller's account or 401.
func signedIn(c aimg.Caller) (*aimg.User, error) {
	if !c.SignedIn() {
		return nil, aimg.ErrUnauthenticated
	}
	u := *c.User // callers change the copy and store it only when all checks pass
	return &u, nil
}

// SetSelfProperties changes the caller's username, password, email (with an
// OTP sent to the new address) and 18+ confirmation. Nothing is written
// unless every given property is valid. A new password ends every other
// session of the user and every app password.
func (s *Service) SetSelfProperties(ctx context.Context, c aimg.Caller, p Properties) (*Self, error) {
	u, err := signedIn(c)
	if err != nil {
		return nil, err
	}
	if p.Username == nil && p.Password == nil && p.Email == nil && p.IsAtLeast18Confirmed == nil {
		return nil, aimg.Invalid("username", "at least one of username, password, email and isAtLeast18Confirmed is required")
	}
	if p.Username != nil && *p.Username != u.Username {
		if u.Abuse >= aimg.AbuseNoProfileChanges {
			return nil, &aimg.Error{Code: aimg.CodeForbidden, Field: "username", Message: "username: this account may not change its username"}
		}
		if err := CheckUsername(*p.Username); err != nil {
			return nil, err
		}
		if other, err := s.store.UserByUsername(ctx, u.Domain, *p.Username); err == nil && other.ID != u.ID {
			return nil, &aimg.Error{Code: aimg.CodeConflict, Field: "username", Message: "username: already taken"}
		} else if err != nil && !aimg.IsNotFound(err) {
			return nil, err
		}
	}
	var hash string
	if p.Password != nil {
		if err := CheckPasswordRule(*p.Password); err != nil {
			return nil, err
		}
	}
	newEmail := ""
	if p.Email != nil {
		e, err := NormalizeEmail("email", *p.Email)
		if err != nil {
			return nil, err
		}
		if e != u.Email {
			newEmail = e
			if p.OTP == nil || *p.OTP == "" {
				return nil, aimg.Invalid("otp", "is required to change the email: request one for the new email with requestOTP and signUp=true")
			}
			if err := checkOTPFormat(*p.OTP); err != nil {
				return nil, err
			}
			if _, err := s.store.UserByEmail(ctx, u.Domain, e); err == nil {
				return nil, &aimg.Error{Code: aimg.CodeConflict, Field: "email", Message: "email: already registered"}
			} else if !aimg.IsNotFound(err) {
				return nil, err
			}
		}
	}
	// Every check passed: now use up the OTP and hash the password.
	if newEmail != "" {
		ok, err := s.consumeOTP(ctx, u.Domain, newEmail, *p.OTP)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, aimg.Invalid("otp", "wrong or expired one-time password for the new email")
		}
	}
	if p.Password != nil {
		if hash, err = s.hashPassword(ctx, *p.Password); err != nil {
			return nil, err
		}
		u.PasswordHash = hash
	}
	if p.Username != nil {
		u.Username = *p.Username
	}
	if p.IsAtLeast18Confirmed != nil {
		u.IsAtLeast18Confirmed = *p.IsAtLeast18Confirmed
	}
	now := s.now()
	u.UpdatedAt = now
	if newEmail != "" {
		previous := aimg.ArchivedEmail{Email: u.Email, ArchivedAt: now}
		u.Email = newEmail
		err = s.store.ChangeUserEmail(ctx, u, previous)
	} else {
		err = s.store.UpdateUser(ctx, u)
	}
	if err != nil {
		return nil, err
	}
	if p.Password != nil {
		if err := s.store.DeleteUserSessions(ctx, u.ID, c.Session.ID); err != nil {
			return nil, err
		}
		if err := s.endAppPasswords(ctx, u.ID); err != nil {
			return nil, err
		}
		s.log.InfoContext(ctx, "password changed; other sessions and app passwords ended", "user", u.ID)
	}
	return &Self{Session: c.Session, User: u}, nil
}

// SetProfilePicture normalizes dataURI to a 128x128 WebP data URI and
// stores it; "" removes the picture.
func (s *Service) SetProfilePicture(ctx context.Context, c aimg.Caller, dataURI string) (string, error) {
	u, err := signedIn(c)
	if err != nil {
		return "", err
	}
	if u.ProfilePictureBanned {
		return "", aimg.Errorf(aimg.CodeForbidden, "Your profile picture is banned and cannot be changed")
	}
	if u.Abuse >= aimg.AbuseNoProfileChanges {
		return "", aimg.Errorf(aimg.CodeForbidden, "This account may not change its profile picture")
	}
	pic := ""
	if dataURI != "" {
		// Each picture is decoded, cropped and encoded: limited per account
		// (removing one costs nothing and is not).
		if err := s.allow(ctx, ProfilePictureRateLimit, u.ID); err != nil {
			return "", err
		}
		a := s.cfg.Service.Accounts
		lim := media.Limits{MaxBytes: a.ProfilePicMaxB, MaxPixels: a.ProfilePicMaxPx}
		if pic, err = s.decoder.ProfilePicture(ctx, dataURI, lim); err != nil {
			return "", s.pictureError(err)
		}
	}
	u.ProfilePicture, u.UpdatedAt = pic, s.now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return "", err
	}
	return pic, nil
}

// ProfilePictureRateLimit names the per-account limit on new profile pictures.
const ProfilePictureRateLimit = "setSelfUserProfilePicture:user"

// pictureError maps media's errors: the client's fault (413 for size), or
// the server's decode budget in use (503, try again).
func (s *Service) pictureError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "profile picture: ")
	switch {
	case errors.Is(err, media.ErrBusy):
		return &aimg.Error{Code: aimg.CodeUnavailable, RetryAfter: s.decoder.RetryAfter(),
			Message: "Too many images are being processed; try again shortly", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, media.ErrTooLarge):
		return &aimg.Error{Code: aimg.CodeTooLarge, Field: "profilePicture", Message: "profilePicture: " + msg, Err: err}
	case errors.Is(err, media.ErrInvalidDataURI), errors.Is(err, media.ErrUnsupported), errors.Is(err, media.ErrCorrupt):
		return &aimg.Error{Code: aimg.CodeInvalid, Field: "profilePicture", Message: "profilePicture: " + msg, Err: err}
	default:
		return aimg.Internal(err)
	}
}

// checkKey validates a key-value pair key.
func (s *Service) checkKey(key string) error {
	max := s.cfg.Service.Accounts.KVPMaxKeyBytes
	if key == "" || len(key) > max {
		return aimg.Invalid("key", "must be 1 to %d bytes", max)
	}
	if !utf8.ValidString(key) || strings.ContainsFunc(key, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return aimg.Invalid("key", "must be valid UTF-8 without control characters")
	}
	return nil
}

// UserKVP returns the caller's value under key.
func (s *Service) UserKVP(ctx context.Context, c aimg.Caller, key string) (string, error) {
	u, err := signedIn(c)
	if err != nil {
		return "", err
	}
	if err := s.checkKey(key); err != nil {
		return "", err
	}
	return s.store.UserKVP(ctx, u.ID, key)
}

// SetUserKVP stores value under key for the caller.
func (s *Service) SetUserKVP(ctx context.Context, c aimg.Caller, key, value string) error {
	u, err := signedIn(c)
	if err != nil {
		return err
	}
	if err := s.checkKey(key); err != nil {
		return err
	}
	if max := s.cfg.Service.Accounts.KVPMaxValueBytes; len(value) > max {
		return aimg.Invalid("value", "must be at most %d bytes", max)
	}
	if !utf8.ValidString(value) {
		return aimg.Invalid("value", "must be valid UTF-8")
	}
	return s.store.SetUserKVP(ctx, u.ID, key, value, s.cfg.Service.Accounts.KVPMaxPerUser, s.now())
}

// DeleteUserKVP removes the caller's key; it reports whether it existed.
func (s *Service) DeleteUserKVP(ctx context.Context, c aimg.Caller, key string) (bool, error) {
	u, err := signedIn(c)
	if err != nil {
		return false, err
	}
	if err := s.checkKey(key); err != nil {
		return false, err
	}
	return s.store.DeleteUserKVP(ctx, u.ID, key)
}

package account

import (
	"context"
	"math"

	"aimg/internal/aimg"
)

// Target names the user of an admin operation: by id, else by email in the
// caller's domain.
type Target struct {
	UserID string
	Email  string
}

func (s *Service) target(ctx context.Context, c aimg.Caller, t Target) (*aimg.User, error) {
	if !c.Admin {
		return nil, aimg.ErrAdminRequired
	}
	switch {
	case t.UserID != "":
		return s.store.UserByID(ctx, t.UserID)
	case t.Email != "":
		email, err := NormalizeEmail("email", t.Email)
		if err != nil {
			return nil, err
		}
		return s.store.UserByEmail(ctx, c.Domain, email)
	default:
		return nil, aimg.Invalid("userID", "at least one of userID and email is required")
	}
}

// SetProfilePictureBanned (admin) sets the ban when banned is given (a ban
// removes the picture; lifting it does not restore it) and returns the
// current state.
func (s *Service) SetProfilePictureBanned(ctx context.Context, c aimg.Caller, t Target, banned *bool) (bool, error) {
	u, err := s.target(ctx, c, t)
	if err != nil {
		return false, err
	}
	if banned == nil || *banned == u.ProfilePictureBanned {
		return u.ProfilePictureBanned, nil
	}
	u.ProfilePictureBanned, u.UpdatedAt = *banned, s.now()
	if *banned {
		u.ProfilePicture = ""
	}
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return false, err
	}
	return u.ProfilePictureBanned, nil
}

// SetAdditionalInformation (admin) replaces the notes on a user; "" removes them.
func (s *Service) SetAdditionalInformation(ctx context.Context, c aimg.Caller, t Target, info string) (string, error) {
	if len(info) > maxAdditionalInfo {
		return "", aimg.Invalid("additionalInformation", "must be at most %d bytes", maxAdditionalInfo)
	}
	u, err := s.target(ctx, c, t)
	if err != nil {
		return "", err
	}
	u.AdditionalInformation, u.UpdatedAt = info, s.now()
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return "", err
	}
	return u.AdditionalInformation, nil
}

// SetAbuseLevel (admin) sets the abuse level when level is an integer in
// 0..9 and returns the level in force; no level or an invalid one only
// reads it (the spec). Level 9 disables the account and ends its sessions
// and app passwords.
func (s *Service) SetAbuseLevel(ctx context.Context, c aimg.Caller, t Target, level *float64) (int, error) {
	u, err := s.target(ctx, c, t)
	if err != nil {
		return 0, err
	}
	if level == nil || *level != math.Trunc(*level) || *level < 0 || *level > aimg.MaxAbuse {
		return u.Abuse, nil
	}
	if n := int(*level); n != u.Abuse {
		u.Abuse, u.UpdatedAt = n, s.now()
		if err := s.store.UpdateUser(ctx, u); err != nil {
			return 0, err
		}
	}
	if u.Abuse >= aimg.AbuseDisabled {
		if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
			return 0, err
		}
		if err := s.endAppPasswords(ctx, u.ID); err != nil {
			return 0, err
		}
	}
	return u.Abuse, nil
}

// DeleteUser deletes the caller's account, or (admin) the account userID.
// A non-admin naming another user is refused rather than silently deleting
// themselves. Deletion is soft: the email stays reserved until purged and
// every session and app password ends. With deleteItems the user's Items
// are soft-deleted first, by the rule of deleteItems (protected, queued and
// generating Items stay), so that a failure after them leaves a retry to finish the job; the
// request is also recorded on the user. It reports false when the account
// was already deleted.
func (s *Service) DeleteUser(ctx context.Context, c aimg.Caller, userID string, deleteItems bool) (bool, error) {
	var u *aimg.User
	switch {
	case c.Admin && userID != "":
		var err error
		if u, err = s.store.UserByID(ctx, userID); err != nil {
			return false, err
		}
	case c.SignedIn():
		if userID != "" && userID != c.User.ID {
			return false, &aimg.Error{Code: aimg.CodeForbidden, Field: "userID", Message: "userID: only Admins may delete another user"}
		}
		cp := *c.User
		u = &cp
	case c.Admin:
		return false, aimg.Invalid("userID", "is required when an Admin without a signed-in session deletes a user")
	default:
		return false, aimg.ErrUnauthenticated
	}
	if u.Deleted() {
		return false, nil
	}
	now := s.now()
	if deleteItems {
		if _, err := s.store.ChangeItems(ctx, aimg.ItemChange{Op: aimg.ItemDelete, OwnerID: u.ID, At: now,
			Check: func(it *aimg.Item, _ bool) error { return it.DeleteBlocker() }}); err != nil {
			return false, err
		}
	}
	u.DeletedAt, u.UpdatedAt, u.DeleteItemsRequested = &now, now, deleteItems
	if err := s.store.UpdateUser(ctx, u); err != nil {
		return false, err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID, ""); err != nil {
		return false, err
	}
	if err := s.endAppPasswords(ctx, u.ID); err != nil {
		return false, err
	}
	s.log.InfoContext(ctx, "user deleted", "user", u.ID, "by_admin", c.Admin && userID != "", "delete_items", deleteItems)
	return true, nil
}

// Lookup is the input of GetUser.
type Lookup struct {
	UserID   string
	Email    string
	Username string
}

// GetUser returns a user. Non-admins look up by id only and see only live
// accounts (not guests, not deleted ones, not other domains); Admins may
// look up by email or username and see deleted users with their archived
// emails. The caller decides which fields to show from c.Admin.
func (s *Service) GetUser(ctx context.Context, c aimg.Caller, l Lookup) (*aimg.User, error) {
	if !c.Admin {
		if l.UserID == "" {
			if l.Email != "" || l.Username != "" {
				return nil, aimg.Errorf(aimg.CodeForbidden, "Looking users up by email or username requires a valid X-Administration-Key")
			}
			return nil, aimg.Invalid("userID", "is required")
		}
		u, err := s.store.UserByID(ctx, l.UserID)
		if err != nil {
			return nil, err
		}
		if u.IsGuest || u.Deleted() || u.Domain != c.Domain {
			return nil, aimg.Errorf(aimg.CodeNotFound, "User not found")
		}
		return u, nil
	}
	var (
		u   *aimg.User
		err error
	)
	switch {
	case l.UserID != "":
		u, err = s.store.UserByID(ctx, l.UserID)
	case l.Email != "":
		var email string
		if email, err = NormalizeEmail("email", l.Email); err != nil {
			return nil, err
		}
		u, err = s.store.UserByEmail(ctx, c.Domain, email)
	case l.Username != "":
		u, err = s.store.UserByUsername(ctx, c.Domain, l.Username)
	default:
		return nil, aimg.Invalid("userID", "at least one of userID, email and username is required")
	}
	if err != nil {
		return nil, err
	}
	if u.ArchivedEmails, err = s.store.ArchivedEmails(ctx, u.ID); err != nil {
		return nil, err
	}
	return u, nil
}

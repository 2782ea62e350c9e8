package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"aimg/internal/aimg"
)

const userColumns = `id, domain, email, username, password_hash, is_guest, is_18_confirmed, roles, abuse,
	profile_picture, profile_picture_banned, additional_information, ref_list, rs, tier, tier_expiration,
	merchant_processor, created_at, updated_at, deleted_at, otp_login, delete_items_requested`

func scanUser(row interface{ Scan(...any) error }) (*aimg.User, error) {
	var (
		u                aimg.User
		email            sql.NullString
		roles, refList   string
		tierExp, deleted sql.NullInt64
		created, updated int64
	)
	err := row.Scan(&u.ID, &u.Domain, &email, &u.Username, &u.PasswordHash, &u.IsGuest, &u.IsAtLeast18Confirmed,
		&roles, &u.Abuse, &u.ProfilePicture, &u.ProfilePictureBanned, &u.AdditionalInformation, &refList, &u.RS,
		&u.Tier, &tierExp, &u.MerchantProcessor, &created, &updated, &deleted, &u.OTPLogin, &u.DeleteItemsRequested)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, aimg.Errorf(aimg.CodeNotFound, "User not found")
	}
	if err != nil {
		return nil, err
	}
	u.Email = email.String
	if err := json.Unmarshal([]byte(roles), &u.Roles); err != nil {
		return nil, fmt.Errorf("user %s roles: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(refList), &u.RefList); err != nil {
		return nil, fmt.Errorf("user %s ref_list: %w", u.ID, err)
	}
	u.TierExpiration = fromNullMS(tierExp)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	u.DeletedAt = fromNullMS(deleted)
	return &u, nil
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateUser inserts u. A taken email or username is a conflict naming the field.
func (s *Store) CreateUser(ctx context.Context, u *aimg.User) error {
	return insertUser(ctx, s.w, u)
}

func insertUser(ctx context.Context, q queryer, u *aimg.User) error {
	_, err := q.ExecContext(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22)`,
		u.ID, u.Domain, nullString(strings.ToLower(u.Email)), u.Username, u.PasswordHash, u.IsGuest,
		u.IsAtLeast18Confirmed, jsonList(u.Roles), u.Abuse, u.ProfilePicture, u.ProfilePictureBanned,
		u.AdditionalInformation, jsonList(u.RefList), u.RS, u.Tier, nullMS(u.TierExpiration),
		u.MerchantProcessor, ms(u.CreatedAt), ms(u.UpdatedAt), nullMS(u.DeletedAt), u.OTPLogin, u.DeleteItemsRequested)
	return userConflict(err)
}

// userConflict turns a unique violation into a conflict that names the field.
func userConflict(err error) error {
	if !isUniqueViolation(err) {
		return err
	}
	if strings.Contains(err.Error(), "username") {
		return &aimg.Error{Code: aimg.CodeConflict, Field: "username", Message: "username: already taken", Err: err}
	}
	return &aimg.Error{Code: aimg.CodeConflict, Field: "email", Message: "email: already registered", Err: err}
}

// UserByID returns the user, deleted or not.
func (s *Store) UserByID(ctx context.Context, id string) (*aimg.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// UserByEmail looks the email up case-insensitively within a domain.
func (s *Store) UserByEmail(ctx context.Context, domain, email string) (*aimg.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE domain = $1 AND email = $2`,
		domain, strings.ToLower(email)))
}

// UserByUsername looks the username up case-insensitively within a domain.
func (s *Store) UserByUsername(ctx context.Context, domain, username string) (*aimg.User, error) {
	return scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE domain = $1 AND lower(username) = lower($2) AND username <> ''`,
		domain, username))
}

// UpdateUser writes every mutable column of u (by id) except the tier
// (tier, tier_expiration, merchant_processor): only subscription changes
// write those (billing.go), so a request holding an older copy of the user
// never undoes a grant made meanwhile.
func (s *Store) UpdateUser(ctx context.Context, u *aimg.User) error {
	return updateUser(ctx, s.w, u)
}

func updateUser(ctx context.Context, q queryer, u *aimg.User) error {
	res, err := q.ExecContext(ctx, `UPDATE users SET email = $2, username = $3, password_hash = $4, is_guest = $5,
		is_18_confirmed = $6, roles = $7, abuse = $8, profile_picture = $9, profile_picture_banned = $10,
		additional_information = $11, ref_list = $12, rs = $13, updated_at = $14, deleted_at = $15, otp_login = $16,
		delete_items_requested = $17 WHERE id = $1`,
		u.ID, nullString(strings.ToLower(u.Email)), u.Username, u.PasswordHash, u.IsGuest, u.IsAtLeast18Confirmed,
		jsonList(u.Roles), u.Abuse, u.ProfilePicture, u.ProfilePictureBanned, u.AdditionalInformation,
		jsonList(u.RefList), u.RS, ms(u.UpdatedAt), nullMS(u.DeletedAt), u.OTPLogin, u.DeleteItemsRequested)
	if err != nil {
		return userConflict(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return aimg.Errorf(aimg.CodeNotFound, "User not found")
	}
	return nil
}

// ChangeUserEmail writes u (whose Email is the new address) and archives
// previous in one transaction, so an email is never lost from the record.
func (s *Store) ChangeUserEmail(ctx context.Context, u *aimg.User, previous aimg.ArchivedEmail) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := updateUser(ctx, tx, u); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO archived_emails (user_id, email, archived_at) VALUES ($1, $2, $3)`,
			u.ID, strings.ToLower(previous.Email), ms(previous.ArchivedAt))
		return err
	})
}

// ArchivedEmails returns the user's previous emails, oldest first.
func (s *Store) ArchivedEmails(ctx context.Context, userID string) ([]aimg.ArchivedEmail, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT email, archived_at FROM archived_emails WHERE user_id = $1
		ORDER BY archived_at, email`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []aimg.ArchivedEmail{}
	for rows.Next() {
		var (
			a  aimg.ArchivedEmail
			at int64
		)
		if err := rows.Scan(&a.Email, &at); err != nil {
			return nil, err
		}
		a.ArchivedAt = fromMS(at)
		list = append(list, a)
	}
	return list, rows.Err()
}

// MoveGuestData hands the guest record guestUserID to the account userID:
// its Items and Jobs move, and the guest is retired (deleted_at). It is the
// one place where a guest's data moves: later aggregates (Folders, likes)
// add their UPDATEs to this transaction. Merging the same guest twice is a
// no-op.
func (s *Store) MoveGuestData(ctx context.Context, guestUserID, userID string, now time.Time) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO guest_merges (guest_user_id, user_id, merged_at) VALUES ($1, $2, $3)
			ON CONFLICT (guest_user_id) DO NOTHING`, guestUserID, userID, ms(now))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := moveGuestItems(ctx, tx, s.dialect, guestUserID, userID); err != nil {
			return err
		}
		if err := moveGuestReactions(ctx, tx, guestUserID, userID); err != nil {
			return err
		}
		if err := moveGuestReports(ctx, tx, guestUserID, userID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND is_guest`,
			guestUserID, ms(now))
		return err
	})
}

// GuestMergedInto returns the account a guest record was handed to.
func (s *Store) GuestMergedInto(ctx context.Context, guestUserID string) (string, error) {
	var userID string
	err := s.r.QueryRowContext(ctx, `SELECT user_id FROM guest_merges WHERE guest_user_id = $1`, guestUserID).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", aimg.Errorf(aimg.CodeNotFound, "Guest merge not found")
	}
	return userID, err
}

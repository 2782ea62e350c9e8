package generation

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Worker keys: what a remote `aimg worker` authenticates with
// (docs/worker-protocol.md). A key is "aimgw_<id>.<secret>"; the id finds
// the row, the secret's SHA-256 is compared in constant time.

const workerKeyPrefix = "aimgw_"

// Budgets of createWorkerKey (docs/security.md).
const (
	maxWorkerKeyName   = 100
	maxWorkerKeyModels = 100
)

// ErrWorkerKey is the answer to a missing, malformed, unknown or revoked
// worker key: one message for all, so a caller learns nothing.
var ErrWorkerKey = aimg.Errorf(aimg.CodeUnauthorized, "The worker key is not valid (missing, unknown or revoked)")

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CreateWorkerKey (Admin) makes a key that may claim the Jobs of modelIDs
// (none: every Model). The key is returned once and stored hashed.
func (s *Service) CreateWorkerKey(ctx context.Context, c aimg.Caller, name string, modelIDs []string) (*aimg.WorkerKey, string, error) {
	if !c.Admin {
		return nil, "", aimg.ErrAdminRequired
	}
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return nil, "", aimg.Invalid("name", "is required (say which machine the key is for)")
	case len(name) > maxWorkerKeyName || strings.ContainsAny(name, "\x00\r\n"):
		return nil, "", aimg.Invalid("name", "must be at most %d bytes on one line", maxWorkerKeyName)
	case len(modelIDs) > maxWorkerKeyModels:
		return nil, "", aimg.Invalid("modelIDs", "must have at most %d Models", maxWorkerKeyModels)
	}
	seen := map[string]bool{}
	models := []string{}
	for _, id := range modelIDs {
		if _, ok := s.byID[id]; !ok {
			return nil, "", aimg.Invalid("modelIDs", "%s is not a Model", aimg.Quote(id))
		}
		if !seen[id] {
			seen[id] = true
			models = append(models, id)
		}
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", err
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	k := &aimg.WorkerKey{ID: uuid.NewString(), Name: name, ModelIDs: models, SecretHash: hashSecret(secret), CreatedAt: s.now()}
	if err := s.store.CreateWorkerKey(ctx, k); err != nil {
		return nil, "", err
	}
	s.log.InfoContext(ctx, "worker key created", "key", k.ID, "name", k.Name, "models", k.ModelIDs)
	return k, workerKeyPrefix + k.ID + "." + secret, nil
}

// WorkerKeys (Admin) lists the keys with when each was last used and the
// Jobs its workers hold.
func (s *Service) WorkerKeys(ctx context.Context, c aimg.Caller) ([]aimg.WorkerKey, error) {
	if !c.Admin {
		return nil, aimg.ErrAdminRequired
	}
	return s.store.WorkerKeys(ctx)
}

// RevokeWorkerKey (Admin) ends a key at once: its next call is refused,
// and the Jobs its workers hold go back to their queue (attempt unspent).
func (s *Service) RevokeWorkerKey(ctx context.Context, c aimg.Caller, id string) (int, error) {
	if !c.Admin {
		return 0, aimg.ErrAdminRequired
	}
	if _, err := uuid.Parse(id); err != nil {
		return 0, aimg.Invalid("keyID", "is not a worker key id")
	}
	n, err := s.store.RevokeWorkerKey(ctx, id, s.now())
	if err != nil {
		return 0, err
	}
	s.log.InfoContext(ctx, "worker key revoked", "key", id, "released", n)
	if n > 0 {
		s.changed()
	}
	if n > 0 && s.OnEnqueue != nil {
		s.OnEnqueue()
	}
	return n, nil
}

// AuthenticateWorker returns the live key that token is.
func (s *Service) AuthenticateWorker(ctx context.Context, token string) (*aimg.WorkerKey, error) {
	rest, ok := strings.CutPrefix(token, workerKeyPrefix)
	id, secret, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || len(token) > 200 {
		return nil, ErrWorkerKey
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrWorkerKey
	}
	k, err := s.store.WorkerKey(ctx, id)
	if aimg.IsNotFound(err) {
		return nil, ErrWorkerKey
	}
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(hashSecret(secret)), []byte(k.SecretHash)) != 1 || k.RevokedAt != nil {
		return nil, ErrWorkerKey
	}
	// Last seen to the minute, as the store keeps it: a key seen less than
	// a minute ago costs no write (issue 11: it was a statement on the
	// single writer for every claim and every completion).
	if now := s.now(); k.LastSeenAt == nil || k.LastSeenAt.Before(now.Add(-time.Minute)) {
		if err := s.store.TouchWorkerKey(ctx, k.ID, now); err != nil {
			s.log.WarnContext(ctx, "worker key last-seen not recorded", "key", k.ID, "err", err)
		}
	}
	return k, nil
}

// WorkerModels is what a key's worker may claim among the Models it asks
// for: those of the key's list (every configured Model when the key has
// none); asking for none asks for all of them.
func (s *Service) WorkerModels(k *aimg.WorkerKey, asked []string) []string {
	allowed := k.ModelIDs
	if len(allowed) == 0 {
		for _, m := range s.models {
			allowed = append(allowed, m.ModelID)
		}
	}
	if len(asked) == 0 {
		return allowed
	}
	var out []string
	for _, id := range asked {
		if contains(allowed, id) && !contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// CompletedBy tells whether the Job was completed under lease l: a worker
// whose complete was answered too late to hear it retries, and is told so.
func (s *Service) CompletedBy(ctx context.Context, l aimg.Lease) (bool, error) {
	job, err := s.store.JobByID(ctx, l.JobID)
	if aimg.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return job.Status == aimg.JobCompleted && job.LeaseOwner == l.WorkerID && job.Attempts == l.Attempt, nil
}

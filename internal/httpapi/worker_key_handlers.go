package httpapi

import (
	"context"

	"aimg/internal/aimg"
)

// Worker keys (Admin): what remote `aimg worker` processes authenticate
// with (docs/worker-protocol.md).

// WorkerKey is a worker key as listed; the secret is never in it.
type WorkerKey struct {
	ID          string   `json:"keyID"`
	Name        string   `json:"name"`
	ModelIDs    []string `json:"modelIDs" doc:"The Models the key may claim; empty = every Model."`
	CreatedDate string   `json:"createdDate"`
	LastSeen    *string  `json:"lastSeenDate" doc:"When a worker last used the key (to the minute)."`
	Revoked     *string  `json:"revokedDate"`
	RunningJobs int      `json:"runningJobs" doc:"Jobs the key's workers hold now."`
}

func workerKey(k aimg.WorkerKey) WorkerKey {
	return WorkerKey{ID: k.ID, Name: k.Name, ModelIDs: nonNil(k.ModelIDs), CreatedDate: isoTime(k.CreatedAt),
		LastSeen: isoTimePtr(k.LastSeenAt), Revoked: isoTimePtr(k.RevokedAt), RunningJobs: k.RunningJobs}
}

type createWorkerKeyInput struct {
	Auth
	Body struct {
		Name     string   `json:"name" doc:"Which machine the key is for."`
		ModelIDs []string `json:"modelIDs,omitempty" doc:"The Models its workers may claim (default: every Model)."`
	}
}

// NewWorkerKey is createWorkerKey's answer: the key, shown this once.
type NewWorkerKey struct {
	WorkerKey
	Key string `json:"key" doc:"The worker key (aimg worker --key); shown only now, stored hashed."`
}

func (s *Server) createWorkerKey(ctx context.Context, c aimg.Caller, in *createWorkerKeyInput) (*Response[NewWorkerKey], error) {
	k, secret, err := s.Generation.CreateWorkerKey(ctx, c, in.Body.Name, in.Body.ModelIDs)
	if err != nil {
		return nil, err
	}
	return reply(NewWorkerKey{WorkerKey: workerKey(*k), Key: secret})
}

func (s *Server) getWorkerKeys(ctx context.Context, c aimg.Caller, _ *struct{ Auth }) (*Response[[]WorkerKey], error) {
	keys, err := s.Generation.WorkerKeys(ctx, c)
	if err != nil {
		return nil, err
	}
	out := make([]WorkerKey, len(keys))
	for i, k := range keys {
		out[i] = workerKey(k)
	}
	return reply(out)
}

type revokeWorkerKeyInput struct {
	Auth
	Body struct {
		KeyID string `json:"keyID"`
	}
}

// RevokedWorkerKey is revokeWorkerKey's answer.
type RevokedWorkerKey struct {
	Success      bool `json:"success"`
	ReleasedJobs int  `json:"releasedJobs" doc:"Jobs its workers held, now back in their queues."`
}

func (s *Server) revokeWorkerKey(ctx context.Context, c aimg.Caller, in *revokeWorkerKeyInput) (*Response[RevokedWorkerKey], error) {
	n, err := s.Generation.RevokeWorkerKey(ctx, c, in.Body.KeyID)
	if err != nil {
		return nil, err
	}
	return reply(RevokedWorkerKey{Success: true, ReleasedJobs: n})
}

package ocs

import (
	"context"
	"encoding/json"
	"errors"

	"aimg/internal/aimg"
	"aimg/internal/webhook"
)

// RawSender sends one webhook request (internal/webhook).
type RawSender interface {
	Send(ctx context.Context, method, uri string, body []byte) error
}

// Webhooks delivers TaskProcessing webhooks as Nextcloud's task manager
// does: the request's body is {"task": <the task as getTask shows it>}.
type Webhooks struct{ Sender RawSender }

// Send calls t's webhook.
func (w Webhooks) Send(ctx context.Context, t *aimg.Task) error {
	uid := t.UserID
	body, err := json.Marshal(map[string]any{"task": taskJSON(t, &uid)})
	if err != nil {
		return err
	}
	err = w.Sender.Send(ctx, t.WebhookMethod, t.WebhookURI, body)
	if errors.Is(err, webhook.ErrBlockedAddress) {
		// Retrying will not help: the engine gives up on invalid errors.
		return &aimg.Error{Code: aimg.CodeInvalid, Message: "the webhook's address is not allowed", Err: err}
	}
	return err
}

package ocs

import (
	"context"
	"encoding/json"

	"aimg/internal/aimg"
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
	return w.Sender.Send(ctx, t.WebhookMethod, t.WebhookURI, body)
}

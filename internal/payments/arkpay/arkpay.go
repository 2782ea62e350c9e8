// Package arkpay is the client of the "arkpay" card processor
// (processCardSubscription): the processor API AIMG expects, written down
// in docs/payments.md, so that an operator can put any card processor
// behind a small bridge. Card data passes through to the processor and is
// never stored or logged: Card redacts itself in every format.
package arkpay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"aimg/internal/aimg"
)

// Config is the processor's part of the service config.
type Config struct {
	URL           string // e.g. https://api.arkpay.example
	APIKey        string // sent as "Authorization: Bearer …"
	WebhookSecret string // HMAC-SHA256 key of Arkpay-Signature
	Tolerance     time.Duration
}

// Client talks to one processor account.
type Client struct {
	cfg  Config
	http *http.Client
}

// New builds a client; httpClient bounds its requests (nil: 30 s).
func New(cfg Config, httpClient *http.Client) *Client {
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg, http: httpClient}
}

type wireCard struct {
	Number   string `json:"number"`
	Holder   string `json:"holder_name"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
	CVC      string `json:"cvc"`
}

type wireSubscription struct {
	ID            string `json:"id"`
	Status        string `json:"status"` // approved, declined, cancelled
	DeclineReason string `json:"decline_reason,omitempty"`
	CustomerID    string `json:"customer_id"`
	NextBillingAt int64  `json:"next_billing_at"` // Unix seconds
	EndsAt        int64  `json:"ends_at,omitempty"`
}

// Subscribe sends the card to the processor and returns its decision. A
// declined card is not an error (Approved false, DeclineReason says why).
func (c *Client) Subscribe(ctx context.Context, s aimg.CardSubscribe) (aimg.CardSubscription, error) {
	body := map[string]any{
		"product_id": s.ProductID, "reference": s.UserID, "amount": s.AmountCents, "currency": s.Currency, "period": s.Period,
		"card": wireCard{Number: s.Card.Digits(), Holder: s.Card.HolderName, ExpMonth: s.Card.ExpMonth, ExpYear: s.Card.ExpYear, CVC: s.Card.SecurityCode},
		"billing": map[string]string{"street": s.Billing.Street, "city": s.Billing.City, "state": s.Billing.StateOrProvince,
			"postal_code": s.Billing.PostalCode, "country": s.Billing.Country, "email": s.Billing.Email, "phone": s.Billing.Phone},
	}
	var w wireSubscription
	if err := c.call(ctx, http.MethodPost, "/v1/subscriptions", s.IdempotencyKey, body, &w); err != nil {
		return aimg.CardSubscription{}, err
	}
	return aimg.CardSubscription{ID: w.ID, Approved: w.Status == "approved", DeclineReason: w.DeclineReason, CustomerID: w.CustomerID,
		NextBillingAt: time.Unix(w.NextBillingAt, 0).UTC()}, nil
}

// Cancel stops the subscription's renewals; it runs until the returned end
// (the next billing date).
func (c *Client) Cancel(ctx context.Context, subscriptionID string) (time.Time, error) {
	var w wireSubscription
	if err := c.call(ctx, http.MethodPost, "/v1/subscriptions/"+subscriptionID+"/cancel", "", map[string]any{}, &w); err != nil {
		return time.Time{}, err
	}
	return time.Unix(w.EndsAt, 0).UTC(), nil
}

// errProcessor hides the processor's failure details from the user.
var errProcessor = aimg.Errorf(aimg.CodeUnavailable, "The card processor is not available; try again later")

func (c *Client) call(ctx context.Context, method, path, idempotencyKey string, in, out any) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.cfg.URL, "/")+path, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.cfg.APIKey)
	req.Header.Set("Content-Type", "application/json")
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w (%s %s: %v)", errProcessor, method, path, redactURLError(err))
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w (%s %s: status %d)", errProcessor, method, path, resp.StatusCode)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("%w (%s %s: %v)", errProcessor, method, path, err)
	}
	return nil
}

// redactURLError keeps an error's kind, not a body that could echo card data.
func redactURLError(err error) string {
	if ue, ok := err.(interface{ Timeout() bool }); ok && ue.Timeout() {
		return "timeout"
	}
	return "request failed"
}

// Signature is the Arkpay-Signature header of a webhook: "t=<unix>,v1=<hex
// HMAC-SHA256 of "<t>.<body>">".
func Signature(secret string, body []byte, at time.Time) string {
	t := strconv.FormatInt(at.Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(t + "."))
	m.Write(body)
	return "t=" + t + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature is a webhook that does not verify or is too old.
var ErrBadSignature = &aimg.Error{Code: aimg.CodeInvalid, Field: "Arkpay-Signature", Message: "Arkpay-Signature: does not verify"}

// Event verifies a webhook delivery at now and maps it. ok is false for
// event types that do not concern subscriptions.
func (c *Client) Event(body []byte, header string, now time.Time) (ev aimg.ProviderEvent, ok bool, err error) {
	var t int64
	var sig []byte
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			t, _ = strconv.ParseInt(v, 10, 64)
		case "v1":
			sig, _ = hex.DecodeString(v)
		}
	}
	tol := c.cfg.Tolerance
	if tol == 0 {
		tol = 5 * time.Minute
	}
	at := time.Unix(t, 0)
	m := hmac.New(sha256.New, []byte(c.cfg.WebhookSecret))
	m.Write([]byte(strconv.FormatInt(t, 10) + "."))
	m.Write(body)
	if t == 0 || len(sig) == 0 || !hmac.Equal(sig, m.Sum(nil)) || now.Sub(at) > tol || at.Sub(now) > tol {
		return ev, false, ErrBadSignature
	}
	var e struct {
		ID      string           `json:"id"`
		Type    string           `json:"type"`
		Created int64            `json:"created"`
		Data    wireSubscription `json:"data"`
		Ref     string           `json:"reference"`
		Product string           `json:"product_id"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		return ev, false, aimg.Invalid("body", "not an Arkpay event")
	}
	ev = aimg.ProviderEvent{Provider: "arkpay", EventID: e.ID, UserID: e.Ref, SubscriptionID: e.Data.ID, CustomerID: e.Data.CustomerID,
		PlanID: e.Product, Created: time.Unix(e.Created, 0).UTC()}
	switch e.Type {
	case "subscription.renewed":
		ev.Kind, ev.PeriodEnd = aimg.ProviderRenewed, time.Unix(e.Data.NextBillingAt, 0).UTC()
	case "subscription.cancelled":
		ev.Kind, ev.PeriodEnd = aimg.ProviderCancelled, time.Unix(e.Data.EndsAt, 0).UTC()
	default:
		return ev, false, nil
	}
	return ev, true, nil
}

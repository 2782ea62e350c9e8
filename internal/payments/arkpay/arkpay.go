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
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"aimg/internal/aimg"
)

// Config is the processor's part of the service config.
type Config struct {
	URL           string // e.g. https://api.arkpay.example
	APIKey        string // sent as "Authorization: Bearer …"
	WebhookSecret string // HMAC-SHA256 key of Arkpay-Signature
	Tolerance     time.Duration
}

// Card is what the user typed. It is sent to the processor and dropped.
type Card struct {
	Number, HolderName, SecurityCode string
	ExpMonth, ExpYear                int
}

// String, GoString and LogValue redact: a Card printed, logged or wrapped
// in an error shows only its last four digits.
func (c Card) String() string {
	n := digits(c.Number)
	if len(n) > 4 {
		n = n[len(n)-4:]
	}
	return "card ****" + n
}

// GoString redacts %#v too.
func (c Card) GoString() string { return c.String() }

// LogValue redacts slog output.
func (c Card) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Format covers every verb (%+v would otherwise print the fields).
func (c Card) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

func digits(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		if r == ' ' || r == '-' {
			return -1
		}
		return 'x'
	}, s)
}

// Check validates the card as the spec's fields (errors name them): a
// 12–19 digit number passing the Luhn check, a holder name, an expiry
// month 1–12 and a year not in the past (now), a 3–4 digit code.
func (c Card) Check(now time.Time) error {
	n := digits(c.Number)
	switch {
	case len(n) < 12 || len(n) > 19 || strings.Contains(n, "x") || !luhn(n):
		return aimg.Invalid("cardNumber", "is not a valid card number")
	case strings.TrimSpace(c.HolderName) == "" || len(c.HolderName) > 200:
		return aimg.Invalid("cardHolderName", "is required (at most 200 characters)")
	case c.ExpMonth < 1 || c.ExpMonth > 12:
		return aimg.Invalid("expirationMonth", "must be 1 to 12")
	case c.ExpYear < now.Year() || c.ExpYear > now.Year()+30:
		return aimg.Invalid("expirationYear", "must be this year or later")
	case c.ExpYear == now.Year() && c.ExpMonth < int(now.Month()):
		return aimg.Invalid("expirationMonth", "the card has expired")
	case len(c.SecurityCode) < 3 || len(c.SecurityCode) > 4 || strings.IndexFunc(c.SecurityCode, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0:
		return aimg.Invalid("securityCode", "must be 3 or 4 digits")
	}
	return nil
}

func luhn(n string) bool {
	sum := 0
	for i := range n {
		d := int(n[len(n)-1-i] - '0')
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// Billing is the optional billing address and contact.
type Billing struct {
	Street, City, StateOrProvince, PostalCode, Country, Email, Phone string
}

// Subscribe asks the processor to start a subscription.
type Subscribe struct {
	IdempotencyKey string // the same key twice starts one subscription
	UserID         string
	ProductID      string
	AmountCents    int64
	Currency       string
	Period         string // "month", "year", …
	Card           Card
	Billing        Billing
}

// Subscription is the processor's answer.
type Subscription struct {
	ID            string
	Approved      bool
	DeclineReason string
	CustomerID    string
	NextBillingAt time.Time
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
func (c *Client) Subscribe(ctx context.Context, s Subscribe) (Subscription, error) {
	body := map[string]any{
		"product_id": s.ProductID, "reference": s.UserID, "amount": s.AmountCents, "currency": s.Currency, "period": s.Period,
		"card": wireCard{Number: digits(s.Card.Number), Holder: s.Card.HolderName, ExpMonth: s.Card.ExpMonth, ExpYear: s.Card.ExpYear, CVC: s.Card.SecurityCode},
		"billing": map[string]string{"street": s.Billing.Street, "city": s.Billing.City, "state": s.Billing.StateOrProvince,
			"postal_code": s.Billing.PostalCode, "country": s.Billing.Country, "email": s.Billing.Email, "phone": s.Billing.Phone},
	}
	var w wireSubscription
	if err := c.call(ctx, http.MethodPost, "/v1/subscriptions", s.IdempotencyKey, body, &w); err != nil {
		return Subscription{}, err
	}
	return Subscription{ID: w.ID, Approved: w.Status == "approved", DeclineReason: w.DeclineReason, CustomerID: w.CustomerID,
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

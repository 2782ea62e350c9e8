package aimg

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"
)

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

// Digits is the card number without spaces and dashes, as the processor
// takes it (any other character becomes "x", which Check refuses).
func (c Card) Digits() string { return digits(c.Number) }

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
		return Invalid("cardNumber", "is not a valid card number")
	case strings.TrimSpace(c.HolderName) == "" || len(c.HolderName) > 200:
		return Invalid("cardHolderName", "is required (at most 200 characters)")
	case c.ExpMonth < 1 || c.ExpMonth > 12:
		return Invalid("expirationMonth", "must be 1 to 12")
	case c.ExpYear < now.Year() || c.ExpYear > now.Year()+30:
		return Invalid("expirationYear", "must be this year or later")
	case c.ExpYear == now.Year() && c.ExpMonth < int(now.Month()):
		return Invalid("expirationMonth", "the card has expired")
	case len(c.SecurityCode) < 3 || len(c.SecurityCode) > 4 || strings.IndexFunc(c.SecurityCode, func(r rune) bool { return !unicode.IsDigit(r) }) >= 0:
		return Invalid("securityCode", "must be 3 or 4 digits")
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

// BillingAddress is the optional billing address and contact of a card payment.
type BillingAddress struct {
	Street, City, StateOrProvince, PostalCode, Country, Email, Phone string
}

// CardSubscribe asks a card processor to start a subscription
// (processCardSubscription).
type CardSubscribe struct {
	IdempotencyKey string // the same key twice starts one subscription
	UserID         string
	ProductID      string
	AmountCents    int64
	Currency       string
	Period         string // "month", "year", …
	Card           Card
	Billing        BillingAddress
}

// CardSubscription is the processor's answer.
type CardSubscription struct {
	ID            string
	Approved      bool
	DeclineReason string
	CustomerID    string
	NextBillingAt time.Time
}

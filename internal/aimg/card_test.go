package aimg_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
)

var cardNow = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func card(number string) aimg.Card {
	return aimg.Card{Number: number, HolderName: "Ada Lovelace", ExpMonth: 12, ExpYear: 2028, SecurityCode: "123"}
}

func TestCardCheck(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*aimg.Card)
		field string
	}{
		{"good", func(*aimg.Card) {}, ""},
		{"luhn", func(c *aimg.Card) { c.Number = "4242 4242 4242 4241" }, "cardNumber"},
		{"letters", func(c *aimg.Card) { c.Number = "4242abcd42424242" }, "cardNumber"},
		{"short", func(c *aimg.Card) { c.Number = "4242" }, "cardNumber"},
		{"holder", func(c *aimg.Card) { c.HolderName = " " }, "cardHolderName"},
		{"month", func(c *aimg.Card) { c.ExpMonth = 13 }, "expirationMonth"},
		{"past year", func(c *aimg.Card) { c.ExpYear = 2025 }, "expirationYear"},
		{"expired this year", func(c *aimg.Card) { c.ExpYear, c.ExpMonth = 2026, 11 }, "expirationMonth"},
		{"cvc", func(c *aimg.Card) { c.SecurityCode = "12a" }, "securityCode"},
	} {
		c := card("4242 4242 4242 4242")
		tc.edit(&c)
		err := c.Check(cardNow)
		var e *aimg.Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field):
			t.Errorf("%s: %v, want a 400 naming %s", tc.name, err, tc.field)
		}
	}
}

// A Card never shows its number or code, whatever prints or logs it.
func TestCardRedacts(t *testing.T) {
	c := card("4242 4242 4242 4242")
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("paying", "card", c)
	for _, out := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %q", c, c, c, c, c), logs.String(),
		fmt.Errorf("wrapped: %v", c).Error(), fmt.Sprintf("%+v", struct{ C aimg.Card }{c})} {
		if strings.Contains(out, "4242424242424242") || strings.Contains(out, "4242 4242 4242 4242") || strings.Contains(out, "123") {
			t.Fatalf("card data in %q", out)
		}
		if !strings.Contains(out, "****4242") {
			t.Fatalf("no redacted card in %q", out)
		}
	}
}

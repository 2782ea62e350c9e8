package arkpay_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/payments/arkpay"
	"aimg/internal/payments/arkpay/arkpayfake"
)

const goodCard = "4242 4242 4242 4242"

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func card(number string) aimg.Card {
	return aimg.Card{Number: number, HolderName: "Ada Lovelace", ExpMonth: 12, ExpYear: 2028, SecurityCode: "123"}
}

func TestSubscribeAgainstFake(t *testing.T) {
	fake := arkpayfake.New("ak_test")
	defer fake.Close()
	fake.Now = func() time.Time { return now }
	c := arkpay.New(arkpay.Config{URL: fake.URL, APIKey: "ak_test", WebhookSecret: "whsec_ark"}, nil)
	ctx := context.Background()
	req := aimg.CardSubscribe{IdempotencyKey: "k1", UserID: "u-1", ProductID: "pro-monthly", AmountCents: 999, Currency: "USD",
		Period: "month", Card: card(goodCard)}
	sub, err := c.Subscribe(ctx, req)
	if err != nil || !sub.Approved || sub.ID == "" || !sub.NextBillingAt.Equal(now.AddDate(0, 1, 0)) {
		t.Fatalf("subscribe: %+v %v", sub, err)
	}
	// A retry with the same key is the same subscription, charged once.
	again, err := c.Subscribe(ctx, req)
	if err != nil || again.ID != sub.ID || fake.Charges != 1 {
		t.Fatalf("retry: %+v %v, %d charges", again, err, fake.Charges)
	}
	req.IdempotencyKey, req.Card = "k2", card(arkpayfake.DeclinedCard)
	if d, err := c.Subscribe(ctx, req); err != nil || d.Approved || d.DeclineReason != "card_declined" {
		t.Fatalf("declined card: %+v %v", d, err)
	}
	ends, err := c.Cancel(ctx, sub.ID)
	if err != nil || !ends.Equal(sub.NextBillingAt) {
		t.Fatalf("cancel: %v %v", ends, err)
	}
	// A wrong key or a dead processor is a 503-kind error without details.
	bad := arkpay.New(arkpay.Config{URL: fake.URL, APIKey: "wrong"}, nil)
	if _, err := bad.Subscribe(ctx, req); aimg.ErrorCode(err) != aimg.CodeUnavailable || strings.Contains(err.Error(), "4000") {
		t.Fatalf("wrong key: %v", err)
	}

	// Webhooks: signed, fresh, mapped; anything else refused.
	body, sig := fake.Webhook("evt_1", "subscription.renewed", sub.ID, "whsec_ark", now)
	ev, ok, err := c.Event(body, sig, now.Add(time.Minute))
	if err != nil || !ok || ev.Kind != aimg.ProviderRenewed || ev.EventID != "evt_1" || ev.UserID != "u-1" || ev.SubscriptionID != sub.ID {
		t.Fatalf("renewed: %+v %v %v", ev, ok, err)
	}
	body, sig = fake.Webhook("evt_2", "subscription.cancelled", sub.ID, "whsec_ark", now)
	if ev, ok, err := c.Event(body, sig, now); err != nil || !ok || ev.Kind != aimg.ProviderCancelled || !ev.PeriodEnd.Equal(ends) {
		t.Fatalf("cancelled: %+v %v %v", ev, ok, err)
	}
	otherBody, otherSig := fake.Webhook("evt_3", "subscription.renewed", sub.ID, "someone-else", now)
	for name, d := range map[string]struct {
		body []byte
		sig  string
		at   time.Time
	}{
		"wrong secret": {otherBody, otherSig, now},
		"changed body": {bytes.Replace(body, []byte("evt_2"), []byte("evt_9"), 1), sig, now},
		"no header":    {body, "", now},
		"replayed":     {body, sig, now.Add(time.Hour)},
	} {
		if _, _, err := c.Event(d.body, d.sig, d.at); !errors.Is(err, arkpay.ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

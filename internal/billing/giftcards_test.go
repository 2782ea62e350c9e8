package billing

import (
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
)

func TestCodesAreUniformFormatAndNormalise(t *testing.T) {
	seen := map[string]bool{}
	counts := map[byte]int{}
	for range 2000 {
		c, err := newCode()
		if err != nil {
			t.Fatal(err)
		}
		if len(c) != 23 || seen[c] || normalizeCode(c) != strings.ReplaceAll(c, "-", "") {
			t.Fatalf("code %q (seen %v)", c, seen[c])
		}
		seen[c] = true
		for i := range len(c) {
			counts[c[i]]++
		}
	}
	if len(counts) != 33 { // 32 symbols and the dash
		t.Fatalf("symbols used: %d", len(counts))
	}
	if got := normalizeCode("abcde fghjk-mnpqr-stvwo"); got != "ABCDEFGHJKMNPQRSTVW0" {
		t.Fatalf("normalised %q", got)
	}
	for _, bad := range []string{"", "ABCDE", "ABCDE-FGHJK-MNPQR-STVWXY", "ABCDE-FGHJK-MNPQR-STVW!", "ÄBCDE-FGHJK-MNPQR-STVWX"} {
		if normalizeCode(bad) != "" {
			t.Fatalf("%q normalised", bad)
		}
	}
	if HashCode("d", "abcde-fghjk-mnpqr-stvwx") != HashCode("d", "ABCDEFGHJKMNPQRSTVWX") || HashCode("d", "ABCDEFGHJKMNPQRSTVWX") == HashCode("e", "ABCDEFGHJKMNPQRSTVWX") {
		t.Fatal("hash must ignore formatting and depend on the domain")
	}
}

func TestBestSubscriptionAndExpiring(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	in := func(d time.Duration) *time.Time { v := now.Add(d); return &v }
	subs := []aimg.Subscription{
		{ID: "low", Tier: 1, Status: aimg.SubscriptionActive},
		{ID: "gone", Tier: 5, Status: aimg.SubscriptionExpired},
		{ID: "past", Tier: 4, Status: aimg.SubscriptionActive, ExpiresAt: in(-time.Second)},
		{ID: "soon", Tier: 3, Status: aimg.SubscriptionCancelled, ExpiresAt: in(time.Hour)},
		{ID: "later", Tier: 3, Status: aimg.SubscriptionActive, ExpiresAt: in(2 * time.Hour), NextBillingAt: in(2 * time.Hour)},
	}
	if b := aimg.BestSubscription(subs, now); b == nil || b.ID != "later" {
		t.Fatalf("best = %+v", b)
	}
	if !subs[3].Expiring() || subs[4].Expiring() || subs[0].Expiring() {
		t.Fatal("expiring: an expiry and nothing renewing")
	}
	if b := aimg.BestSubscription(subs, now.Add(3*time.Hour)); b == nil || b.ID != "low" {
		t.Fatalf("best later = %+v", b)
	}
	if aimg.BestSubscription(nil, now) != nil {
		t.Fatal("no subscriptions: nil")
	}
}

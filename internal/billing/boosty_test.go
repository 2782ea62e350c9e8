package billing

import (
	"bytes"
	"log/slog"
	"net/url"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

func testBoosty(key []byte) *Boosty {
	return NewBoosty(nil, nil, key, config.Config{}, nil, slog.New(slog.DiscardHandler), time.Now)
}

// Sealing is AES-256-GCM under a key derived from the secrets key, with a
// random nonce and the domain and account id bound as additional data.
func TestBoostySealOpen(t *testing.T) {
	secrets := bytes.Repeat([]byte{7}, 32)
	b := testBoosty(secrets)
	if bytes.Equal(b.key, secrets) || len(b.key) != 32 {
		t.Fatal("the sealing key is not derived from the secrets key")
	}
	plain := []byte(`[{"name":"auth","value":"secret-token"}]`)
	s1, err := b.seal(plain, "localhost", "blog")
	if err != nil {
		t.Fatal(err)
	}
	s2, _ := b.seal(plain, "localhost", "blog")
	if bytes.Equal(s1, s2) || bytes.Contains(s1, []byte("secret-token")) {
		t.Fatal("two seals are equal, or the plain text shows")
	}
	if got, err := b.open(s1, "localhost", "blog"); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open: %q %v", got, err)
	}
	for name, open := range map[string]func() ([]byte, error){
		"another domain":  func() ([]byte, error) { return b.open(s1, "other", "blog") },
		"another account": func() ([]byte, error) { return b.open(s1, "localhost", "blog2") },
		"another key":     func() ([]byte, error) { return testBoosty(bytes.Repeat([]byte{8}, 32)).open(s1, "localhost", "blog") },
		"tampered": func() ([]byte, error) {
			bad := bytes.Clone(s1)
			bad[len(bad)-1] ^= 1
			return b.open(bad, "localhost", "blog")
		},
		"truncated": func() ([]byte, error) { return b.open(s1[:10], "localhost", "blog") },
		"no key":    func() ([]byte, error) { return testBoosty(nil).open(s1, "localhost", "blog") },
	} {
		if _, err := open(); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestBoostyAccessToken(t *testing.T) {
	cookie := func(name, value, domain string) map[string]any {
		return map[string]any{"name": name, "value": value, "domain": domain}
	}
	enc := url.QueryEscape(`{"accessToken":"tok","refreshToken":"r","expiresAt":1800000000000}`)
	tok, err := boostyAccessToken([]any{cookie("auth", "x", "other.example"), cookie("auth", enc, ".boosty.to")})
	if err != nil || tok.access != "tok" || tok.expiresAt == nil || !tok.expiresAt.Equal(time.UnixMilli(1_800_000_000_000)) {
		t.Fatalf("%+v %v", tok, err)
	}
	// Not URL-encoded works too; expiresAt in seconds too.
	tok, err = boostyAccessToken([]any{cookie("auth", `{"accessToken":"t2","expiresAt":1800000000}`, "")})
	if err != nil || tok.access != "t2" || !tok.expiresAt.Equal(time.Unix(1_800_000_000, 0)) {
		t.Fatalf("%+v %v", tok, err)
	}
	for _, bad := range [][]any{{cookie("_clientId", "x", "")}, {cookie("auth", "%%%", "")},
		{cookie("auth", `{"accessToken":"a b"}`, "")}, {cookie("auth", `{"accessToken":""}`, "")}} {
		if _, err := boostyAccessToken(bad); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestBoostyLevels(t *testing.T) {
	pp := func(provider, id string) aimg.PaymentProvider {
		return aimg.PaymentProvider{PaymentProvider: provider, ExternalID: id}
	}
	plans := []aimg.BillingPlan{
		{ID: "low", Tier: 1, Prices: []aimg.PlanPrice{{PaymentProviders: []aimg.PaymentProvider{pp("boosty", "1"), pp("stripe", "2")}}}},
		{ID: "high", Tier: 3, Prices: []aimg.PlanPrice{{PaymentProviders: []aimg.PaymentProvider{pp("boosty", "1"), pp("boosty", "")}}}},
	}
	got := boostyLevels(plans)
	if len(got) != 1 || got["1"].plan.ID != "high" {
		t.Fatalf("levels %+v", got)
	}
}

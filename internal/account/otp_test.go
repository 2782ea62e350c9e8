package account

import (
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

func testService(t *testing.T, edit func(*config.Config)) *Service {
	t.Helper()
	svc, err := config.LoadService("")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Config{PublicURL: "https://aimg.example", AdminKey: "k-0123456789abcdef", Service: svc}
	if edit != nil {
		edit(&cfg)
	}
	return New(nil, cfg, nil, nil, slog.New(slog.DiscardHandler), time.Now, nil)
}

func TestMagicLink(t *testing.T) {
	for _, c := range []struct{ base, wantPrefix string }{
		{"", "https://aimg.example/login?b="},
		{"https://app.example/magic", "https://app.example/magic?b="},
		{"https://app.example/magic?lang=en", "https://app.example/magic?lang=en&b="},
	} {
		s := testService(t, func(cfg *config.Config) { cfg.Service.MagicLinkURL = c.base })
		link, err := s.MagicLink("a@b.com", "123456")
		if err != nil || !strings.HasPrefix(link, c.wantPrefix) {
			t.Fatalf("MagicLink with %q = %q, %v", c.base, link, err)
		}
		u, _ := url.Parse(link)
		b := u.Query().Get("b")
		if strings.ContainsAny(b, "+/=") {
			t.Fatalf("b=%q is not unpadded base64url", b)
		}
		raw, err := base64.RawURLEncoding.DecodeString(b)
		if err != nil {
			t.Fatal(err)
		}
		var p map[string]string
		if err := json.Unmarshal(raw, &p); err != nil || p["email"] != "a@b.com" || p["otp"] != "123456" || len(p) != 2 {
			t.Fatalf("payload %s, %v", raw, err)
		}
		if email, otp, err := ParseMagicLink(b); err != nil || email != "a@b.com" || otp != "123456" {
			t.Fatalf("ParseMagicLink(%q) = %q, %q, %v", b, email, otp, err)
		}
	}
	for _, b := range []string{"", "not-base64!", "e30", "eyJlbWFpbCI6ImFAYi5jb20ifQ"} { // {} and no otp
		if _, _, err := ParseMagicLink(b); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Fatalf("ParseMagicLink(%q): %v, want invalid", b, err)
		}
	}
	// The spec's example.
	s := testService(t, nil)
	link, _ := s.MagicLink("a@b.com", "123456")
	if !strings.HasSuffix(link, "b=eyJlbWFpbCI6ImFAYi5jb20iLCJvdHAiOiIxMjM0NTYifQ") {
		t.Fatalf("link %q differs from the spec's example", link)
	}
}

func TestOTPHashIsKeyedAndBound(t *testing.T) {
	s := testService(t, nil)
	h := s.otpHash("localhost", "a@b.c", "123456")
	if len(h) != 64 || strings.Contains(h, "123456") {
		t.Fatalf("hash %q", h)
	}
	if s.otpHash("localhost", "A@B.C", "123456") != h {
		t.Fatal("the hash depends on the email's case")
	}
	for _, other := range []string{
		s.otpHash("other", "a@b.c", "123456"),
		s.otpHash("localhost", "x@b.c", "123456"),
		s.otpHash("localhost", "a@b.c", "123457"),
		testService(t, func(c *config.Config) { c.AdminKey = "another-key-0123456" }).otpHash("localhost", "a@b.c", "123456"),
	} {
		if other == h {
			t.Fatal("hash does not bind domain, email, code and server secret")
		}
	}
}

func TestNewOTPIsSixDigits(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		c, err := newOTP()
		if err != nil || checkOTPFormat(c) != nil {
			t.Fatalf("newOTP = %q, %v", c, err)
		}
		seen[c] = true
	}
	if len(seen) < 190 {
		t.Fatalf("only %d distinct codes in 200", len(seen))
	}
}

package account

import (
	"net/mail"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a@b.c", "a@b.c"},
		{"  Alice.Smith+tag@Example.COM ", "alice.smith+tag@example.com"},
		{"user@localhost", "user@localhost"},
		{"", ""},
		{"plain", ""},
		{"Alice <a@b.c>", ""},
		{"<a@b.c>", ""},
		{"a@b.c (comment)", ""},
		{"a@@b.c", ""},
		{"a@b@c.d", ""},
		{`"a b"@c.d`, ""},
		{"a@", ""},
		{"@b.c", ""},
		{"a@b.c, d@e.f", ""},
		{"a\r\n@b.c", ""},
		{strings.Repeat("a", 250) + "@b.cd", ""},
	} {
		got, err := NormalizeEmail("email", c.in)
		if c.want == "" {
			if err == nil || !strings.HasPrefix(err.Error(), "email: ") {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want an error naming email", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestCheckUsername(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{
		{"abc", true}, {"Alice_01.x-y", true}, {strings.Repeat("z", 32), true},
		{"ab", false}, {strings.Repeat("z", 33), false}, {"a b", false}, {"a@b", false},
		{"ünï", false}, {"abc/", false}, {"", false},
	} {
		if err := CheckUsername(c.in); (err == nil) != c.ok {
			t.Errorf("CheckUsername(%q) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}

func TestCheckOTPFormat(t *testing.T) {
	for _, c := range []struct {
		in string
		ok bool
	}{{"123456", true}, {"000000", true}, {"12345", false}, {"1234567", false}, {"12345a", false}, {"１２３４５６", false}} {
		if err := checkOTPFormat(c.in); (err == nil) != c.ok {
			t.Errorf("checkOTPFormat(%q) = %v, want ok=%v", c.in, err, c.ok)
		}
	}
}

func TestCleanRefList(t *testing.T) {
	got, err := cleanRefList([]string{" a ", "", "b"})
	if err != nil || len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("cleanRefList = %q, %v", got, err)
	}
	if _, err := cleanRefList(make([]string, 0, 60)); err != nil {
		t.Fatal(err)
	}
	long := make([]string, 51)
	for i := range long {
		long[i] = "x"
	}
	if _, err := cleanRefList(long); err == nil {
		t.Fatal("51 entries accepted")
	}
	if _, err := cleanRefList([]string{strings.Repeat("x", 2049)}); err == nil {
		t.Fatal("a 2049-byte entry accepted")
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"a@b.c", "Alice <a@b.c>", "", "a@b", `"x"@y`, "A@B.C "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := NormalizeEmail("email", in)
		if err != nil {
			return
		}
		// Accepted emails are bare, lower-case, parse as themselves and are stable.
		if got != strings.ToLower(got) || len(got) > maxEmailBytes || strings.Count(got, "@") != 1 {
			t.Fatalf("NormalizeEmail(%q) = %q", in, got)
		}
		if a, err := mail.ParseAddress(got); err != nil || a.Name != "" || !strings.EqualFold(a.Address, got) {
			t.Fatalf("NormalizeEmail(%q) = %q does not parse back: %v", in, got, err)
		}
		if again, err := NormalizeEmail("email", got); err != nil || again != got {
			t.Fatalf("not idempotent: %q -> %q, %v", got, again, err)
		}
	})
}

package account

import (
	"strings"
	"testing"
)

func TestHashPasswordIsArgon2idPHCAndVerifies(t *testing.T) {
	const pw = "Correct-h0rse!"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(h, pw) {
		t.Fatalf("hash %q is not an argon2id PHC string hiding the password", h)
	}
	if parts := strings.Split(h, "$"); len(parts) != 6 || len(parts[4]) != 22 || len(parts[5]) != 43 {
		t.Fatalf("salt/hash lengths in %q", h)
	}
	h2, _ := HashPassword(pw)
	if h2 == h {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
	for _, c := range []struct {
		pw   string
		want bool
	}{{pw, true}, {"Correct-h0rse?", false}, {"", false}, {pw + " ", false}} {
		ok, err := VerifyPassword(h, c.pw)
		if err != nil || ok != c.want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", c.pw, ok, err, c.want)
		}
	}
}

func TestVerifyPasswordRejectsMalformedHashes(t *testing.T) {
	good, _ := HashPassword("Aa1!aaaa")
	parts := strings.Split(good, "$")
	for _, h := range []string{
		"", "plain", "$2a$10$abcdefghijklmnopqrstuv", // bcrypt
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=19456", "m=999999999", 1),
		strings.Replace(good, "t=2", "t=0", 1),
		"$argon2id$v=19$m=19456,t=2,p=1$!!!$" + parts[5],
		"$argon2id$v=19$m=19456,t=2,p=1$" + parts[4] + "$short",
		good + "$extra",
	} {
		if ok, err := VerifyPassword(h, "Aa1!aaaa"); ok || err == nil {
			t.Errorf("VerifyPassword(%q) = %v, %v; want an error", h, ok, err)
		}
	}
}

func TestCheckPasswordRule(t *testing.T) {
	for _, c := range []struct {
		pw string
		ok bool
	}{
		{"Aa1!aaaa", true},
		{`Aa1"bbbb`, true},
		{`Aa1\bbbb`, true},
		{"Ünïcødé-P4ss", true},
		{"Aa1!aaa", false},  // 7 characters
		{"aa1!aaaa", false}, // no upper
		{"AA1!AAAA", false}, // no lower
		{"Aaa!aaaa", false}, // no digit
		{"Aa1aaaaa", false}, // no special
		{"Aa1 aaaa", false}, // space is not special
		{"Aa1!aaa\naa", false},
		{"Aa1!aaa\x00a", false},
		{strings.Repeat("Aa1!", 65), false}, // 260 bytes
		{"Aa1!\xffaaaa", false},
	} {
		err := CheckPasswordRule(c.pw)
		if (err == nil) != c.ok {
			t.Errorf("CheckPasswordRule(%q) = %v, want ok=%v", c.pw, err, c.ok)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "password: ") {
			t.Errorf("error %q does not name the field", err)
		}
	}
}

func TestGenerateStrongPasswordAlwaysSatisfiesTheRule(t *testing.T) {
	seen := map[string]bool{}
	for range 500 {
		p, err := GenerateStrongPassword()
		if err != nil {
			t.Fatal(err)
		}
		if len(p) != GeneratedPasswordLength {
			t.Fatalf("length %d", len(p))
		}
		if err := CheckPasswordRule(p); err != nil {
			t.Fatalf("%q: %v", p, err)
		}
		if seen[p] {
			t.Fatalf("%q generated twice", p)
		}
		seen[p] = true
	}
}

func FuzzCheckPasswordRule(f *testing.F) {
	for _, s := range []string{"Aa1!aaaa", "", "aaaaaaaa", "Ünïcødé-P4ss", "Aa1!\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPasswordRule(p) != nil {
			return
		}
		// Whatever passes satisfies every clause of the spec's regexp.
		if len([]rune(p)) < 8 || !strings.ContainsAny(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ||
			!strings.ContainsAny(p, "abcdefghijklmnopqrstuvwxyz") || !strings.ContainsAny(p, "0123456789") ||
			!strings.ContainsAny(p, passwordSpecials) || strings.ContainsAny(p, "\r\n") || len(p) > maxPasswordBytes {
			t.Fatalf("%q passed the rule", p)
		}
	})
}

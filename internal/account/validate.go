package account

import (
	"net/mail"
	"strings"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// maxEmailBytes is RFC 5321's limit on a forward path.
const maxEmailBytes = 254

// NormalizeEmail accepts a bare address ("a@b.c", no display name, no angle
// brackets, no comments) and returns it lower-cased; field names the request
// field in errors.
func NormalizeEmail(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", aimg.Invalid(field, "is required")
	}
	if len(s) > maxEmailBytes || !utf8.ValidString(s) {
		return "", aimg.Invalid(field, "is not a valid email address")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Name != "" || addr.Address != s || strings.Count(s, "@") != 1 {
		return "", aimg.Invalid(field, "is not a valid email address")
	}
	local, domain, _ := strings.Cut(s, "@")
	if local == "" || domain == "" || strings.ContainsAny(s, " \t\"\\") {
		return "", aimg.Invalid(field, "is not a valid email address")
	}
	return strings.ToLower(s), nil
}

// Username rule: 3 to 32 characters of A-Z a-z 0-9 _ . -, unique per domain
// without regard to case (the users_domain_username index).
const (
	minUsername = 3
	maxUsername = 32
)

// CheckUsername enforces the username rule.
func CheckUsername(u string) error {
	if len(u) < minUsername || len(u) > maxUsername {
		return aimg.Invalid("username", "must be %d to %d characters long", minUsername, maxUsername)
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-') {
			return aimg.Invalid("username", "may contain only letters A-Z, digits, '_', '.' and '-'")
		}
	}
	return nil
}

// otpDigits is the length of a one-time password.
const otpDigits = 6

// checkOTPFormat rejects anything but six ASCII digits before any lookup.
func checkOTPFormat(code string) error {
	if len(code) != otpDigits {
		return aimg.Invalid("otp", "must be %d digits", otpDigits)
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return aimg.Invalid("otp", "must be %d digits", otpDigits)
		}
	}
	return nil
}

// Bounds of the free-text fields of a user.
const (
	maxRefList        = 50
	maxRefBytes       = 2048
	maxRSBytes        = 256
	maxAdditionalInfo = 64 << 10
)

// cleanRefList drops empty entries and enforces the bounds.
func cleanRefList(list []string) ([]string, error) {
	out := []string{}
	for _, r := range list {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if len(r) > maxRefBytes || !utf8.ValidString(r) {
			return nil, aimg.Invalid("refList", "each entry must be valid UTF-8 of at most %d bytes", maxRefBytes)
		}
		out = append(out, r)
	}
	if len(out) > maxRefList {
		return nil, aimg.Invalid("refList", "at most %d entries", maxRefList)
	}
	return out, nil
}

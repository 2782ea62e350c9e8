package account

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"aimg/internal/aimg"
)

// passwordSpecials are the special characters of the spec's password rule.
const passwordSpecials = `!@#$%^&*()_+-=[]{};':"\|,.<>/?`

// Password length bounds: the spec's minimum, and a maximum that keeps a
// hash request cheap to refuse.
const (
	minPasswordChars = 8
	maxPasswordBytes = 256
)

// CheckPasswordRule enforces the spec's rule
// ^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])(?=.*[specials]).{8,}$ (RE2 has no
// look-ahead, so it is spelled out) plus an upper bound on the length.
func CheckPasswordRule(p string) error {
	if !utf8.ValidString(p) {
		return aimg.Invalid("password", "must be valid UTF-8")
	}
	if len(p) > maxPasswordBytes {
		return aimg.Invalid("password", "must be at most %d bytes", maxPasswordBytes)
	}
	var upper, lower, digit, special bool
	chars := 0
	for _, r := range p {
		if r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029' {
			return aimg.Invalid("password", "must not contain line breaks")
		}
		chars++
		switch {
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(passwordSpecials, r):
			special = true
		case unicode.IsControl(r):
			return aimg.Invalid("password", "must not contain control characters")
		}
	}
	if chars < minPasswordChars || !upper || !lower || !digit || !special {
		return aimg.Invalid("password", "must be at least %d characters long and contain an upper-case letter, "+
			"a lower-case letter, a digit and one of %s", minPasswordChars, passwordSpecials)
	}
	return nil
}

// argon2id parameters for new hashes (OWASP's 19 MiB, 2 passes, 1 lane).
// Verification reads the parameters from the stored PHC string, so raising
// them later keeps old hashes valid.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonSaltLen   = 16
	argonKeyLen    = 32
)

var b64 = base64.RawStdEncoding

// Each argon2id computation holds argonMemoryKiB (19 MiB) for its duration,
// and sign-in is open to anyone: without a bound, 200 parallel
// authenticateUser calls from 200 addresses (each within its own rate
// limit) peaked at 3.8 GB. At most accounts.passwordHashConcurrency run at
// once, server-wide (4 by default: 76 MiB); a request waits at most
// accounts.passwordHashWait for a turn, then gets 503 with Retry-After.

// hashTurn waits for one of the server's password-hashing turns and returns
// its release.
func (s *Service) hashTurn(ctx context.Context) (release func(), err error) {
	select {
	case s.hashTurns <- struct{}{}:
		return func() { <-s.hashTurns }, nil
	default:
	}
	t := time.NewTimer(s.hashWait)
	defer t.Stop()
	select {
	case s.hashTurns <- struct{}{}:
		return func() { <-s.hashTurns }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-t.C:
		return nil, &aimg.Error{Code: aimg.CodeUnavailable, RetryAfter: time.Second,
			Message: "The server is busy checking passwords; try again in a second"}
	}
}

// hashPassword is HashPassword in one of the server's hashing turns.
func (s *Service) hashPassword(ctx context.Context, p string) (string, error) {
	release, err := s.hashTurn(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	h, err := HashPassword(p)
	if err != nil {
		return "", aimg.Internal(err)
	}
	return h, nil
}

// HashPassword returns the argon2id PHC string of p with a fresh random salt:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>.
func HashPassword(p string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(p), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime,
		argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("malformed argon2id hash")

// VerifyPassword tells whether p matches the PHC string hash, comparing in
// constant time. A malformed hash is an error, never a match.
func VerifyPassword(hash, p string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	var mem, iter uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iter, &threads); err != nil ||
		mem < 8 || mem > 1<<20 || iter < 1 || iter > 64 || threads < 1 {
		return false, errBadHash
	}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) < 16 || len(want) > 128 {
		return false, errBadHash
	}
	got := argon2.IDKey([]byte(p), salt, iter, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// Character classes of generated passwords; the special class is the spec's set.
const (
	genUpper   = "ABCDEFGHJKLMNPQRSTUVWXYZ"
	genLower   = "abcdefghijkmnopqrstuvwxyz"
	genDigits  = "23456789"
	genSpecial = "!@#$%^&*()_+-=[]{};:,.<>/?"
	// GeneratedPasswordLength gives ~120 bits from crypto/rand.
	GeneratedPasswordLength = 20
)

// GenerateStrongPassword returns a random password that always satisfies
// CheckPasswordRule: one character of each class, the rest from all of them,
// shuffled, every choice from crypto/rand.
func GenerateStrongPassword() (string, error) {
	all := genUpper + genLower + genDigits + genSpecial
	out := make([]byte, 0, GeneratedPasswordLength)
	for _, class := range []string{genUpper, genLower, genDigits, genSpecial} {
		c, err := randomChar(class)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for len(out) < GeneratedPasswordLength {
		c, err := randomChar(all)
		if err != nil {
			return "", err
		}
		out = append(out, c)
	}
	for i := len(out) - 1; i > 0; i-- { // Fisher-Yates
		j, err := randomInt(i + 1)
		if err != nil {
			return "", err
		}
		out[i], out[j] = out[j], out[i]
	}
	return string(out), nil
}

func randomChar(set string) (byte, error) {
	i, err := randomInt(len(set))
	if err != nil {
		return 0, err
	}
	return set[i], nil
}

func randomInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(v.Int64()), nil
}

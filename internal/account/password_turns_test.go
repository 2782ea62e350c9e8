package account

import (
	"context"
	"errors"
	"testing"

	"aimg/internal/aimg"
)

// Password hashing is bounded server-wide: with every turn taken, a sign-in
// does not start another 19 MiB argon2id computation but gets 503 with
// Retry-After once its wait is over (here: no wait). Before, nothing bounded
// them: 200 parallel authenticateUser calls from 200 addresses, each within
// its address's rate limit, peaked at 3.8 GB RSS.
func TestPasswordHashingTakesATurn(t *testing.T) {
	s := testService(t, nil)
	s.hashWait = 0
	for range cap(s.hashTurns) {
		s.hashTurns <- struct{}{}
	}
	if want := s.cfg.Service.Accounts.PasswordHashConcurrency; cap(s.hashTurns) != want || want < 1 {
		t.Fatalf("%d turns, want accounts.passwordHashConcurrency = %d", cap(s.hashTurns), want)
	}
	check := func(what string, err error) {
		t.Helper()
		var ae *aimg.Error
		if !errors.As(err, &ae) || ae.Code != aimg.CodeUnavailable || ae.RetryAfter <= 0 {
			t.Fatalf("%s with every turn taken: %v, want unavailable with Retry-After", what, err)
		}
	}
	_, err := s.checkPassword(context.Background(), nil, "Some-Password-1")
	check("verifying", err)
	_, err = s.hashPassword(context.Background(), "Some-Password-1")
	check("hashing", err)

	// A turn given back is taken again.
	<-s.hashTurns
	if _, err := s.hashPassword(context.Background(), "Some-Password-1"); err != nil {
		t.Fatalf("with a free turn: %v", err)
	}
	if len(s.hashTurns) != cap(s.hashTurns)-1 {
		t.Fatalf("the turn was not released: %d of %d taken", len(s.hashTurns), cap(s.hashTurns))
	}
}

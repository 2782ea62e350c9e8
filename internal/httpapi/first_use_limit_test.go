package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// Parallel first requests of one new session make one guest record, so they
// take one "newSession:ip" token between them and none is refused for want
// of one. Before, every request took a token before the insert-or-get found
// the guest a sibling had just made: six requests of one session used six
// tokens, and with a budget of two, four were answered 429 "Too many
// requests" for a guest that existed.
func TestParallelFirstRequestsTakeOneNewSessionToken(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, sessLimits(map[string]ratelimit.Rule{
			"newSession:ip": {Requests: 1, Per: time.Hour, Burst: 2},
		}))
		session := uuid.NewString()
		for i, r := range sessParallel(t, srv, 6, http.MethodGet, "/api/getSelfUser?isAtLeast18Confirmed=true", session, nil) {
			if r.status != http.StatusOK {
				t.Errorf("request %d of one new session: %d %s", i, r.status, r.body)
			}
		}
		if n := sessCount(t, srv, dbURL, "users WHERE is_guest"); n != 1 {
			t.Fatalf("%d guest records, want 1", n)
		}
		// The second token is still there for another new session.
		testsupport.ExpectOK(t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", uuid.NewString()))
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", uuid.NewString()),
			http.StatusTooManyRequests, "Too many")
	})
}

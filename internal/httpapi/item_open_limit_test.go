package httpapi_test

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// Opening an Item by id (getItem, getItemDetails) is limited per client
// address for a caller without an account record, one bucket shared with
// the web's Item page; a signed-in user is not counted there.
func TestOpeningItemsIsLimitedForStrangers(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{"itemPage:ip": {Requests: 1, Per: time.Hour, Burst: 3}}
	})
	user := testsupport.SignUp(t, srv, "ada@example.com")
	id := uuid.NewString()
	for range 5 {
		testsupport.ExpectError(t, srv.Get(t, "/api/getItemDetails?imageID="+id, user.SessionID), 404, "")
	}
	stranger := uuid.NewString() // a session id with nothing behind it
	for _, op := range []string{"getItemDetails", "getItem", "getItemDetails"} {
		testsupport.ExpectError(t, srv.Get(t, "/api/"+op+"?imageID="+id, stranger), 404, "")
	}
	for _, op := range []string{"getItem", "getItemDetails"} {
		env := srv.Get(t, "/api/"+op+"?imageID="+id, stranger)
		testsupport.ExpectError(t, env, 429, "")
		if env.Header.Get("Retry-After") == "" {
			t.Fatalf("%s: 429 without Retry-After", op)
		}
	}
	testsupport.ExpectError(t, srv.Get(t, "/api/getItem?imageID="+id, user.SessionID), 404, "")
}

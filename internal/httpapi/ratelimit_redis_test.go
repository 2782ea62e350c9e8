package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// Two replicas with AIMG_REDIS_URL share the requestOTP limits: what one
// replica spent, the other refuses.
func TestReplicasShareRateLimitsThroughRedis(t *testing.T) {
	redisURL := testsupport.ServiceURL(t, "AIMG_TEST_REDIS_URL", "e.g. redis://127.0.0.1:6379/15")
	shared := func(c *config.Config) {
		c.RedisURL = redisURL
		c.Service.RateLimits = map[string]ratelimit.Rule{
			"requestOTP:email": {Requests: 2, Per: time.Hour, Burst: 2},
		}
	}
	a := testsupport.NewServer(t, "", shared)
	b := testsupport.NewServer(t, "", shared)
	email := "shared-" + uuid.NewString()[:8] + "@example.com" // Redis outlives test runs
	otp := func(srv *testsupport.Server) *testsupport.Envelope {
		return srv.Post(t, "/api/requestOTP", "", map[string]any{"email": email, "signUp": true})
	}
	testsupport.ExpectOK(t, otp(a))
	testsupport.ExpectOK(t, otp(b))
	refused := otp(a)
	testsupport.ExpectError(t, refused, http.StatusTooManyRequests, "")
	if refused.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	testsupport.ExpectError(t, otp(b), http.StatusTooManyRequests, "")
	// Another email has its own bucket.
	testsupport.ExpectOK(t, b.Post(t, "/api/requestOTP", "", map[string]any{"email": "other-" + email, "signUp": true}))
}

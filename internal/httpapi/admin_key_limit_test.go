package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// Wrong X-Administration-Keys are counted per client address
// ("adminKey:ip", shared with the web's key form): past the limit every
// key from that address is refused with 429, the right one too, on admin
// operations and on operations where the key stands for a session alike.
func TestWrongAdminKeysAreLimited(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, func(c *config.Config) {
			c.Service.RateLimits = map[string]ratelimit.Rule{"adminKey:ip": {Requests: 1, Per: time.Hour, Burst: 2}}
		})
		get := func(path, key string) *testsupport.Envelope {
			return srv.Do(t, testsupport.Req{Method: http.MethodGet, Path: path, AdminKey: key})
		}
		for range 3 { // the right key takes no token
			testsupport.ExpectOK(t, get("/api/getWorkerKeys", testsupport.AdminKey))
		}
		for range 2 {
			testsupport.ExpectError(t, get("/api/getWorkerKeys", "wrong-admin-key-0123456789"), 401, "X-Administration-Key")
		}
		testsupport.ExpectError(t, get("/api/getWorkerKeys", "wrong-admin-key-0123456789"), 429, "Too many requests")
		refused := get("/api/getWorkerKeys", testsupport.AdminKey)
		testsupport.ExpectError(t, refused, 429, "Too many requests")
		if refused.Header.Get("Retry-After") == "" {
			t.Fatal("a refused admin key has no Retry-After")
		}
		testsupport.ExpectError(t, get("/api/getMyCreations", testsupport.AdminKey), 429, "Too many requests")
		// Without a key the address is served as before.
		testsupport.ExpectOK(t, get("/api/getModels", ""))
	})
}

package httpapi_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// sessCount counts rows of a table straight from the database.
func sessCount(t *testing.T, srv *testsupport.Server, dbURL, query string, args ...any) int {
	t.Helper()
	n, err := strconv.Atoi(acctQueryString(t, srv, dbURL, "SELECT CAST(COUNT(*) AS TEXT) FROM "+query, args...))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Anonymous callers cost no storage: a fresh X-Session-ID is a session, but
// no row is written until it owns something (security hole 5).
func TestAnonymousSessionsAreNotStored(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := acctServer(t, dbURL)
		for range 5 {
			id := uuid.NewString()
			if self := testsupport.Self(t, srv, id); self.SessionID != id || self.UserID != "" {
				t.Fatalf("fresh session: %+v", self)
			}
			testsupport.ExpectOK(t, srv.Get(t, "/api/getModels", uuid.NewString()))
			testsupport.ExpectOK(t, srv.Get(t, "/api/getMyCreations", uuid.NewString()))
			testsupport.ExpectOK(t, srv.Post(t, "/api/ingestLogs", uuid.NewString(), map[string]any{"logs": []map[string]any{{"message": "x"}}}))
			testsupport.ExpectOK(t, srv.Get(t, "/api/getSelfUser", "")) // a server-generated id
		}
		if n := sessCount(t, srv, dbURL, "sessions"); n != 0 {
			t.Fatalf("%d session rows written for anonymous callers that own nothing", n)
		}
		if n := sessCount(t, srv, dbURL, "users"); n != 0 {
			t.Fatalf("%d user rows written for anonymous callers", n)
		}

		// A server-generated id keeps working when the client comes back with it.
		var self testsupport.SelfUser
		env := srv.Get(t, "/api/getSelfUser", "")
		env.Decode(t, &self)
		if _, err := uuid.Parse(self.SessionID); err != nil {
			t.Fatalf("sessionID %q", self.SessionID)
		}
		if again := testsupport.Self(t, srv, self.SessionID); again.SessionID != self.SessionID {
			t.Fatalf("the returned session id changed: %+v", again)
		}
		st := generate(t, srv, "/api/generateImage", self.SessionID, map[string]any{"prompt": "a fox"})
		if imgs, _ := creations(t, srv, self.SessionID, ""); len(imgs) != 1 || imgs[0].ID != st.ImageID {
			t.Fatalf("the session sees %v, want [%s]", imageIDs(imgs), st.ImageID)
		}
		if n := sessCount(t, srv, dbURL, "sessions"); n != 1 {
			t.Fatalf("%d session rows once the session owns an Item, want 1", n)
		}
		// Confirming 18+ remembers it: that session is written too.
		confirmed := uuid.NewString()
		testsupport.ExpectOK(t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", confirmed))
		if !testsupport.Self(t, srv, confirmed).IsAtLeast18Confirmed {
			t.Fatal("the 18+ confirmation of an anonymous session was forgotten")
		}
	})
}

// A guest session that expired but was not yet reaped starts over as a
// fresh anonymous session: it used to answer 404 "Session not found".
func TestExpiredSessionStartsOver(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := acctServer(t, dbURL)
		id := uuid.NewString()
		first := generate(t, srv, "/api/generateImage", id, map[string]any{"prompt": "a fox"})
		srv.Clock.Advance(31 * 24 * time.Hour)
		self := testsupport.Self(t, srv, id)
		if self.SessionID != id || self.UserID != "" {
			t.Fatalf("expired session: %+v", self)
		}
		second := generate(t, srv, "/api/generateImage", id, map[string]any{"prompt": "a fox"})
		imgs, _ := creations(t, srv, id, "")
		if len(imgs) != 1 || imgs[0].ID != second.ImageID || second.ImageID == first.ImageID {
			t.Fatalf("the restarted session sees %v, want only %s", imageIDs(imgs), second.ImageID)
		}
	})
}

func sessLimits(rules map[string]ratelimit.Rule) func(*config.Config) {
	return func(c *config.Config) { c.Service.RateLimits = rules }
}

// New stored sessions (guest records) are rate limited per client address.
func TestNewSessionRateLimit(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, sessLimits(map[string]ratelimit.Rule{
			"newSession:ip": {Requests: 1, Per: time.Hour, Burst: 2},
		}))
		for range 2 {
			generate(t, srv, "/api/generateImage", uuid.NewString(), map[string]any{"prompt": "a fox"})
		}
		env := srv.Post(t, "/api/generateImage", uuid.NewString(), map[string]any{"prompt": "a fox"})
		testsupport.ExpectError(t, env, http.StatusTooManyRequests, "Too many")
		if env.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		testsupport.ExpectError(t, srv.Get(t, "/api/getSelfUser?isAtLeast18Confirmed=true", uuid.NewString()), http.StatusTooManyRequests, "Too many")
		// What writes nothing is not limited.
		testsupport.ExpectOK(t, srv.Get(t, "/api/getSelfUser", uuid.NewString()))
		testsupport.ExpectOK(t, srv.Get(t, "/api/getMyCreations", uuid.NewString()))
		if n := sessCount(t, srv, dbURL, "users WHERE is_guest"); n != 2 {
			t.Fatalf("%d guest records, want 2", n)
		}
		// An hour later a token is back.
		srv.Clock.Advance(time.Hour)
		generate(t, srv, "/api/generateImage", uuid.NewString(), map[string]any{"prompt": "a fox"})
	})
}

// ingestLogs is rate limited per client address, and bounded per entry and
// per request.
func TestIngestLogsBounds(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, sessLimits(map[string]ratelimit.Rule{
			"ingestLogs:ip": {Requests: 1, Per: time.Minute, Burst: 3},
		}))
		session := uuid.NewString()
		one := map[string]any{"logs": []map[string]any{{"message": "x"}}}
		entry := func(n int) map[string]any {
			return map[string]any{"message": "m", "errorMessage": strings.Repeat("e", 4000), "errorStack": strings.Repeat("s", n)}
		}
		// Default budgets: 16 KiB per entry, 64 KiB per request.
		testsupport.ExpectError(t, srv.Post(t, "/api/ingestLogs", session, map[string]any{"logs": []map[string]any{entry(13 << 10)}}),
			http.StatusBadRequest, "logs[0]")
		many := []map[string]any{}
		for range 6 {
			many = append(many, entry(8<<10))
		}
		testsupport.ExpectError(t, srv.Post(t, "/api/ingestLogs", session, map[string]any{"logs": many}), http.StatusBadRequest, "logs:")
		if lines := acctLogLines(t, srv); len(lines) != 0 {
			t.Fatalf("refused batches wrote %d lines", len(lines))
		}
		// The two refused requests took two tokens; the third is the last.
		testsupport.ExpectOK(t, srv.Post(t, "/api/ingestLogs", session, map[string]any{"logs": []map[string]any{entry(11 << 10)}}))
		env := srv.Post(t, "/api/ingestLogs", uuid.NewString(), one)
		testsupport.ExpectError(t, env, http.StatusTooManyRequests, "Too many")
		if env.Header.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
		// The admin key is not limited.
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/ingestLogs", AdminKey: testsupport.AdminKey, Body: one}))
		if lines := acctLogLines(t, srv); len(lines) != 2 {
			t.Fatalf("%d client lines, want 2", len(lines))
		}
	})
}

// Client input echoed in an error message is quoted and cut short: 1 MB
// in modelName used to come back as 1 MB.
func TestEchoedInputIsTruncated(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := acctServer(t, dbURL)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		big := strings.Repeat("x", 1_000_000) // 1 MB, under the 1 MiB body limit
		for _, c := range []struct {
			path, field string
			body        map[string]any
		}{
			{"/api/generateImage", "modelName", map[string]any{"prompt": "p", "modelName": big}},
			{"/api/generateImage", "sampler", map[string]any{"prompt": "p", "sampler": big}},
			{"/api/generateImage", "folderID", map[string]any{"prompt": "p", "folderID": big}},
			{"/api/generateVideo", "controlNetPreset", map[string]any{"prompt": "p", "controlNetPreset": big}},
			{"/api/generateVideo", "input", map[string]any{"prompt": "p", "input": big}},
			{"/api/setSelfUserProfilePicture", "profilePicture", map[string]any{"profilePicture": "data:image/png " + big + ";base64,AAAA"}},
		} {
			env := srv.Post(t, c.path, a.SessionID, c.body)
			testsupport.ExpectError(t, env, http.StatusBadRequest, c.field)
			if len(env.ErrorMessage) > 400 || !strings.Contains(env.ErrorMessage, "xxx…") {
				t.Errorf("%s %s: %d-byte message %.120q…", c.path, c.field, len(env.ErrorMessage), env.ErrorMessage)
			}
		}
	})
}

type sessResult struct {
	status int
	body   []byte
}

// sessParallel sends n copies of one request at once and returns the answers.
func sessParallel(t *testing.T, srv *testsupport.Server, n int, method, path, session string, body any, header ...string) []sessResult {
	t.Helper()
	var raw []byte
	if body != nil {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]sessResult, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var rd io.Reader
			if raw != nil {
				rd = bytes.NewReader(raw)
			}
			req, err := http.NewRequest(method, srv.URL+path, rd)
			if err != nil {
				errs[i] = err
				return
			}
			if raw != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set("X-Session-ID", session)
			for j := 0; j+1 < len(header); j += 2 {
				req.Header.Set(header[j], header[j+1])
			}
			<-start
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs[i] = err
				return
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			out[i], errs[i] = sessResult{resp.StatusCode, b}, err
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// The first requests of a new session, sent together, share one guest
// record: every Item they queue is the session's, and the per-user
// concurrency limit (2 on f222 for tier 0) holds across them.
func TestParallelFirstRequestsShareOneGuest(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := acctServer(t, dbURL)
		for round := range 3 {
			session := uuid.NewString()
			results := sessParallel(t, srv, 6, http.MethodPost, "/api/generateImage", session, map[string]any{"prompt": "a fox"})
			var ok []string
			limited := 0
			for _, r := range results {
				switch r.status {
				case http.StatusOK:
					var env struct {
						Payload genStatus `json:"payload"`
					}
					if err := json.Unmarshal(r.body, &env); err != nil {
						t.Fatal(err)
					}
					ok = append(ok, env.Payload.ImageID)
				case http.StatusTooManyRequests:
					limited++
				default:
					t.Fatalf("round %d: status %d: %s", round, r.status, r.body)
				}
			}
			if len(ok) != 2 || limited != 4 {
				t.Fatalf("round %d: %d queued and %d refused with 429; want 2 and 4 (the limit is 2 at once)", round, len(ok), limited)
			}
			imgs, _ := creations(t, srv, session, "")
			seen := imageIDs(imgs)
			for _, id := range ok {
				if !slices.Contains(seen, id) {
					t.Fatalf("round %d: Item %s answered 200 but the session sees only %v", round, id, seen)
				}
			}
			if n := sessCount(t, srv, dbURL, "items"); n != 2*(round+1) {
				t.Fatalf("round %d: %d Items stored, want %d: some belong to a guest no session reaches", round, n, 2*(round+1))
			}
			// A third request after the burst is still refused: the limit is per session.
			testsupport.ExpectError(t, srv.Post(t, "/api/generateImage", session, map[string]any{"prompt": "a fox"}),
				http.StatusTooManyRequests, "limit is 2")
			if n := sessCount(t, srv, dbURL, "users WHERE is_guest"); n != round+1 {
				t.Fatalf("round %d: %d guest records, want %d (one per session)", round, n, round+1)
			}
		}
		// Parallel requests of a new session with one Idempotency-Key queue once.
		session := uuid.NewString()
		results := sessParallel(t, srv, 6, http.MethodPost, "/api/generateImage", session, map[string]any{"prompt": "a fox"},
			"Idempotency-Key", "first-click")
		var ids []string
		for _, r := range results {
			var env struct {
				Payload genStatus `json:"payload"`
			}
			if err := json.Unmarshal(r.body, &env); err != nil || r.status != http.StatusOK {
				t.Fatalf("idempotent request: %d %s", r.status, r.body)
			}
			ids = append(ids, env.Payload.ImageID)
		}
		slices.Sort(ids)
		if distinct := slices.Compact(slices.Clone(ids)); len(distinct) != 1 {
			t.Fatalf("one Idempotency-Key queued %d Items: %v", len(distinct), distinct)
		}
		if imgs, _ := creations(t, srv, session, ""); len(imgs) != 1 || imgs[0].ID != ids[0] {
			t.Fatalf("the session sees %v, want [%s]", imageIDs(imgs), ids[0])
		}

		// Parallel 18+ confirmations of one new session make one guest too.
		session = uuid.NewString()
		for _, r := range sessParallel(t, srv, 6, http.MethodGet, "/api/getSelfUser?isAtLeast18Confirmed=true", session, nil) {
			if r.status != http.StatusOK {
				t.Fatalf("getSelfUser: %d %s", r.status, r.body)
			}
		}
		if n := sessCount(t, srv, dbURL, "users WHERE is_guest"); n != 5 {
			t.Fatalf("%d guest records after the confirmations, want 5", n)
		}
	})
}

// signOutUser answers success:false when there is no session to end, and
// never creates one to sign out of.
func TestSignOutUserWithoutSession(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := acctServer(t, dbURL)
		signOut := func(id string) bool {
			t.Helper()
			got := acctDecode[map[string]any](t, srv.Post(t, "/api/signOutUser", id, nil))
			if got["success"] == false && got["message"] == "" {
				t.Fatalf("success:false without a message: %v", got)
			}
			return got["success"] == true
		}
		a := testsupport.SignUp(t, srv, "alice@example.com")

		cases := map[string]string{}
		cases["never seen"] = uuid.NewString()

		// Rotated away by sign-in, then used again by a stale client tab.
		rotated := uuid.NewString()
		testsupport.Self(t, srv, rotated)
		var in testsupport.SelfUser
		srv.Post(t, "/api/authenticateUser", rotated, map[string]any{"email": a.Email, "password": a.Password}).Decode(t, &in)
		if in.SessionID == rotated || !in.IsAuthenticated {
			t.Fatalf("sign-in: %+v", in)
		}
		testsupport.Self(t, srv, rotated)
		cases["rotated by sign-in"] = rotated

		// Already signed out, then used again.
		out := testsupport.SignIn(t, srv, a.Email, a.Password)
		if !signOut(out) {
			t.Fatal("signing out a live session said success:false")
		}
		testsupport.Self(t, srv, out)
		cases["already signed out"] = out

		// Handed out by getSelfUser without X-Session-ID, never used for anything.
		var fresh testsupport.SelfUser
		srv.Get(t, "/api/getSelfUser", "").Decode(t, &fresh)
		cases["anonymous, owns nothing"] = fresh.SessionID

		// The id is compared in lower case, as everywhere else.
		live := testsupport.SignIn(t, srv, a.Email, a.Password)
		if !signOut(strings.ToUpper(live)) {
			t.Error("signing out with the upper-case form of a live session said success:false")
		}
		if acctIsSignedIn(t, srv, live) {
			t.Error("the session still authenticates after signOutUser")
		}

		check := func(name, id string) {
			t.Helper()
			if signOut(id) {
				t.Errorf("%s: signOutUser answered success:true", name)
			}
			if n := sessCount(t, srv, dbURL, "sessions WHERE id = $1 AND expires_at > $2", id, srv.Clock.Now().UnixMilli()); n != 0 {
				t.Errorf("%s: a live session exists after signOutUser", name)
			}
		}
		for name, id := range cases {
			check(name, id)
		}

		// Expired (not yet reaped), then used again.
		expired := testsupport.SignIn(t, srv, a.Email, a.Password)
		srv.Clock.Advance(31 * 24 * time.Hour)
		testsupport.Self(t, srv, expired)
		check("expired", expired)
	})
}

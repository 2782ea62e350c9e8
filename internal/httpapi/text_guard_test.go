package httpapi_test

import (
	"testing"

	"github.com/google/uuid"

	"aimg/internal/testsupport"
)

// Text the databases cannot store (a NUL character; bytes that are not UTF-8)
// is refused at the surface with a 400 naming where it was, on both
// databases alike. Before, PostgreSQL refused it (SQLSTATE 22021) and every
// one of these requests was a 500, many of them for anonymous callers;
// SQLite stored it or answered 404.
func TestTextTheDatabaseCannotStoreIs400(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL, testsupport.WithoutRateLimits)
		acct := testsupport.SignUp(t, srv, "nul@example.com")
		cases := []struct {
			name  string
			req   testsupport.Req
			field string
		}{
			{"anonymous getFile id with NUL", testsupport.Req{Method: "GET", Path: "/api/getFile?id=%00"}, "id"},
			{"anonymous getFile id not UTF-8", testsupport.Req{Method: "GET", Path: "/api/getFile?id=%ff%fe"}, "id"},
			{"anonymous getUser userID not UTF-8", testsupport.Req{Method: "GET", Path: "/api/getUser?userID=%c3%28"}, "userID"},
			{"anonymous getItem imageID with NUL", testsupport.Req{Method: "GET", Path: "/api/getItem?imageID=a%00b", SessionID: uuid.NewString()}, "imageID"},
			{"getMyCreations folderID with NUL", testsupport.Req{Method: "GET", Path: "/api/getMyCreations?folderID=%00", SessionID: acct.SessionID}, "folderID"},
			{"generateImage prompt with NUL", testsupport.Req{Method: "POST", Path: "/api/generateImage", SessionID: acct.SessionID,
				Body: `{"prompt": "a fox\u0000"}`}, "prompt"},
			{"setUserKVP value with NUL", testsupport.Req{Method: "POST", Path: "/api/setUserKVP", SessionID: acct.SessionID,
				Body: `{"key": "k", "value": "v\u0000"}`}, "value"},
			{"ingestLogs nested message with NUL", testsupport.Req{Method: "POST", Path: "/api/ingestLogs", SessionID: acct.SessionID,
				Body: `{"logs": [{"message": "ok"}, {"message": "x\u0000"}]}`}, "logs[1].message"},
			{"admin userID with NUL", testsupport.Req{Method: "POST", Path: "/api/setUserAbuseLevel", AdminKey: testsupport.AdminKey,
				Body: `{"userID": "x\u0000y", "abuseLevel": 1}`}, "userID"},
			{"Idempotency-Key not UTF-8", testsupport.Req{Method: "POST", Path: "/api/generateImage", SessionID: acct.SessionID,
				Body: `{"prompt": "a fox"}`, Header: map[string]string{"Idempotency-Key": "k\xff\xfe"}}, "Idempotency-Key"},
		}
		for _, c := range cases {
			env := srv.Do(t, c.req)
			if env.Status != 400 {
				t.Errorf("%s: status %d, want 400: %s", c.name, env.Status, env.Raw)
				continue
			}
			testsupport.ExpectError(t, env, 400, c.field+": ")
		}
	})
}

package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

// acctLogLines returns the JSON log records whose source is the client.
func acctLogLines(t *testing.T, srv *testsupport.Server) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(srv.LogText()))
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		var m map[string]any
		if json.Unmarshal(sc.Bytes(), &m) == nil && m["source"] == "client" {
			out = append(out, m)
		}
	}
	return out
}

func TestIngestLogs(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := acctServer(t, url)
		a := testsupport.SignUp(t, srv, "alice@example.com")
		ingest := func(session, key, requestID string, body any) *testsupport.Envelope {
			h := map[string]string{}
			if requestID != "" {
				h["X-Request-ID"] = requestID
			}
			return srv.Do(t, testsupport.Req{Method: http.MethodPost, Path: "/api/ingestLogs", SessionID: session, AdminKey: key, Header: h, Body: body})
		}

		env := ingest(a.SessionID, "", "req-from-front-end-1", map[string]any{"logs": []map[string]any{
			{"message": "page loaded", "timestamp": 1767323045000},
			{"message": "API failed", "level": "error", "httpMethod": "POST", "httpPath": "generateImage",
				"httpUrl": "https://x/api/generateImage", "errorName": "TypeError", "errorMessage": "boom", "errorStack": "at x:1", "apiSubscope": "gen"},
		}})
		if got := acctDecode[map[string]any](t, env); got["success"] != true {
			t.Fatalf("ingest: %s", env.Raw)
		}
		lines := acctLogLines(t, srv)
		if len(lines) != 2 {
			t.Fatalf("%d client log lines, want 2", len(lines))
		}
		l0, l1 := lines[0], lines[1]
		if l0["msg"] != "page loaded" || l0["level"] != "INFO" || l0["request_id"] != "req-from-front-end-1" ||
			l0["user"] != a.UserID || l0["service"] != "FrontEnd/Client/AIMG/a2prod" || l0["client_time"] != "2026-01-02T03:04:05Z" {
			t.Fatalf("first line: %v", l0)
		}
		if l1["level"] != "ERROR" || l1["http_method"] != "POST" || l1["error_stack"] != "at x:1" || l1["api_subscope"] != "gen" {
			t.Fatalf("second line: %v", l1)
		}

		// Admin key alone, custom service name.
		testsupport.ExpectOK(t, ingest("", testsupport.AdminKey, "", map[string]any{"serviceName": "BackOffice/Admin UI/a2stage",
			"logs": []map[string]any{{"message": "hi", "level": "warn"}}}))
		lines = acctLogLines(t, srv)
		if last := lines[len(lines)-1]; last["service"] != "BackOffice/Admin UI/a2stage" || last["level"] != "WARN" || last["admin"] != true {
			t.Fatalf("admin line: %v", last)
		}

		// Refused: no credentials, wrong key, bad entries; nothing logged.
		n := len(acctLogLines(t, srv))
		one := map[string]any{"logs": []map[string]any{{"message": "x"}}}
		testsupport.ExpectError(t, ingest("", "", "", one), 401, "not signed in")
		testsupport.ExpectError(t, ingest("", "wrong-admin-key-0123456789", "", one), 401, "not signed in")
		testsupport.ExpectError(t, ingest("bad", "", "", one), 400, "X-Session-ID")
		for _, c := range []struct {
			body any
			want string
		}{
			{map[string]any{}, "logs"},
			{map[string]any{"logs": []any{}}, "logs: at least one entry"},
			{map[string]any{"logs": "x"}, "logs"},
			{map[string]any{"logs": []map[string]any{{"level": "info"}}}, "message"},
			{map[string]any{"logs": []map[string]any{{"message": "  "}}}, "logs[0].message"},
			{map[string]any{"logs": []map[string]any{{"message": "ok"}, {"message": "x", "level": "debug"}}}, "logs[1].level: must be info, warn or error"},
			{map[string]any{"logs": []map[string]any{{"message": "x", "httpMethod": "TRACE"}}}, "logs[0].httpMethod"},
			{map[string]any{"logs": []map[string]any{{"message": "x", "timestamp": "yesterday"}}}, "timestamp"},
			{map[string]any{"logs": []map[string]any{{"message": "x", "timestamp": -5}}}, "logs[0].timestamp"},
			{map[string]any{"logs": []map[string]any{{"message": strings.Repeat("m", 5000)}}}, "logs[0].message"},
			{map[string]any{"serviceName": "NoSlash", "logs": []map[string]any{{"message": "x"}}}, "serviceName"},
			{map[string]any{"serviceName": "Front/<script>", "logs": []map[string]any{{"message": "x"}}}, "serviceName"},
			{map[string]any{"serviceName": "a//b", "logs": []map[string]any{{"message": "x"}}}, "serviceName"},
			{map[string]any{"logs": make([]map[string]any, 101)}, "logs"},
		} {
			testsupport.ExpectError(t, ingest(a.SessionID, "", "", c.body), 400, c.want)
		}
		if got := len(acctLogLines(t, srv)); got != n {
			t.Fatalf("refused requests logged %d client lines", got-n)
		}
	})
}

func TestGetAffiliateAd(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		ads := []config.AffiliateAd{{Text: "one", Link: "https://one.example"}, {Text: "two", Link: "https://two.example"}}
		srv := testsupport.NewServer(t, url, func(c *config.Config) { c.Service.AffiliateAds = ads })
		seen := map[string]bool{}
		for range 40 {
			got := acctDecode[map[string]string](t, srv.Get(t, "/api/getAffiliateAd", ""))
			if !(got["adText"] == "one" && got["adLink"] == "https://one.example") && !(got["adText"] == "two" && got["adLink"] == "https://two.example") {
				t.Fatalf("ad %v", got)
			}
			seen[got["adText"]] = true
		}
		if len(seen) != 2 {
			t.Fatalf("40 calls showed only %v", seen)
		}
		// A second app on the same database, without ads.
		none := testsupport.NewServer(t, url, func(c *config.Config) { c.Service.AffiliateAds = nil })
		testsupport.ExpectError(t, none.Get(t, "/api/getAffiliateAd", ""), 404, "No affiliate ad")
		testsupport.ExpectError(t, srv.Get(t, "/api/getAffiliateAd", "nope"), 400, "X-Session-ID")
	})
}

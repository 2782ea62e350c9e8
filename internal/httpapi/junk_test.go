package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/payments/boosty/boostyfake"
	"aimg/internal/testsupport"
)

// Every operation of the route table, fed junk in every query parameter and
// body field its OpenAPI document names (wrong types, empty, huge, ids of
// the wrong kind, too many ids), by an anonymous caller and by a signed-in
// user presenting the admin key, answers below 500: bad input is the
// caller's error, never the server's.
func TestNoOperationAnswers500ToJunk(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		// Boosty is set up (a fake and injected cookies): its 503s say that
		// the integration is unavailable, not that the input was bad.
		fake := boostyfake.New(boostyBlog, "junk-token")
		defer fake.Close()
		srv := boostyServer(t, dbURL, fake, testsupport.WithoutRateLimits)
		testsupport.ExpectOK(t, srv.AdminPost(t, "/api/injectBoostyAdminAccountCookies", injectBody("junk-token", srv.Clock.Now().Add(time.Hour))))
		acct := testsupport.SignUp(t, srv, "junk@example.com")
		ops := junkOperations(t, srv)
		many := make([]string, 1001)
		for i := range many {
			many[i] = uuid.NewString()
		}
		queryJunk := []string{"", "x", "-1", "0", "99999999999999999999", "1.5", "true", "null", "root", "p-", "p-" + uuid.NewString(),
			uuid.NewString(), "a,b,,c", strings.Repeat("é", 3000), strings.Join(many, ",")}
		bodyJunk := []any{"x", "", -1, 1e300, true, nil, []any{}, map[string]any{}, []any{"x", 1, nil}, []any{uuid.NewString()},
			"p-" + uuid.NewString(), many, strings.Repeat("a", 100000)}
		skip := map[string]bool{"deleteUser": true, "signOutUser": true} // would end the caller's session mid-test
		client := &http.Client{}
		var failures []string
		statuses := map[int]int{}
		for _, op := range ops {
			if skip[op.name] {
				continue
			}
			var reqs []*http.Request
			for i := range max(len(queryJunk), len(bodyJunk)) {
				q := url.Values{}
				for _, p := range op.query {
					q.Set(p, queryJunk[(i+len(p))%len(queryJunk)])
				}
				var body io.Reader
				if op.method != http.MethodGet && op.method != http.MethodDelete {
					fields := map[string]any{}
					for _, f := range op.body {
						fields[f] = bodyJunk[(i+len(f))%len(bodyJunk)]
					}
					b, _ := json.Marshal(fields)
					body = bytes.NewReader(b)
				}
				req, _ := http.NewRequest(op.method, srv.URL+"/api/"+op.name+"?"+q.Encode(), body)
				req.Header.Set("Content-Type", "application/json")
				reqs = append(reqs, req)
			}
			for i, req := range reqs {
				for _, who := range []string{"anonymous", "signed-in with the admin key"} {
					r := req.Clone(req.Context())
					if req.GetBody != nil {
						r.Body, _ = req.GetBody()
					}
					if who != "anonymous" {
						r.Header.Set("X-Session-ID", acct.SessionID)
						r.Header.Set("X-Administration-Key", testsupport.AdminKey)
					}
					resp, err := client.Do(r)
					if err != nil {
						t.Fatal(err)
					}
					raw, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
					resp.Body.Close()
					statuses[resp.StatusCode]++
					if resp.StatusCode >= 500 {
						failures = append(failures, fmt.Sprintf("%s %s (variant %d, %s): %d %s", op.method, op.name, i, who, resp.StatusCode, raw))
					}
				}
			}
		}
		for _, f := range failures {
			t.Error(f)
		}
		t.Logf("answers by status: %v", statuses)
		if statuses[http.StatusOK] == 0 || statuses[http.StatusBadRequest] == 0 {
			t.Fatalf("the junk never got past the surface: %v", statuses)
		}
		if len(ops) < 76 {
			t.Fatalf("only %d operations in the OpenAPI document", len(ops))
		}
	})
}

type junkOperation struct {
	method, name string
	query, body  []string
}

// junkOperations reads each operation's query parameters and JSON body
// fields from the served OpenAPI document.
func junkOperations(t *testing.T, srv *testsupport.Server) []junkOperation {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type schema struct {
		Ref        string                     `json:"$ref"`
		Properties map[string]json.RawMessage `json:"properties"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema schema `json:"schema"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]schema `json:"schemas"`
		} `json:"components"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var ops []junkOperation
	for path, methods := range doc.Paths {
		name, ok := strings.CutPrefix(path, "/api/")
		if !ok {
			continue
		}
		for method, op := range methods {
			o := junkOperation{method: strings.ToUpper(method), name: name}
			for _, p := range op.Parameters {
				if p.In == "query" {
					o.query = append(o.query, p.Name)
				}
			}
			if c, ok := op.RequestBody.Content["application/json"]; ok {
				s := c.Schema
				if s.Ref != "" {
					s = doc.Components.Schemas[strings.TrimPrefix(s.Ref, "#/components/schemas/")]
				}
				for f := range s.Properties {
					if f != "$schema" {
						o.body = append(o.body, f)
					}
				}
				sort.Strings(o.body)
			}
			ops = append(ops, o)
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].name < ops[j].name })
	return ops
}

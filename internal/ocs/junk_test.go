package ocs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/ocs"
	"aimg/internal/testsupport"
	"aimg/internal/translate/libretranslatefake"
)

// Every route of the OCS table, under both entry points, fed hostile
// input (wrong types in JSON and in forms, deep brackets, huge, negative
// and non-numeric ids, invalid UTF-8, oversized bodies, wrong methods,
// unknown formats, broken credentials) by guests and by a signed-in user,
// answers below 500 and always in a form a Nextcloud client can read: an
// OCS envelope (JSON or XML, whichever was asked), the 412 CSRF body, or
// the raw bytes of a file.
func TestNoOCSRouteAnswers5xxToJunk(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		lt := httptest.NewServer(libretranslatefake.New())
		defer lt.Close()
		srv := newOCSServer(t, dbURL, testsupport.WithoutRateLimits, func(c *config.Config) {
			c.TranslationURL = "libretranslate+" + lt.URL
			// Junk that happens to be a valid schedule renders; one image
			// each keeps the renderer from competing with the sweep.
			c.Service.OCS.DefaultImages, c.Service.OCS.MaxImages = 1, 1
		})
		alice := testsupport.SignUp(t, srv, "junk@example.com")
		appPassword := newAppPassword(t, srv, alice.SessionID)
		ids := seedTasks(t, srv, alice.SessionID)

		type caller struct {
			name    string
			headers map[string]string
		}
		basic := func(login, secret string) string {
			return "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+secret))
		}
		callers := []caller{
			{"guest", map[string]string{"OCS-APIRequest": "true"}},
			{"guest with a new session", map[string]string{"OCS-APIRequest": "true", "X-Session-ID": uuid.NewString()}},
			{"alice with an app password", map[string]string{"OCS-APIRequest": "true", "Authorization": basic(alice.Email, appPassword)}},
			{"alice with her session", map[string]string{"OCS-APIRequest": "true", "X-Session-ID": alice.SessionID}},
		}
		// Broken credentials and headers, sent with some of the variants.
		brokenCallers := []caller{
			{"no OCS-APIRequest", map[string]string{}},
			{"OCS-APIRequest false", map[string]string{"OCS-APIRequest": "false"}},
			{"a Bearer token", map[string]string{"Authorization": "Bearer junk"}},
			{"Basic that is not base64", map[string]string{"OCS-APIRequest": "true", "Authorization": "Basic !!!"}},
			{"Basic without a colon", map[string]string{"OCS-APIRequest": "true", "Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("junk"))}},
			{"Basic with a wrong password", map[string]string{"OCS-APIRequest": "true", "Authorization": basic(alice.Email, "Wrong-passw0rd!")}},
			{"Basic with invalid UTF-8", map[string]string{"OCS-APIRequest": "true", "Authorization": basic("\xff\xfe@example.com", "\xff")}},
			{"a session id that is no UUID", map[string]string{"OCS-APIRequest": "true", "X-Session-ID": "../../etc"}},
			{"an unknown Authorization scheme", map[string]string{"OCS-APIRequest": "true", "Authorization": "Digest username=x"}},
		}

		client := &http.Client{}
		var failures []string
		kinds := map[string]int{}
		statuses := map[int]int{}
		send := func(what string, req *http.Request, headers map[string]string) {
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
			resp.Body.Close()
			statuses[resp.StatusCode]++
			kind, problem := readableOCSReply(req, resp, body)
			kinds[kind]++
			if problem != "" {
				failures = append(failures, fmt.Sprintf("%s: %s: HTTP %d %.300q", what, problem, resp.StatusCode, body))
			}
		}

		routes := ocs.RouteTable()
		if len(routes) < 23 {
			t.Fatalf("only %d routes in the table", len(routes))
		}
		variants := junkVariants()
		for _, rt := range routes {
			for _, prefix := range ocs.Prefixes {
				for i, v := range variants {
					path := prefix + fillPath(rt.Path, ids, i) + v.query
					methods := []string{rt.Method}
					if i%4 == 0 {
						methods = append(methods, wrongMethod(rt.Method, i))
					}
					for _, method := range methods {
						who := callers[i%len(callers)]
						if i%5 == 0 {
							who = brokenCallers[(i/5)%len(brokenCallers)]
						}
						what := fmt.Sprintf("%s %s (%s, %s)", method, path, v.name, who.name)
						if len(what) > 300 {
							what = what[:300] + "..."
						}
						req, err := http.NewRequest(method, srv.URL+path, bytes.NewReader(v.body))
						if err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						if v.contentType != "" {
							req.Header.Set("Content-Type", v.contentType)
						}
						req.Header.Set("Accept", v.accept)
						send(what, req, who.headers)
						// On user-only routes the signed-in user sees every
						// variant too, so that they get past the 401.
						if rt.NeedsUser && i%len(callers) != 2 && i%len(callers) != 3 {
							req, _ := http.NewRequest(method, srv.URL+path, bytes.NewReader(v.body))
							if v.contentType != "" {
								req.Header.Set("Content-Type", v.contentType)
							}
							req.Header.Set("Accept", v.accept)
							send(what+" as alice", req, callers[2].headers)
						}
					}
				}
			}
		}
		sort.Strings(failures)
		for i, f := range failures {
			if i == 40 {
				t.Errorf("... and %d more", len(failures)-i)
				break
			}
			t.Error(f)
		}
		t.Logf("answers by status: %v; by kind: %v", statuses, kinds)
		// The sweep reached the handlers: successes, refusals of the input,
		// the CSRF check, raw images, both encodings.
		for _, k := range []string{"json", "xml", "csrf", "file"} {
			if kinds[k] == 0 {
				t.Errorf("no %s answer in the sweep: %v", k, kinds)
			}
		}
		for _, s := range []int{200, 400, 401, 404, 412, 413} {
			if statuses[s] == 0 {
				t.Errorf("no HTTP %d in the sweep: %v", s, statuses)
			}
		}
	})
}

// newAppPassword creates an app password through the AIMG API.
func newAppPassword(t *testing.T, srv *testsupport.Server, session string) string {
	t.Helper()
	env := srv.Post(t, "/api/createAppPassword", session, map[string]any{"name": "junk sweep"})
	testsupport.ExpectOK(t, env)
	var p struct {
		Password string `json:"password"`
	}
	env.Decode(t, &p)
	if len(p.Password) != 72 {
		t.Fatalf("app password %q", p.Password)
	}
	return p.Password
}

// seedTasks schedules one task of each API for the user and waits for the
// image, so that ids the sweep uses exist and the image route has bytes.
func seedTasks(t *testing.T, srv *testsupport.Server, session string) []string {
	t.Helper()
	c := sessionClient(t, srv, session)
	var t2i struct {
		Task struct {
			ID int64 `json:"id"`
		} `json:"task"`
	}
	c.json("POST", "/ocs/v2.php/text2image/schedule", map[string]any{"input": "a cat", "appId": "junk", "numberOfImages": 1}).data(t, &t2i)
	var tp struct {
		Task struct {
			ID int64 `json:"id"`
		} `json:"task"`
	}
	c.json("POST", "/ocs/v2.php/textprocessing/schedule", map[string]any{"input": "A text. Another sentence here.", "type": "OCP\\TextProcessing\\SummaryTaskType", "appId": "junk"}).data(t, &tp)
	var tk struct {
		Task struct {
			ID int64 `json:"id"`
		} `json:"task"`
	}
	c.json("POST", "/ocs/v2.php/taskprocessing/schedule", map[string]any{"input": map[string]any{"input": "a dog", "numberOfImages": 1}, "type": "core:text2image", "appId": "junk"}).data(t, &tk)
	if t2i.Task.ID <= 0 || tp.Task.ID <= 0 || tk.Task.ID <= 0 {
		t.Fatalf("seeding: %d %d %d", t2i.Task.ID, tp.Task.ID, tk.Task.ID)
	}
	eventually(t, "the seeded image", func() bool {
		return c.get(fmt.Sprintf("/ocs/v2.php/text2image/task/%d/image/0", t2i.Task.ID)).Status == 200
	})
	return []string{fmt.Sprint(t2i.Task.ID), fmt.Sprint(tp.Task.ID), fmt.Sprint(tk.Task.ID)}
}

// junkPathValues replace the route wildcards; the real ids come first.
var junkPathValues = []string{"0", "-1", "1", "9223372036854775807", "-9223372036854775808", "99999999999999999999",
	"abc", "1.5", "1e3", "0x10", "%20", "%20-1%20", "%ff%fe", "%00", "%E2%80%AE1", "..%2F..%2Fetc", strings.Repeat("9", 3000),
	strings.Repeat("%C3%A9", 600)}

func fillPath(pattern string, ids []string, i int) string {
	values := append(append([]string{}, ids...), junkPathValues...)
	n := 0
	var b strings.Builder
	for {
		start := strings.IndexByte(pattern, '{')
		if start < 0 {
			b.WriteString(pattern)
			return b.String()
		}
		end := strings.IndexByte(pattern, '}')
		b.WriteString(pattern[:start])
		name := pattern[start+1 : end]
		v := values[(i+n*7)%len(values)]
		switch name {
		case "index", "fileId":
			if i%3 == 0 {
				v = "0"
			}
		case "appId":
			if i%3 == 0 {
				v = "junk"
			}
		}
		b.WriteString(v)
		n++
		pattern = pattern[end+1:]
	}
}

func wrongMethod(method string, i int) string {
	others := []string{"PUT", "PATCH", "OPTIONS", "HEAD", "GET", "POST", "DELETE"}
	for k := range others {
		if m := others[(i/4+k)%len(others)]; m != method {
			return m
		}
	}
	return "PUT"
}

type junkVariant struct {
	name, query, contentType, accept string
	body                             []byte
}

// fields are the parameters the OCS routes read, by name.
var junkFields = []string{"input", "appId", "identifier", "numberOfImages", "type", "customId", "webhookUri",
	"webhookMethod", "text", "fromLanguage", "toLanguage", "taskType", "format"}

func junkVariants() []junkVariant {
	jsonValues := []any{"x", "", -1, 1e300, true, nil, []any{}, map[string]any{}, []any{"x", 1, nil},
		map[string]any{"input": "x", "numberOfImages": "2", "origin_language": []any{}, "target_language": 5},
		"99999999999999999999", strings.Repeat("a", 70000), "http://127.0.0.1:1/hook", "HTTP:TRACE", "core:text2text", "json"}
	var out []junkVariant
	accepts := []string{"application/json", "", "application/xml", "text/html", "application/json; q=1, application/xml", "*/*"}
	add := func(name, query, ct string, body []byte) {
		out = append(out, junkVariant{name: name, query: query, contentType: ct, accept: accepts[len(out)%len(accepts)], body: body})
	}
	// JSON with every field of one junk value, then mixed.
	for k, v := range jsonValues {
		fields := map[string]any{}
		for _, f := range junkFields {
			if f == "format" && k%2 == 0 {
				continue
			}
			fields[f] = v
		}
		b, _ := json.Marshal(fields)
		add(fmt.Sprintf("JSON fields = %.20v", v), "", "application/json", b)
	}
	mixed := map[string]any{}
	for k, f := range junkFields {
		mixed[f] = jsonValues[k%len(jsonValues)]
	}
	b, _ := json.Marshal(mixed)
	add("JSON mixed types", "", "application/json", b)
	// JSON that is not an object, malformed, deep, invalid UTF-8.
	for name, raw := range map[string]string{
		"JSON list":          `[1,2,3]`,
		"JSON string":        `"x"`,
		"JSON null":          `null`,
		"JSON number":        `12345678901234567890123`,
		"JSON cut":           `{"input":`,
		"JSON two values":    `{"input":"a"}{"input":"b"}`,
		"JSON deep lists":    strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		"JSON deep objects":  `{"input":` + strings.Repeat(`{"a":`, 200) + `1` + strings.Repeat(`}`, 200) + `}`,
		"JSON invalid UTF-8": "{\"input\":\"\xff\xfe\",\"appId\":\"\xc3\x28\",\"text\":\"\xed\xa0\x80\",\"toLanguage\":\"es\",\"type\":\"core:text2text\",\"identifier\":\"\xff\"}",
		"JSON NUL escapes":   `{"input":"a\u0000b","appId":"\u0000","text":"\u0000","toLanguage":"\u0000","customId":"\ud800"}`,
		"JSON many keys":     manyJSONKeys(3000),
		"JSON duplicate":     `{"input":"a","input":{"input":"b"},"appId":"x","appId":["y"]}`,
		"JSON empty":         ``,
	} {
		add(name, "", "application/json", []byte(raw))
	}
	// Forms with PHP brackets, as NextcloudKit sends them, and broken ones.
	for name, raw := range map[string]string{
		"form NextcloudKit":   "input[input]=a+cat&input[numberOfImages]=2&type=core:text2image&appId=junk&customId=x",
		"form brackets only":  "input[=x&input]=y&[]=z&[=&]=&appId[]=a&appId[][]=b",
		"form deep brackets":  "input" + strings.Repeat("[a]", 500) + "=x&text" + strings.Repeat("[]", 500) + "=y",
		"form list of input":  "input[]=1&input[]=2&numberOfImages[]=3&text[]=t&toLanguage[x]=es",
		"form huge indexes":   "input[9223372036854775807]=a&input[]=b&input[-9223372036854775808]=c&input[99999999999999999999]=d",
		"form invalid UTF-8":  "input=%ff%fe&appId=%c3%28&text=%ed%a0%80&toLanguage=es&fromLanguage=%ff&type=%ff&identifier=%00",
		"form bad escapes":    "input=%&appId=%zz&text=%4&toLanguage=%%%",
		"form many pairs":     manyFormPairs(3000),
		"form format=html":    "format=html&input=x&appId=a",
		"form format list":    "format[]=json&input=x",
		"form numbers":        "numberOfImages=99999999999999999999&input=x&appId=a&text=1&toLanguage=2&fromLanguage=3",
		"form negative count": "numberOfImages=-1&input=x&appId=a",
	} {
		add(name, "", "application/x-www-form-urlencoded", []byte(raw))
	}
	// Query parameters only.
	for name, q := range map[string]string{
		"query format=html":       "?format=html",
		"query format list":       "?format[]=json",
		"query format object":     "?format[a]=xml&identifier[]=x",
		"query filters as arrays": "?taskType[x]=y&customId[]=z&identifier[][]=w&format=json",
		"query deep brackets":     "?a" + strings.Repeat("[", 300) + "=1&format=json",
		"query invalid UTF-8":     "?identifier=%ff%fe&customId=%c3%28&taskType=%ed%a0%80&format=json",
		"query many pairs":        "?" + manyFormPairs(3000),
		"query schedule fields":   "?input=x&appId=a&numberOfImages=1&type=core:text2text&text=hi&toLanguage=es&format=xml",
	} {
		add(name, q, "", nil)
	}
	// Bodies over the limit, and bodies of other types.
	big := bytes.Repeat([]byte("a"), int(ocs.DefaultLimits.MaxBodyBytes)+1024) // just over the limit
	add("JSON over the limit", "", "application/json", append(append([]byte(`{"input":"`), big...), '"', '}'))
	add("form over the limit", "", "application/x-www-form-urlencoded", append([]byte("input="), big...))
	add("octet-stream over the limit", "", "application/octet-stream", big)
	add("multipart", "", "multipart/form-data; boundary=x", []byte("--x\r\nContent-Disposition: form-data; name=\"input\"\r\n\r\nx\r\n--x--\r\n"))
	add("JSON in text/plain", "", "text/plain", []byte(`{"input":"x","appId":"a"}`))
	add("JSON+suffix", "", "application/vnd.api+json; charset=latin1", []byte(`{"input":"x","appId":"a","text":"x","toLanguage":"es"}`))
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	for i := range out { // accepts again, after the sort, so that each is used
		out[i].accept = accepts[i%len(accepts)]
	}
	return out
}

func manyJSONKeys(n int) string {
	m := map[string]int{}
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = i
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func manyFormPairs(n int) string {
	v := url.Values{}
	for i := range n {
		v.Set(fmt.Sprintf("k%d", i), "v")
	}
	return v.Encode()
}

// readableOCSReply tells what kind of answer resp is ("json", "xml",
// "csrf", "file", "head") and what is wrong with it, if anything.
func readableOCSReply(req *http.Request, resp *http.Response, body []byte) (kind, problem string) {
	if resp.StatusCode >= 500 {
		return "5xx", "a server error"
	}
	if resp.StatusCode == http.StatusPreconditionFailed && string(body) == ocs.CSRFFailureBody {
		return "csrf", ""
	}
	ct := resp.Header.Get("Content-Type")
	if resp.StatusCode == http.StatusOK && (strings.HasPrefix(ct, "image/") || resp.Header.Get("Content-Disposition") != "") {
		if len(body) == 0 {
			return "file", "an empty file"
		}
		return "file", ""
	}
	if req.Method == http.MethodHead {
		return "head", ""
	}
	v1 := strings.HasPrefix(req.URL.Path, "/ocs/v1.php/")
	var status string
	var code int
	switch ct {
	case "application/json; charset=utf-8":
		var e struct {
			OCS *struct {
				Meta *struct {
					Status     string `json:"status"`
					StatusCode *int   `json:"statuscode"`
					Message    string `json:"message"`
				} `json:"meta"`
				Data json.RawMessage `json:"data"`
			} `json:"ocs"`
		}
		if err := json.Unmarshal(body, &e); err != nil || e.OCS == nil || e.OCS.Meta == nil || e.OCS.Meta.StatusCode == nil || e.OCS.Data == nil {
			return "json", fmt.Sprintf("not an OCS JSON envelope (%v)", err)
		}
		kind, status, code = "json", e.OCS.Meta.Status, *e.OCS.Meta.StatusCode
	case "application/xml; charset=utf-8":
		var d struct {
			XMLName xml.Name `xml:"ocs"`
			Meta    struct {
				Status     string `xml:"status"`
				StatusCode *int   `xml:"statuscode"`
			} `xml:"meta"`
			Data *struct{} `xml:"data"`
		}
		if err := xml.Unmarshal(body, &d); err != nil || d.Meta.StatusCode == nil || d.Data == nil {
			return "xml", fmt.Sprintf("not an OCS XML document (%v)", err)
		}
		kind, status, code = "xml", d.Meta.Status, *d.Meta.StatusCode
	default:
		return "other", fmt.Sprintf("Content-Type %q", ct)
	}
	ok := resp.StatusCode == http.StatusOK && (code == 100 && v1 || code == 200 && !v1)
	switch {
	case (status == "ok") != ok:
		return kind, fmt.Sprintf("meta.status %q with statuscode %d", status, code)
	case v1 && resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusUnauthorized:
		return kind, "v1 answers HTTP 200 (or 401)"
	case !v1 && code != resp.StatusCode && !(code == 997 && resp.StatusCode == 401) && !(code == 998 && resp.StatusCode == 404):
		return kind, fmt.Sprintf("v2 statuscode %d under HTTP %d", code, resp.StatusCode)
	}
	return kind, ""
}

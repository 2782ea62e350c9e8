package ocs_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"aimg/internal/testsupport"
)

// Replays of the TaskProcessing clients, as their sources send requests:
//   - NextcloudKit (Swift, NextcloudKit+AssistantV2.swift): Alamofire's
//     URLEncoding.default, so a form body with PHP brackets, keys sorted,
//     everything but letters, digits and "-._~/?" percent-encoded (so "[",
//     "]" and ":" too, and a space as %20); getStandardHeaders' Basic auth,
//     User-Agent, Accept: application/json and OCS-APIRequest: true.
//   - android-library (CreateTaskRemoteOperationV2 and friends): a Gson
//     JSON body sent by OkHttp as "application/json; charset=utf-8",
//     OCS-APIRequest: true, no Accept (so the schedule answer is XML);
//     GETs add format=json to the query.
//   - nextcloud/assistant (src/assistant.js): @nextcloud/axios posting JSON
//     {input, type, appId, customId}, Accept "application/json,
//     text/plain, */*" (axios' default), polling task/{id} and cancelling
//     with DELETE task/{id}. In Nextcloud it passes the CSRF check with the
//     page's requesttoken; AIMG has no such token, so the replay carries
//     OCS-APIRequest as a script embedding the Assistant would.

// alamofireForm encodes params as Alamofire's URLEncoding does: sorted
// top-level keys, a nested map as key[nested] (its keys sorted here too;
// the tests use one key per map where order could differ).
func alamofireForm(params map[string]any) string {
	var parts []string
	var add func(key string, v any)
	add = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				add(key+"["+k+"]", x[k])
			}
		default:
			parts = append(parts, alamofireEscape(key)+"="+alamofireEscape(fmt.Sprint(x)))
		}
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		add(k, params[k])
	}
	return strings.Join(parts, "&")
}

// alamofireEscape is String.addingPercentEncoding(withAllowedCharacters:
// .afURLQueryAllowed): RFC 3986 query characters minus ":#[]@!$&'()*+,;=".
func alamofireEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._~/?", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func TestAlamofireForm(t *testing.T) {
	got := alamofireForm(map[string]any{"type": "core:text2image", "appId": "assistant", "customId": "",
		"input": map[string]any{"input": "a cat & a dog"}})
	want := "appId=assistant&customId=&input%5Binput%5D=a%20cat%20%26%20a%20dog&type=core%3Atext2image"
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// nkPost is NextcloudKit's POST with parameters: Alamofire adds its form
// Content-Type because getStandardHeaders sets none.
func (c *client) nkPost(path string, params map[string]any) ocsReply {
	c.t.Helper()
	return c.do("POST", path, "application/x-www-form-urlencoded; charset=utf-8", alamofireForm(params))
}

// androidClient is android-library's NextcloudClient: Basic auth and the
// OCS header; OkHttp sends no Accept.
func androidClient(t *testing.T, srv *testsupport.Server, login, password string) *client {
	return &client{t: t, srv: srv, headers: map[string]string{
		"Authorization":  "Basic " + base64.StdEncoding.EncodeToString([]byte(login+":"+password)),
		"OCS-APIRequest": "true",
		"User-Agent":     "Mozilla/5.0 (Android) Nextcloud-android/3.30.0",
	}}
}

// androidPost is a Gson body through OkHttp's toRequestBody.
func (c *client) androidPost(path string, body any) ocsReply {
	c.t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.do("POST", path, "application/json; charset=utf-8", string(b))
}

// assistantClient is the Assistant's @nextcloud/axios on a page of the
// site, signed in by its session.
func assistantClient(t *testing.T, srv *testsupport.Server, session string) *client {
	return &client{t: t, srv: srv, headers: map[string]string{
		"Accept":           "application/json, text/plain, */*",
		"X-Requested-With": "XMLHttpRequest",
		"OCS-APIRequest":   "true",
		"X-Session-ID":     session,
	}}
}

// appPassword makes an app password through the AIMG API, as a user does
// for a Nextcloud client.
func appPassword(t *testing.T, srv *testsupport.Server, session, name string) string {
	t.Helper()
	env := srv.Post(t, "/api/createAppPassword", session, map[string]any{"name": name})
	testsupport.ExpectOK(t, env)
	var p struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	env.Decode(t, &p)
	if p.ID == "" || p.Name != name || len(p.Password) != 72 {
		t.Fatalf("createAppPassword: %s", env.Raw)
	}
	return p.Password
}

// tkTask is a TaskProcessing task as the clients read it.
type tkTask struct {
	ID                   int64           `json:"id"`
	Type                 string          `json:"type"`
	LastUpdated          int64           `json:"lastUpdated"`
	Status               string          `json:"status"`
	UserID               *string         `json:"userId"`
	AppID                string          `json:"appId"`
	Input                json.RawMessage `json:"input"`
	Output               json.RawMessage `json:"output"`
	CustomID             string          `json:"customId"`
	CompletionExpectedAt *int64          `json:"completionExpectedAt"`
	Progress             *float64        `json:"progress"`
	ScheduledAt          *int64          `json:"scheduledAt"`
	StartedAt            *int64          `json:"startedAt"`
	EndedAt              *int64          `json:"endedAt"`
}

// tkTaskKeys are Task::jsonSerialize's keys, in its order.
var tkTaskKeys = []string{"id", "type", "lastUpdated", "status", "userId", "appId", "input", "output",
	"customId", "completionExpectedAt", "progress", "scheduledAt", "startedAt", "endedAt"}

// objectKeys returns the keys of the JSON object raw, in document order.
func objectKeys(t *testing.T, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object: %s", raw)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
	}
	return keys
}

// taskOf reads data.task of a reply, checking the key order.
func taskOf(t *testing.T, r ocsReply) tkTask {
	t.Helper()
	noServerError(t, r)
	var d struct {
		Task json.RawMessage `json:"task"`
	}
	e := r.data(t, &d)
	if r.Status != 200 || e.OCS.Meta.StatusCode != 200 || e.OCS.Meta.Status != "ok" {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	if keys := objectKeys(t, d.Task); !slices.Equal(keys, tkTaskKeys) {
		t.Fatalf("task keys %v\nwant      %v", keys, tkTaskKeys)
	}
	var task tkTask
	if err := json.Unmarshal(d.Task, &task); err != nil {
		t.Fatalf("task %s: %v", d.Task, err)
	}
	return task
}

// tasksOf reads data.tasks of a reply.
func tasksOf(t *testing.T, r ocsReply) []tkTask {
	t.Helper()
	noServerError(t, r)
	var d struct {
		Tasks []json.RawMessage `json:"tasks"`
	}
	r.data(t, &d)
	if r.Status != 200 || d.Tasks == nil {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	out := make([]tkTask, len(d.Tasks))
	for i, raw := range d.Tasks {
		if keys := objectKeys(t, raw); !slices.Equal(keys, tkTaskKeys) {
			t.Fatalf("task keys %v", keys)
		}
		if err := json.Unmarshal(raw, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// noServerError fails on any 5xx: provider trouble must become failed
// tasks or documented errors.
func noServerError(t *testing.T, r ocsReply) {
	t.Helper()
	if r.Status >= 500 {
		t.Fatalf("HTTP %d from the OCS surface: %s", r.Status, r.Body)
	}
}

// messageOf reads data.message of an error reply.
func messageOf(t *testing.T, r ocsReply) string {
	t.Helper()
	var d struct {
		Message string `json:"message"`
	}
	r.data(t, &d)
	return d.Message
}

// pollTask polls taskprocessing/task/{id} as the Assistant does until the
// task leaves STATUS_SCHEDULED and STATUS_RUNNING.
func pollTask(t *testing.T, c *client, id int64) tkTask {
	t.Helper()
	var task tkTask
	eventually(t, fmt.Sprintf("task %d ending", id), func() bool {
		task = taskOf(t, c.get(fmt.Sprintf("/ocs/v2.php/taskprocessing/task/%d", id)))
		return task.Status != "STATUS_SCHEDULED" && task.Status != "STATUS_RUNNING"
	})
	return task
}

// textOutput is a text task's output.output.
func textOutput(t *testing.T, task tkTask) string {
	t.Helper()
	var out struct {
		Output *string `json:"output"`
	}
	if err := json.Unmarshal(task.Output, &out); err != nil || out.Output == nil {
		t.Fatalf("task %d output %s", task.ID, task.Output)
	}
	return *out.Output
}

// query escapes a query value.
func query(s string) string { return url.QueryEscape(s) }

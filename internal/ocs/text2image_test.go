package ocs_test

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/ocs"
	"aimg/internal/testsupport"
)

// newOCSServer starts a test server whose embedded worker renders, so
// that text-to-image tasks complete.
func newOCSServer(t *testing.T, url string, edits ...func(*config.Config)) *testsupport.Server {
	t.Helper()
	srv := testsupport.NewServer(t, url, append([]func(*config.Config){func(c *config.Config) {
		c.Service.OCS.PollInterval = 20e6 // 20 ms: the follower and the runners look often
		c.EmbeddedWorker = true           // NewServer starts the background work, the renderer too
	}}, edits...)...)
	return srv
}

// sessionClient is a client that authenticates with X-Session-ID, as the
// AIMG web site would, speaking JSON.
func sessionClient(t *testing.T, srv *testsupport.Server, session string) *client {
	c := &client{t: t, srv: srv, headers: map[string]string{"OCS-APIRequest": "true", "Accept": "application/json"}}
	if session != "" {
		c.headers["X-Session-ID"] = session
	}
	return c
}

type t2iTask struct {
	ID                   int64   `json:"id"`
	Status               int     `json:"status"`
	UserID               *string `json:"userId"`
	AppID                string  `json:"appId"`
	Input                string  `json:"input"`
	Identifier           *string `json:"identifier"`
	NumberOfImages       int     `json:"numberOfImages"`
	CompletionExpectedAt *int64  `json:"completionExpectedAt"`
}

func TestText2ImageScheduleAndFetch(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := newOCSServer(t, dbURL)
		alice := testsupport.SignUp(t, srv, "alice@example.com")
		c := sessionClient(t, srv, alice.SessionID)

		var avail struct {
			IsAvailable bool `json:"isAvailable"`
		}
		c.get("/ocs/v2.php/text2image/is_available").data(t, &avail)
		if !avail.IsAvailable {
			t.Fatal("text2image is not available")
		}

		r := c.json("POST", "/ocs/v2.php/text2image/schedule", map[string]any{
			"input": "a lighthouse at dusk", "appId": "assistant", "identifier": "my-id", "numberOfImages": 2})
		var sched struct {
			Task t2iTask `json:"task"`
		}
		e := r.data(t, &sched)
		if r.Status != 200 || e.OCS.Meta.StatusCode != 200 || e.OCS.Meta.Status != "ok" {
			t.Fatalf("schedule: %d %s", r.Status, r.Body)
		}
		task := sched.Task
		if task.ID <= 0 || task.Status != 1 || task.Input != "a lighthouse at dusk" || task.AppID != "assistant" ||
			task.NumberOfImages != 2 || task.Identifier == nil || *task.Identifier != "my-id" ||
			task.UserID == nil || *task.UserID != alice.UserID || task.CompletionExpectedAt == nil ||
			*task.CompletionExpectedAt < srv.Clock.Now().Unix() {
			t.Fatalf("scheduled task %s", r.Body)
		}

		path := fmt.Sprintf("/ocs/v2.php/text2image/task/%d", task.ID)
		eventually(t, "the task succeeding", func() bool {
			var got struct {
				Task t2iTask `json:"task"`
			}
			c.get(path).data(t, &got)
			if got.Task.Status == 4 {
				t.Fatalf("task failed: %+v", got.Task)
			}
			return got.Task.Status == 3
		})
		for i := range 2 {
			img := c.get(fmt.Sprintf("%s/image/%d", path, i))
			if img.Status != 200 || !strings.HasPrefix(img.Header.Get("Content-Type"), "image/") || len(img.Body) < 100 {
				t.Fatalf("image %d: %d %s (%d bytes)", i, img.Status, img.Header.Get("Content-Type"), len(img.Body))
			}
			if !isImage(img.Body) {
				t.Fatalf("image %d is not PNG, JPEG or WebP: % x", i, img.Body[:16])
			}
		}
		// The seed's verb is POST; out of range is "Image not found".
		if r := c.do("POST", path+"/image/0", "", ""); r.Status != 200 || !isImage(r.Body) {
			t.Fatalf("POST image: %d", r.Status)
		}
		r = c.get(path + "/image/2")
		var msg struct {
			Message string `json:"message"`
		}
		if r.data(t, &msg); r.Status != 404 || msg.Message != "Image not found" {
			t.Fatalf("image 2: %d %s", r.Status, r.Body)
		}

		// Listing by app, with and without the identifier.
		var list struct {
			Tasks []t2iTask `json:"tasks"`
		}
		c.get("/ocs/v2.php/text2image/tasks/app/assistant").data(t, &list)
		if len(list.Tasks) != 1 || list.Tasks[0].ID != task.ID || list.Tasks[0].Status != 3 {
			t.Fatalf("tasks by app: %+v", list)
		}
		c.get("/ocs/v2.php/text2image/tasks/app/assistant?identifier=other").data(t, &list)
		if len(list.Tasks) != 0 {
			t.Fatalf("tasks by app and another identifier: %+v", list)
		}

		// Another user sees nothing of it.
		bob := sessionClient(t, srv, testsupport.SignUp(t, srv, "bob@example.com").SessionID)
		for _, p := range []string{path, path + "/image/0"} {
			if r := bob.get(p); r.Status != 404 {
				t.Fatalf("bob GET %s: %d %s", p, r.Status, r.Body)
			}
		}
		if r := bob.do("DELETE", path, "", ""); r.Status != 404 {
			t.Fatalf("bob DELETE: %d %s", r.Status, r.Body)
		}
		bob.get("/ocs/v2.php/text2image/tasks/app/assistant").data(t, &list)
		if len(list.Tasks) != 0 {
			t.Fatalf("bob's tasks by app: %+v", list)
		}

		// Deleting it: the answer is the task; then it is gone.
		var del struct {
			Task t2iTask `json:"task"`
		}
		if r := c.do("DELETE", path, "", ""); r.Status != 200 {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		} else if r.data(t, &del); del.Task.ID != task.ID {
			t.Fatalf("delete answered %s", r.Body)
		}
		if r := c.get(path); r.Status != 404 {
			t.Fatalf("after delete: %d %s", r.Status, r.Body)
		}
	})
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG")) || bytes.HasPrefix(b, []byte("\xff\xd8\xff")) ||
		(len(b) > 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WEBP")
}

func TestCSRFAndFormats(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	c := sessionClient(t, srv, "")
	// Without OCS-APIRequest: Nextcloud's plain 412.
	r := c.without("OCS-APIRequest").get("/ocs/v2.php/text2image/is_available")
	if r.Status != 412 || string(r.Body) != ocs.CSRFFailureBody {
		t.Fatalf("no OCS-APIRequest: %d %s", r.Status, r.Body)
	}
	if r := c.with("OCS-APIRequest", "True").get("/ocs/v2.php/text2image/is_available"); r.Status != 412 {
		t.Fatalf("OCS-APIRequest True: %d", r.Status)
	}

	// XML by default, parsed.
	r = c.without("Accept").get("/ocs/v2.php/text2image/is_available")
	var doc struct {
		XMLName xml.Name `xml:"ocs"`
		Meta    struct {
			Status     string `xml:"status"`
			StatusCode int    `xml:"statuscode"`
		} `xml:"meta"`
		Data struct {
			IsAvailable string `xml:"isAvailable"`
		} `xml:"data"`
	}
	if err := xml.Unmarshal(r.Body, &doc); err != nil || r.Header.Get("Content-Type") != "application/xml; charset=utf-8" {
		t.Fatalf("XML: %v %s\n%s", err, r.Header.Get("Content-Type"), r.Body)
	}
	if doc.Meta.Status != "ok" || doc.Meta.StatusCode != 200 || doc.Data.IsAvailable != "1" {
		t.Fatalf("XML document %+v", doc)
	}
	// format=json in the query wins over Accept.
	if r := c.with("Accept", "application/xml").get("/ocs/v2.php/text2image/is_available?format=json"); !strings.HasPrefix(string(r.Body), `{"ocs":`) {
		t.Fatalf("format=json: %s", r.Body)
	}

	// v1: HTTP 200 and statuscode 100 on success; a miss is 200 with 404.
	r = c.get("/ocs/v1.php/text2image/is_available")
	if e := r.envelope(t); r.Status != 200 || e.OCS.Meta.StatusCode != 100 || e.OCS.Meta.ItemsPerPage != "" {
		t.Fatalf("v1: %d %s", r.Status, r.Body)
	}
	r = c.get("/ocs/v1.php/text2image/task/12345")
	if e := r.envelope(t); r.Status != 200 || e.OCS.Meta.StatusCode != 404 || e.OCS.Meta.Status != "failure" {
		t.Fatalf("v1 miss: %d %s", r.Status, r.Body)
	}
	r = c.get("/ocs/v2.php/text2image/task/12345")
	if e := r.envelope(t); r.Status != 404 || e.OCS.Meta.StatusCode != 404 || !strings.Contains(string(e.OCS.Data), "Task not found") {
		t.Fatalf("v2 miss: %d %s", r.Status, r.Body)
	}
	// An unknown OCS path is 998 (HTTP 404 in v2).
	if r := c.get("/ocs/v2.php/nope"); r.Status != 404 || r.envelope(t).OCS.Meta.StatusCode != 998 {
		t.Fatalf("unknown route: %d %s", r.Status, r.Body)
	}
	// A route that needs a user: 401 with 997.
	r = c.get("/ocs/v2.php/text2image/tasks/app/x")
	if e := r.envelope(t); r.Status != 401 || e.OCS.Meta.StatusCode != 997 || e.OCS.Meta.Message != "Current user is not logged in" {
		t.Fatalf("not logged in: %d %s", r.Status, r.Body)
	}
	// A malformed session id is a 400 naming it; wrong Basic credentials 401.
	if r := c.with("X-Session-ID", "nope").get("/ocs/v2.php/text2image/is_available"); r.Status != 400 || !strings.Contains(string(r.Body), "X-Session-ID") {
		t.Fatalf("bad session id: %d %s", r.Status, r.Body)
	}
	if r := nextcloudKit(t, srv, "nobody@example.com", "wrong").get("/ocs/v2.php/text2image/is_available"); r.Status != 401 || r.envelope(t).OCS.Meta.StatusCode != 997 {
		t.Fatalf("wrong Basic: %d %s", r.Status, r.Body)
	}
}

func TestGuestTasksBelongToTheirSession(t *testing.T) {
	srv := newOCSServer(t, "")
	guest := sessionClient(t, srv, "")
	r := guest.form("POST", "/ocs/v2.php/text2image/schedule", url.Values{"input": {"a red fox"}, "appId": {"web"}, "numberOfImages": {"1"}})
	var sched struct {
		Task t2iTask `json:"task"`
	}
	r.data(t, &sched)
	session := r.Header.Get("X-Session-ID")
	if r.Status != 200 || session == "" || sched.Task.UserID != nil {
		t.Fatalf("guest schedule: %d session %q %s", r.Status, session, r.Body)
	}
	path := fmt.Sprintf("/ocs/v2.php/text2image/task/%d", sched.Task.ID)
	if r := sessionClient(t, srv, session).get(path); r.Status != 200 {
		t.Fatalf("guest reads back: %d %s", r.Status, r.Body)
	}
	for _, other := range []*client{sessionClient(t, srv, ""), sessionClient(t, srv, uuid.NewString())} {
		if r := other.get(path); r.Status != 404 {
			t.Fatalf("another guest reads it: %d %s", r.Status, r.Body)
		}
	}
}

func TestScheduleLimits(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	guest := sessionClient(t, srv, uuid.NewString())
	bad := []struct {
		body  url.Values
		field string
	}{
		{url.Values{"appId": {"a"}}, "input"},
		{url.Values{"input": {"x"}}, "appId"},
		{url.Values{"input": {"x"}, "appId": {"a"}, "numberOfImages": {"9"}}, "numberOfImages"},
		{url.Values{"input": {"x"}, "appId": {"a"}, "numberOfImages": {"two"}}, "numberOfImages"},
		{url.Values{"input": {"x"}, "appId": {strings.Repeat("a", 256)}}, "appId"},
	}
	for _, b := range bad {
		r := guest.form("POST", "/ocs/v2.php/text2image/schedule", b.body)
		if r.Status != http.StatusBadRequest || !strings.Contains(string(r.Body), b.field) {
			t.Fatalf("%v: %d %s", b.body, r.Status, r.Body)
		}
	}
	// Guests may schedule 5 per 2 minutes (the bad ones above spent 5).
	r := guest.form("POST", "/ocs/v2.php/text2image/schedule", url.Values{"input": {"x"}, "appId": {"a"}, "numberOfImages": {"1"}})
	if r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("sixth guest schedule: %d %s", r.Status, r.Body)
	}
}

func TestDefaultNumberOfImagesFollowsTheTier(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	c := sessionClient(t, srv, testsupport.SignUp(t, srv, "carol@example.com").SessionID)
	allowed := srv.App.Config.Service.Models[0].ConcurrentFor(0)
	for _, m := range srv.App.Config.Service.Models {
		if m.ModelID == "f222" {
			allowed = m.ConcurrentFor(0)
		}
	}
	if allowed >= 8 {
		t.Skipf("the default Model lets tier 0 have %d at once", allowed)
	}
	// Not given: as many as the tier may have at once, not Nextcloud's 8.
	var sched struct {
		Task t2iTask `json:"task"`
	}
	r := c.json("POST", "/ocs/v2.php/text2image/schedule", map[string]any{"input": "a cat", "appId": "a"})
	if r.data(t, &sched); r.Status != 200 || sched.Task.NumberOfImages != allowed {
		t.Fatalf("default numberOfImages: %d %s; want %d", r.Status, r.Body, allowed)
	}
	// Asked for more than the tier allows (the first task's Items still
	// queue): the generation limit's 429 with its message.
	r = c.json("POST", "/ocs/v2.php/text2image/schedule", map[string]any{"input": "a dog", "appId": "a", "numberOfImages": 1})
	if r.Status != http.StatusTooManyRequests || !strings.Contains(string(r.Body), "at once") {
		t.Fatalf("over the limit: %d %s", r.Status, r.Body)
	}
}

package ocs_test

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"slices"
	"strings"
	"testing"

	"aimg/internal/testsupport"
)

// End-to-end replays of the TaskProcessing clients (see tpclients_test.go).

const tk = "/ocs/v2.php/taskprocessing"

// basicUser signs up email, names the account username and returns its
// session and a fresh app password.
func basicUser(t *testing.T, srv *testsupport.Server, email, username string) (testsupport.Account, string) {
	t.Helper()
	a := testsupport.SignUp(t, srv, email)
	testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProperties", a.SessionID, map[string]any{"username": username}))
	return a, appPassword(t, srv, a.SessionID, "Nextcloud iOS")
}

func TestAppPasswordBasicAuth(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	alice, secret := basicUser(t, srv, "alice@example.com", "alice")
	for _, login := range []string{"alice@example.com", "Alice@Example.com", "alice", "ALICE"} {
		c := nextcloudKit(t, srv, login, secret)
		r := c.nkPost(tk+"/schedule", map[string]any{"input": map[string]any{"input": "Cats sleep a lot. Dogs bark at night. Birds sing in the morning."},
			"type": "core:text2text:summary", "appId": "assistant", "customId": ""})
		task := taskOf(t, r)
		if task.UserID == nil || *task.UserID != alice.UserID {
			t.Fatalf("%s: task of %v, want %s", login, task.UserID, alice.UserID)
		}
		// A loggedIn route answers too (not 401).
		if r := c.get(tk + "/tasks?taskType=core:text2text:summary"); r.Status != 200 {
			t.Fatalf("%s: list %d %s", login, r.Status, r.Body)
		}
	}
	// The account password works as well.
	if r := nextcloudKit(t, srv, "alice@example.com", testsupport.TestPassword).get(tk + "/tasks"); r.Status != 200 {
		t.Fatalf("account password: %d %s", r.Status, r.Body)
	}
	// Wrong secrets: 401 with 997, on public and logged-in routes alike.
	bobSession := testsupport.SignUp(t, srv, "bob@example.com").SessionID
	bobSecret := appPassword(t, srv, bobSession, "bob's phone")
	for _, cred := range [][2]string{{"alice", "wrong"}, {"alice", secret[:71] + "x"}, {"alice@example.com", bobSecret}, {"nobody", secret}} {
		for _, p := range []string{tk + "/tasktypes", tk + "/tasks"} {
			r := nextcloudKit(t, srv, cred[0], cred[1]).get(p)
			e := r.envelope(t)
			if r.Status != 401 || e.OCS.Meta.StatusCode != 997 || r.Header.Get("WWW-Authenticate") == "" {
				t.Fatalf("%s:%s… %s: %d %s", cred[0], cred[1][:4], p, r.Status, r.Body)
			}
		}
	}
}

func TestTaskProcessingTaskTypes(t *testing.T) {
	srv := testsupport.NewServer(t, "") // AIMG_TEXT_URL and AIMG_TRANSLATION_URL unset
	a, secret := basicUser(t, srv, "alice@example.com", "alice")
	_ = a
	r := nextcloudKit(t, srv, "alice", secret).get(tk + "/tasktypes")
	var d struct {
		Types json.RawMessage `json:"types"`
	}
	if e := r.data(t, &d); r.Status != 200 || e.OCS.Meta.StatusCode != 200 {
		t.Fatalf("tasktypes: %d %s", r.Status, r.Body)
	}
	var types map[string]json.RawMessage
	if err := json.Unmarshal(d.Types, &types); err != nil {
		t.Fatalf("types is not an object keyed by id: %s", d.Types)
	}
	for _, id := range []string{"core:text2image", "core:text2text:summary", "core:text2text:headline", "core:text2text:topics"} {
		if types[id] == nil {
			t.Errorf("%s missing: %s", id, d.Types)
		}
	}
	for _, id := range []string{"core:text2text", "core:text2text:translate"} {
		if types[id] != nil {
			t.Errorf("%s offered without its provider", id)
		}
	}
	wantKeys := []string{"name", "description", "inputShape", "inputShapeEnumValues", "inputShapeDefaults",
		"optionalInputShape", "optionalInputShapeEnumValues", "optionalInputShapeDefaults", "outputShape",
		"outputShapeEnumValues", "optionalOutputShape", "optionalOutputShapeEnumValues"}
	type shape struct{ Name, Description, Type string }
	for id, raw := range types {
		if keys := objectKeys(t, raw); !slices.Equal(keys, wantKeys) {
			t.Errorf("%s keys %v", id, keys)
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatal(err)
		}
		for k, v := range fields {
			if strings.Contains(k, "Shape") && !strings.HasPrefix(string(v), "{") {
				t.Errorf("%s.%s = %s, want an object", id, k, v)
			}
		}
		var tt struct {
			Name        string           `json:"name"`
			InputShape  map[string]shape `json:"inputShape"`
			OutputShape map[string]shape `json:"outputShape"`
		}
		if err := json.Unmarshal(raw, &tt); err != nil {
			t.Fatal(err)
		}
		if tt.Name == "" {
			t.Errorf("%s has no name", id)
		}
		// NextcloudKit's textProcessingGetTypesV2 keeps the types with a
		// Text input and a Text output: the text ones must pass.
		if strings.HasPrefix(id, "core:text2text") && (tt.InputShape["input"].Type != "Text" || tt.OutputShape["output"].Type != "Text") {
			t.Errorf("%s shapes %+v -> %+v", id, tt.InputShape, tt.OutputShape)
		}
	}
	var t2i struct {
		InputShape  map[string]shape `json:"inputShape"`
		OutputShape map[string]shape `json:"outputShape"`
	}
	if err := json.Unmarshal(types["core:text2image"], &t2i); err != nil {
		t.Fatal(err)
	}
	if t2i.InputShape["input"].Type != "Text" || t2i.InputShape["numberOfImages"].Type != "Number" || t2i.OutputShape["images"].Type != "ListOfImages" {
		t.Errorf("core:text2image shapes: %s", types["core:text2image"])
	}
}

func TestTaskProcessingText2Image(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := newOCSServer(t, dbURL)
		alice, secret := basicUser(t, srv, "alice@example.com", "alice")
		nk := nextcloudKit(t, srv, "alice@example.com", secret)

		r := nk.nkPost(tk+"/schedule", map[string]any{
			"input": map[string]any{"input": "a lighthouse at dusk", "numberOfImages": 1},
			"type":  "core:text2image", "appId": "assistant", "customId": "nk-1"})
		task := taskOf(t, r)
		now := srv.Clock.Now().Unix()
		if task.ID <= 0 || task.Type != "core:text2image" || task.Status != "STATUS_SCHEDULED" ||
			task.UserID == nil || *task.UserID != alice.UserID || task.AppID != "assistant" || task.CustomID != "nk-1" ||
			string(task.Output) != "null" || task.ScheduledAt == nil || *task.ScheduledAt != now || task.LastUpdated != now ||
			task.EndedAt != nil || task.CompletionExpectedAt == nil || *task.CompletionExpectedAt < now {
			t.Fatalf("scheduled: %s", r.Body)
		}
		var in map[string]any
		if err := json.Unmarshal(task.Input, &in); err != nil || in["input"] != "a lighthouse at dusk" || in["numberOfImages"] != 1.0 {
			t.Fatalf("input %s", task.Input)
		}

		done := pollTask(t, nk, task.ID)
		if done.Status != "STATUS_SUCCESSFUL" || done.EndedAt == nil || done.Progress == nil || *done.Progress != 1 {
			t.Fatalf("ended: %+v output %s", done, done.Output)
		}
		var out struct {
			Images []int64 `json:"images"` // ints: a float or a string fails to decode
		}
		if err := json.Unmarshal(done.Output, &out); err != nil || len(out.Images) != 1 {
			t.Fatalf("output %s: %v", done.Output, err)
		}
		file := fmt.Sprintf("%s/tasks/%d/file/%d", tk, task.ID, out.Images[0])
		img := nk.get(file)
		if img.Status != 200 || !isImage(img.Body) || !strings.HasPrefix(img.Header.Get("Content-Type"), "image/") ||
			!strings.HasPrefix(img.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("file: %d %v", img.Status, img.Header)
		}
		// The file route needs no OCS-APIRequest (#[NoCSRFRequired]).
		if r := nk.without("OCS-APIRequest").get(file); r.Status != 200 || !isImage(r.Body) {
			t.Fatalf("file without OCS-APIRequest: %d", r.Status)
		}

		// A second task, from the Assistant, with the session.
		as := assistantClient(t, srv, alice.SessionID)
		second := taskOf(t, as.json("POST", tk+"/schedule", map[string]any{
			"input": map[string]any{"input": "a red fox", "numberOfImages": 1}, "type": "core:text2image", "appId": "assistant", "customId": "web-2"}))
		second = pollTask(t, as, second.ID)
		var out2 struct {
			Images []int64 `json:"images"`
		}
		if err := json.Unmarshal(second.Output, &out2); second.Status != "STATUS_SUCCESSFUL" || err != nil || len(out2.Images) != 1 {
			t.Fatalf("second: %+v %s", second, second.Output)
		}
		// Only a file of the task's own output is served.
		for _, p := range []string{
			fmt.Sprintf("%s/tasks/%d/file/%d", tk, task.ID, out2.Images[0]),
			fmt.Sprintf("%s/tasks/%d/file/%d", tk, second.ID, out.Images[0]),
			fmt.Sprintf("%s/tasks/%d/file/x", tk, task.ID),
		} {
			if r := nk.get(p); r.Status != 404 || messageOf(t, r) != "Not found" {
				t.Fatalf("%s: %d %s", p, r.Status, r.Body)
			}
		}

		// Listings: by app and customId, by type.
		if ts := tasksOf(t, nk.get(tk+"/tasks/app/assistant?customId=nk-1")); len(ts) != 1 || ts[0].ID != task.ID {
			t.Fatalf("tasks/app with customId: %+v", ts)
		}
		if ts := tasksOf(t, nk.get(tk+"/tasks/app/assistant")); len(ts) != 2 {
			t.Fatalf("tasks/app: %+v", ts)
		}
		if ts := tasksOf(t, nk.get(tk+"/tasks/app/other")); len(ts) != 0 {
			t.Fatalf("tasks/app/other: %+v", ts)
		}
		if ts := tasksOf(t, nk.get(tk+"/tasks?taskType="+query("core:text2image"))); len(ts) != 2 || ts[0].ID != task.ID || ts[1].ID != second.ID {
			t.Fatalf("tasks?taskType: %+v", ts)
		}
		if ts := tasksOf(t, nk.get(tk+"/tasks?taskType=core:text2text:summary")); len(ts) != 0 {
			t.Fatalf("tasks of another type: %+v", ts)
		}

		// Bob sees none of it.
		bobSession := testsupport.SignUp(t, srv, "bob@example.com").SessionID
		bob := nextcloudKit(t, srv, "bob@example.com", appPassword(t, srv, bobSession, "bob"))
		for _, p := range []string{fmt.Sprintf("%s/task/%d", tk, task.ID), file} {
			if r := bob.get(p); r.Status != 404 {
				t.Fatalf("bob GET %s: %d %s", p, r.Status, r.Body)
			}
		}
		if r := bob.do("POST", fmt.Sprintf("%s/tasks/%d/cancel", tk, task.ID), "", ""); r.Status != 404 || messageOf(t, r) != "Task not found" {
			t.Fatalf("bob cancel: %d %s", r.Status, r.Body)
		}
		// DELETE answers null whether or not the task is the caller's, as Nextcloud.
		if r := bob.do("DELETE", fmt.Sprintf("%s/task/%d", tk, task.ID), "", ""); r.Status != 200 || string(r.envelope(t).OCS.Data) != "null" {
			t.Fatalf("bob delete: %d %s", r.Status, r.Body)
		}
		if ts := tasksOf(t, bob.get(tk+"/tasks")); len(ts) != 0 {
			t.Fatalf("bob's tasks: %+v", ts)
		}
		if ts := tasksOf(t, bob.get(tk+"/tasks/app/assistant")); len(ts) != 0 {
			t.Fatalf("bob's tasks by app: %+v", ts)
		}
		if got := taskOf(t, nk.get(fmt.Sprintf("%s/task/%d", tk, task.ID))); got.Status != "STATUS_SUCCESSFUL" {
			t.Fatalf("after bob's delete: %+v", got)
		}

		// Alice deletes it: data null, then 404 everywhere.
		r = nk.do("DELETE", fmt.Sprintf("%s/task/%d", tk, task.ID), "", "")
		if e := r.envelope(t); r.Status != 200 || e.OCS.Meta.StatusCode != 200 || string(e.OCS.Data) != "null" {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		for _, p := range []string{fmt.Sprintf("%s/task/%d", tk, task.ID), file} {
			if r := nk.get(p); r.Status != 404 {
				t.Fatalf("after delete GET %s: %d %s", p, r.Status, r.Body)
			}
		}
		if ts := tasksOf(t, nk.get(tk+"/tasks")); len(ts) != 1 || ts[0].ID != second.ID {
			t.Fatalf("tasks after delete: %+v", ts)
		}
	})
}

// TestTaskProcessingCancelScheduled cancels a task that no worker takes
// (the server runs no background work), as android-library schedules it.
func TestTaskProcessingCancelScheduled(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		_, secret := basicUser(t, srv, "alice@example.com", "alice")
		android := androidClient(t, srv, "alice", secret)

		// No Accept and no format: the answer is XML, which android-library
		// only checks for HTTP 200. (It offers only Text -> Text types.)
		r := android.androidPost(tk+"/schedule", map[string]any{
			"input": map[string]string{"input": "Boats left early. The sea was calm."}, "type": "core:text2text:summary", "appId": "assistant", "customId": ""})
		var doc struct {
			XMLName xml.Name `xml:"ocs"`
			Meta    struct {
				StatusCode int `xml:"statuscode"`
			} `xml:"meta"`
			Data struct {
				Task struct {
					ID     int64  `xml:"id"`
					Type   string `xml:"type"`
					Status string `xml:"status"`
					Input  struct {
						Input string `xml:"input"`
					} `xml:"input"`
				} `xml:"task"`
			} `xml:"data"`
		}
		if err := xml.Unmarshal(r.Body, &doc); err != nil || r.Status != 200 || doc.Meta.StatusCode != 200 || doc.Data.Task.ID <= 0 ||
			doc.Data.Task.Status != "STATUS_SCHEDULED" || doc.Data.Task.Type != "core:text2text:summary" || doc.Data.Task.Input.Input != "Boats left early. The sea was calm." {
			t.Fatalf("android schedule: %d %v\n%s", r.Status, err, r.Body)
		}
		textID := doc.Data.Task.ID

		// GetTaskListRemoteOperationV2: ?taskType=...&format=json.
		ts := tasksOf(t, android.get(tk+"/tasks?taskType=core:text2text:summary&format=json"))
		if len(ts) != 1 || ts[0].ID != textID || ts[0].Status != "STATUS_SCHEDULED" {
			t.Fatalf("android list: %+v", ts)
		}

		// A text-to-image task is cancelled through its Job.
		nk := nextcloudKit(t, srv, "alice", secret)
		imageID := taskOf(t, nk.nkPost(tk+"/schedule", map[string]any{
			"input": map[string]any{"input": "a quiet harbour", "numberOfImages": 1}, "type": "core:text2image", "appId": "assistant", "customId": ""})).ID
		for _, id := range []int64{textID, imageID} {
			cancel := fmt.Sprintf("%s/tasks/%d/cancel", tk, id)
			got := taskOf(t, nk.nkPost(cancel, map[string]any{}))
			if got.ID != id || got.Status != "STATUS_CANCELLED" || got.EndedAt == nil {
				t.Fatalf("cancel: %+v", got)
			}
			if got := taskOf(t, nk.get(fmt.Sprintf("%s/task/%d", tk, id))); got.Status != "STATUS_CANCELLED" {
				t.Fatalf("after cancel: %+v", got)
			}
			// Cancelling an ended task answers it as it is.
			if got := taskOf(t, nk.nkPost(cancel, map[string]any{})); got.Status != "STATUS_CANCELLED" {
				t.Fatalf("second cancel: %+v", got)
			}
		}
		// The legacy APIs show a cancelled task as failed (4).
		var legacy struct {
			Task struct {
				Status int `json:"status"`
			} `json:"task"`
		}
		for _, p := range []string{fmt.Sprintf("/ocs/v2.php/text2image/task/%d", imageID), fmt.Sprintf("/ocs/v2.php/textprocessing/task/%d", textID)} {
			r = nk.get(p)
			if r.data(t, &legacy); r.Status != 200 || legacy.Task.Status != 4 {
				t.Fatalf("legacy view %s: %s", p, r.Body)
			}
		}
		// The Item of the cancelled Job is cancelled too: nothing is left
		// queued, so a new task fits the Model's concurrency.
		taskOf(t, nk.nkPost(tk+"/schedule", map[string]any{
			"input": map[string]any{"input": "a second harbour", "numberOfImages": 2}, "type": "core:text2image", "appId": "assistant", "customId": ""}))
		cancel := fmt.Sprintf("%s/tasks/%d/cancel", tk, imageID)
		// The cancel route needs a user.
		if r := sessionClient(t, srv, "").do("POST", cancel, "", ""); r.Status != 401 || r.envelope(t).OCS.Meta.StatusCode != 997 {
			t.Fatalf("anonymous cancel: %d %s", r.Status, r.Body)
		}
	})
}

// TestAssistantReplay is nextcloud/assistant's syncSubmit: schedule JSON,
// poll task/{id}, read output; and its cancel-task: DELETE, then the poll
// gets 404 ("task-not-found").
func TestAssistantReplay(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := newOCSServer(t, dbURL)
		alice := testsupport.SignUp(t, srv, "alice@example.com")
		as := assistantClient(t, srv, alice.SessionID)
		text := "The harbour was quiet at dawn. Fishing boats returned with their catch before the market opened. " +
			"The market opened at seven and the fish sold quickly. By noon the harbour was quiet again."
		r := as.json("POST", tk+"/schedule", map[string]any{
			"input": map[string]any{"input": text}, "type": "core:text2text:summary", "appId": "assistant", "customId": ""})
		if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
			t.Fatalf("Accept %q answered %s", as.headers["Accept"], ct)
		}
		task := taskOf(t, r)
		if task.CompletionExpectedAt == nil || task.ScheduledAt == nil || *task.CompletionExpectedAt < *task.ScheduledAt {
			t.Fatalf("expected runtime: %s", r.Body)
		}
		done := pollTask(t, as, task.ID)
		summary := textOutput(t, done)
		if done.Status != "STATUS_SUCCESSFUL" || summary == "" || len(summary) >= len(text) {
			t.Fatalf("summary task: %+v %q", done, summary)
		}
		for _, s := range strings.SplitAfter(summary, ". ") {
			if !strings.Contains(text, strings.TrimSpace(s)) {
				t.Fatalf("summary sentence %q is not from the text", s)
			}
		}

		// cancel-task: DELETE answers null; polling then finds nothing.
		task = taskOf(t, as.json("POST", tk+"/schedule", map[string]any{
			"input": map[string]any{"input": text}, "type": "core:text2text:headline", "appId": "assistant", "customId": ""}))
		r = as.do("DELETE", fmt.Sprintf("%s/task/%d", tk, task.ID), "", "")
		if r.Status != 200 || string(r.envelope(t).OCS.Data) != "null" {
			t.Fatalf("delete: %d %s", r.Status, r.Body)
		}
		if r := as.get(fmt.Sprintf("%s/task/%d", tk, task.ID)); r.Status != 404 || messageOf(t, r) != "Task not found" {
			t.Fatalf("poll after delete: %d %s", r.Status, r.Body)
		}
	})
}

package ocs_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/textproc/openaichatfake"
)

// End-to-end replays of NextcloudKit's textprocessing calls
// (NextcloudKit+Assistant.swift "v1": textProcessingGetTypes, Schedule with
// {input, type, appId, identifier}, GetTask, DeleteTask, TaskList), the
// OpenAI-compatible provider's failures as the clients see them, and
// TaskProcessing webhooks.

const tp = "/ocs/v2.php/textprocessing"

// tpTask is OCP\TextProcessing\Task as NKTextProcessingTask reads it.
type tpTask struct {
	ID                   int64   `json:"id"`
	Type                 string  `json:"type"`
	Status               int     `json:"status"`
	UserID               *string `json:"userId"`
	AppID                string  `json:"appId"`
	Input                string  `json:"input"`
	Output               *string `json:"output"`
	Identifier           string  `json:"identifier"`
	CompletionExpectedAt *int64  `json:"completionExpectedAt"`
}

var tpTaskKeys = []string{"id", "type", "status", "userId", "appId", "input", "output", "identifier", "completionExpectedAt"}

func tpTaskOf(t *testing.T, r ocsReply) tpTask {
	t.Helper()
	noServerError(t, r)
	var d struct {
		Task json.RawMessage `json:"task"`
	}
	if e := r.data(t, &d); r.Status != 200 || e.OCS.Meta.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", r.Status, r.Body)
	}
	if keys := objectKeys(t, d.Task); !slices.Equal(keys, tpTaskKeys) {
		t.Fatalf("task keys %v", keys)
	}
	var task tpTask
	if err := json.Unmarshal(d.Task, &task); err != nil {
		t.Fatal(err)
	}
	return task
}

// pollLegacy polls textprocessing/task/{id} until status 3 or 4.
func pollLegacy(t *testing.T, c *client, id int64) tpTask {
	t.Helper()
	var task tpTask
	eventually(t, fmt.Sprintf("legacy task %d ending", id), func() bool {
		task = tpTaskOf(t, c.get(fmt.Sprintf("%s/task/%d", tp, id)))
		return task.Status == 3 || task.Status == 4
	})
	return task
}

const harbourText = "The harbour was quiet at dawn. Fishing boats returned with their catch before the market opened. " +
	"The market opened at seven and the fish sold quickly. Gulls circled over the boats all morning. " +
	"By noon the harbour was quiet again and the fishermen mended their nets."

func TestTextProcessingLegacy(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := newOCSServer(t, dbURL)
		alice, secret := basicUser(t, srv, "alice@example.com", "alice")
		nk := nextcloudKit(t, srv, "alice", secret)

		// tasktypes: the builtin's three, with Nextcloud's ids and names.
		var types struct {
			Types []struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				Description string `json:"description"`
			} `json:"types"`
		}
		if r := nk.get(tp + "/tasktypes"); r.data(t, &types).OCS.Meta.StatusCode != 200 {
			t.Fatalf("tasktypes: %s", r.Body)
		}
		var got []string
		for _, ty := range types.Types {
			got = append(got, ty.ID+"="+ty.Name)
			if ty.Description == "" {
				t.Errorf("%s has no description", ty.ID)
			}
		}
		want := []string{`OCP\TextProcessing\SummaryTaskType=Summarize`, `OCP\TextProcessing\HeadlineTaskType=Generate headline`,
			`OCP\TextProcessing\TopicsTaskType=Extract topics`}
		if !slices.Equal(got, want) {
			t.Fatalf("tasktypes %v\nwant %v", got, want)
		}

		// Schedule a summary as textProcessingSchedule does.
		r := nk.nkPost(tp+"/schedule", map[string]any{"input": harbourText, "type": `OCP\TextProcessing\SummaryTaskType`,
			"appId": "assistant", "identifier": "nk-summary"})
		task := tpTaskOf(t, r)
		if task.Status != 1 || task.Type != `OCP\TextProcessing\SummaryTaskType` || task.Input != harbourText ||
			task.Output != nil || task.Identifier != "nk-summary" || task.UserID == nil || *task.UserID != alice.UserID ||
			task.CompletionExpectedAt == nil {
			t.Fatalf("scheduled: %s", r.Body)
		}
		done := pollLegacy(t, nk, task.ID)
		if done.Status != 3 || done.Output == nil || *done.Output == "" || len(*done.Output) >= len(harbourText) {
			t.Fatalf("summary: %+v", done)
		}
		for _, s := range strings.SplitAfter(*done.Output, ". ") {
			if !strings.Contains(harbourText, strings.TrimSpace(s)) {
				t.Fatalf("summary sentence %q is not from the text", s)
			}
		}
		// The seed's POST task/{id} answers the same.
		if again := tpTaskOf(t, nk.nkPost(fmt.Sprintf("%s/task/%d", tp, task.ID), map[string]any{})); again.ID != done.ID || again.Status != 3 || again.Output == nil || *again.Output != *done.Output {
			t.Fatalf("POST task: %+v", again)
		}

		// No language model: 412; an unknown type: 400.
		r = nk.nkPost(tp+"/schedule", map[string]any{"input": "Write a poem", "type": `OCP\TextProcessing\FreePromptTaskType`, "appId": "assistant", "identifier": ""})
		if r.Status != 412 || messageOf(t, r) != "Necessary language model provider is not available" {
			t.Fatalf("free prompt: %d %s", r.Status, r.Body)
		}
		r = nk.nkPost(tp+"/schedule", map[string]any{"input": "x", "type": `OCP\TextProcessing\NopeTaskType`, "appId": "assistant", "identifier": ""})
		if r.Status != 400 || messageOf(t, r) != "Requested task type does not exist" {
			t.Fatalf("unknown type: %d %s", r.Status, r.Body)
		}

		// One store: the legacy task through TaskProcessing.
		tkView := taskOf(t, nk.get(fmt.Sprintf("%s/task/%d", tk, task.ID)))
		if tkView.Type != "core:text2text:summary" || tkView.Status != "STATUS_SUCCESSFUL" || tkView.CustomID != "nk-summary" ||
			textOutput(t, tkView) != *done.Output || tkView.StartedAt == nil || tkView.EndedAt == nil {
			t.Fatalf("through taskprocessing: %+v %s", tkView, tkView.Output)
		}
		// ...but a text-to-image task is not a textprocessing task.
		image := taskOf(t, nk.nkPost(tk+"/schedule", map[string]any{
			"input": map[string]any{"input": "a gull", "numberOfImages": 1}, "type": "core:text2image", "appId": "assistant", "customId": "nk-summary"}))
		for _, p := range []string{fmt.Sprintf("%s/task/%d", tp, image.ID)} {
			if r := nk.get(p); r.Status != 404 || messageOf(t, r) != "Task not found" {
				t.Fatalf("%s: %d %s", p, r.Status, r.Body)
			}
		}
		if r := nk.do("DELETE", fmt.Sprintf("%s/task/%d", tp, image.ID), "", ""); r.Status != 404 {
			t.Fatalf("legacy delete of an image task: %d %s", r.Status, r.Body)
		}
		var list struct {
			Tasks []tpTask `json:"tasks"`
		}
		nk.get(tp+"/tasks/app/assistant?identifier=nk-summary").data(t, &list)
		if len(list.Tasks) != 1 || list.Tasks[0].ID != task.ID {
			t.Fatalf("tasks/app: %+v", list)
		}

		// Another user: 404.
		bobSession := testsupport.SignUp(t, srv, "bob@example.com").SessionID
		bob := nextcloudKit(t, srv, "bob@example.com", appPassword(t, srv, bobSession, "bob"))
		if r := bob.get(fmt.Sprintf("%s/task/%d", tp, task.ID)); r.Status != 404 {
			t.Fatalf("bob: %d %s", r.Status, r.Body)
		}
		if r := bob.do("DELETE", fmt.Sprintf("%s/task/%d", tp, task.ID), "", ""); r.Status != 404 {
			t.Fatalf("bob delete: %d %s", r.Status, r.Body)
		}

		// textProcessingDeleteTask: the task, then 404.
		if del := tpTaskOf(t, nk.do("DELETE", fmt.Sprintf("%s/task/%d", tp, task.ID), "", "")); del.ID != task.ID {
			t.Fatalf("delete: %+v", del)
		}
		if r := nk.get(fmt.Sprintf("%s/task/%d", tp, task.ID)); r.Status != 404 {
			t.Fatalf("after delete: %d %s", r.Status, r.Body)
		}
	})
}

// openAIServer runs the app with AIMG_TEXT_URL pointing at fake, with a
// short run time-out, two attempts and a short lease (heartbeats every
// second).
func openAIServer(t *testing.T, dbURL string, fake *openaichatfake.Server) *testsupport.Server {
	return newOCSServer(t, dbURL, func(c *config.Config) {
		c.TextURL = "openai+" + fake.URL + "/v1?model=m"
		c.Service.OCS.RunTimeout = 3 * time.Second
		c.Service.OCS.MaxAttempts = 2
		c.Service.OCS.Lease = 3 * time.Second
	})
}

func TestTextProcessingOpenAI(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		fake := openaichatfake.New(openaichatfake.Options{Models: []string{"m"}})
		t.Cleanup(fake.Close)
		srv := openAIServer(t, dbURL, fake)
		_, secret := basicUser(t, srv, "alice@example.com", "alice")
		nk := nextcloudKit(t, srv, "alice", secret)

		// schedule runs prompt through TaskProcessing, answers the task at its end.
		schedule := func(prompt string) tkTask {
			t.Helper()
			return taskOf(t, nk.nkPost(tk+"/schedule", map[string]any{"input": map[string]any{"input": prompt},
				"type": "core:text2text", "appId": "assistant", "customId": ""}))
		}
		requests := func() int { return len(fake.Requests()) }

		var tt struct {
			Types map[string]json.RawMessage `json:"types"`
		}
		nk.get(tk+"/tasktypes").data(t, &tt)
		if tt.Types["core:text2text"] == nil || tt.Types["core:text2text:summary"] == nil {
			t.Fatalf("tasktypes with a language model: %v", tt.Types)
		}
		r := nk.get(tp + "/tasktypes")
		if !strings.Contains(string(r.Body), `OCP\\TextProcessing\\FreePromptTaskType`) {
			t.Fatalf("legacy tasktypes with a language model: %s", r.Body)
		}

		t.Run("answer", func(t *testing.T) {
			fake.Enqueue(openaichatfake.Answer{Content: "Paris is the capital of France."})
			n := requests()
			done := pollTask(t, nk, schedule("What is the capital of France?").ID)
			if done.Status != "STATUS_SUCCESSFUL" || textOutput(t, done) != "Paris is the capital of France." {
				t.Fatalf("%+v %s", done, done.Output)
			}
			reqs := fake.Requests()[n:]
			if len(reqs) != 1 || reqs[0].Model != "m" || len(reqs[0].Messages) != 1 || reqs[0].Messages[0].Text() != "What is the capital of France?" {
				t.Fatalf("requests %+v", reqs)
			}
		})
		t.Run("500 then success", func(t *testing.T) {
			fake.Enqueue(openaichatfake.Answer{Status: 500, ErrorMessage: "overloaded", ErrorType: "server_error"},
				openaichatfake.Answer{Content: "second try"})
			n := requests()
			done := pollTask(t, nk, schedule("Say something").ID)
			if done.Status != "STATUS_SUCCESSFUL" || textOutput(t, done) != "second try" || requests()-n != 2 {
				t.Fatalf("%+v %s after %d requests", done, done.Output, requests()-n)
			}
		})
		t.Run("persistent 500", func(t *testing.T) {
			fake.Enqueue(openaichatfake.Answer{Status: 500, ErrorMessage: "down"}, openaichatfake.Answer{Status: 502, Body: "<html>Bad Gateway</html>"})
			n := requests()
			// Through the legacy API, as NextcloudKit's v1 does: status 4.
			task := tpTaskOf(t, nk.nkPost(tp+"/schedule", map[string]any{"input": "Write a haiku", "type": `OCP\TextProcessing\FreePromptTaskType`,
				"appId": "assistant", "identifier": ""}))
			done := pollLegacy(t, nk, task.ID)
			if done.Status != 4 || done.Output != nil || requests()-n != 2 {
				t.Fatalf("%+v after %d requests", done, requests()-n)
			}
			if tkView := taskOf(t, nk.get(fmt.Sprintf("%s/task/%d", tk, task.ID))); tkView.Status != "STATUS_FAILED" || tkView.EndedAt == nil {
				t.Fatalf("through taskprocessing: %+v", tkView)
			}
		})
		t.Run("400 fails at once", func(t *testing.T) {
			fake.Enqueue(openaichatfake.Answer{Status: 400, ErrorMessage: "context too long", ErrorType: "invalid_request_error"})
			n := requests()
			// A retry would get the fake's default answer and succeed.
			done := pollTask(t, nk, schedule("A very long prompt").ID)
			if done.Status != "STATUS_FAILED" || requests()-n != 1 {
				t.Fatalf("%+v after %d requests", done, requests()-n)
			}
		})
		t.Run("hang beyond runTimeout", func(t *testing.T) {
			fake.Enqueue(openaichatfake.Answer{Delay: time.Hour}, openaichatfake.Answer{Delay: time.Hour})
			n := requests()
			done := pollTask(t, nk, schedule("Think forever").ID)
			if done.Status != "STATUS_FAILED" || requests()-n != 2 {
				t.Fatalf("%+v after %d requests", done, requests()-n)
			}
		})
		t.Run("cancel while running", func(t *testing.T) {
			fake.Hold()
			n := requests()
			task := schedule("Take your time")
			eventually(t, "the provider being asked", func() bool { return requests() > n })
			if got := taskOf(t, nk.get(fmt.Sprintf("%s/task/%d", tk, task.ID))); got.Status != "STATUS_RUNNING" || got.StartedAt == nil {
				t.Fatalf("while the provider thinks: %+v", got)
			}
			got := taskOf(t, nk.nkPost(fmt.Sprintf("%s/tasks/%d/cancel", tk, task.ID), map[string]any{}))
			fake.Release()
			if got.Status != "STATUS_CANCELLED" {
				t.Fatalf("cancel: %+v", got)
			}
			// The runner's answer comes after the cancel and is dropped.
			eventually(t, "the runner finishing", func() bool {
				return strings.Contains(srv.LogText(), fmt.Sprintf(`"msg":"task done","task":%d,`, task.ID)) ||
					strings.Contains(srv.LogText(), fmt.Sprintf(`"msg":"task attempt failed","task":%d,`, task.ID))
			})
			if got := taskOf(t, nk.get(fmt.Sprintf("%s/task/%d", tk, task.ID))); got.Status != "STATUS_CANCELLED" || string(got.Output) != "null" {
				t.Fatalf("after the runner: %+v %s", got, got.Output)
			}
		})
	})
}

// hookServer records webhook calls; fail says how many calls to a path
// answer 500 before it answers 204.
type hookServer struct {
	*httptest.Server
	mu    sync.Mutex
	calls []hookCall
	fail  map[string]int
}

type hookCall struct {
	Method, Path, ContentType string
	Body                      []byte
}

func newHookServer(t *testing.T, fail map[string]int) *hookServer {
	h := &hookServer{fail: fail}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		h.mu.Lock()
		h.calls = append(h.calls, hookCall{r.Method, r.URL.Path, r.Header.Get("Content-Type"), b})
		failing := h.fail[r.URL.Path] > 0
		h.fail[r.URL.Path]--
		h.mu.Unlock()
		if failing {
			http.Error(w, "try later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) callsTo(path string) []hookCall {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []hookCall
	for _, c := range h.calls {
		if c.Path == path {
			out = append(out, c)
		}
	}
	return out
}

func TestTaskWebhooks(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		hooks := newHookServer(t, map[string]int{"/flaky": 2})
		srv := newOCSServer(t, dbURL, func(c *config.Config) {
			c.Service.OCS.Webhooks.AllowPrivate = true
			c.Service.OCS.Webhooks.Backoff = 50 * time.Millisecond // of the test clock, which the test moves
		})
		alice := testsupport.SignUp(t, srv, "alice@example.com")
		as := assistantClient(t, srv, alice.SessionID)
		schedule := func(path string) tkTask {
			t.Helper()
			return taskOf(t, as.json("POST", tk+"/schedule", map[string]any{
				"input": map[string]any{"input": harbourText}, "type": "core:text2text:topics", "appId": "assistant", "customId": path,
				"webhookUri": hooks.URL + path, "webhookMethod": "HTTP:POST"}))
		}

		first := schedule("/ok")
		eventually(t, "the webhook call", func() bool { return len(hooks.callsTo("/ok")) > 0 })
		call := hooks.callsTo("/ok")[0]
		if call.Method != "POST" || call.ContentType != "application/json" {
			t.Fatalf("webhook %s %s", call.Method, call.ContentType)
		}
		var body struct {
			Task json.RawMessage `json:"task"`
		}
		if err := json.Unmarshal(call.Body, &body); err != nil || !slices.Equal(objectKeys(t, call.Body), []string{"task"}) {
			t.Fatalf("webhook body %s", call.Body)
		}
		if keys := objectKeys(t, body.Task); !slices.Equal(keys, tkTaskKeys) {
			t.Fatalf("webhook task keys %v", keys)
		}
		var hooked tkTask
		if err := json.Unmarshal(body.Task, &hooked); err != nil || hooked.ID != first.ID || hooked.Status != "STATUS_SUCCESSFUL" ||
			hooked.UserID == nil || *hooked.UserID != alice.UserID || textOutput(t, hooked) == "" {
			t.Fatalf("webhook task %s", body.Task)
		}

		// A failing receiver is called again after the backoff (on the
		// test clock, moved here) until it answers 2xx.
		flaky := schedule("/flaky")
		eventually(t, "the webhook's retries", func() bool {
			srv.Clock.Advance(100 * time.Millisecond)
			return len(hooks.callsTo("/flaky")) >= 3
		})
		for _, c := range hooks.callsTo("/flaky") {
			var b struct {
				Task tkTask `json:"task"`
			}
			if err := json.Unmarshal(c.Body, &b); err != nil || b.Task.ID != flaky.ID || b.Task.Status != "STATUS_SUCCESSFUL" {
				t.Fatalf("flaky webhook body %s", c.Body)
			}
		}
		// Meanwhile the delivered one was not called again.
		if n := len(hooks.callsTo("/ok")); n != 1 {
			t.Fatalf("/ok called %d times", n)
		}
	})
}

func TestTaskWebhookAddressChecks(t *testing.T) {
	srv := testsupport.NewServer(t, "") // webhooks.allowPrivate is false by default
	alice := testsupport.SignUp(t, srv, "alice@example.com")
	as := assistantClient(t, srv, alice.SessionID)
	for _, c := range []struct{ uri, method, field string }{
		{"http://127.0.0.1:8/hook", "HTTP:POST", "webhookUri"},
		{"http://localhost/hook", "HTTP:POST", "webhookUri"},
		{"http://[::1]/hook", "HTTP:PUT", "webhookUri"},
		{"http://10.1.2.3/hook", "", "webhookUri"},
		{"ftp://example.com/hook", "HTTP:POST", "webhookUri"},
		{"https://example.com/hook", "AppAPI:app:/hook", "webhookMethod"},
	} {
		body := map[string]any{"input": map[string]any{"input": "Some text here."}, "type": "core:text2text:summary", "appId": "assistant", "webhookUri": c.uri}
		if c.method != "" {
			body["webhookMethod"] = c.method
		}
		r := as.json("POST", tk+"/schedule", body)
		if r.Status != 400 || !strings.Contains(messageOf(t, r), c.field) {
			t.Fatalf("%s %s: %d %s", c.uri, c.method, r.Status, r.Body)
		}
	}
	if ts := tasksOf(t, as.get(tk+"/tasks")); len(ts) != 0 {
		t.Fatalf("refused schedules made tasks: %+v", ts)
	}
}

package generation_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/generation"
	"aimg/internal/generation/workflows"
)

// captureStore keeps the Job enqueueWorkflow writes; nothing else is called.
type captureStore struct {
	generation.Store
	got aimg.NewJob
}

func (s *captureStore) Enqueue(_ context.Context, nj aimg.NewJob) (aimg.Enqueued, error) {
	s.got = nj
	ids := make([]string, len(nj.Items))
	for i, it := range nj.Items {
		ids[i] = it.ID
	}
	return aimg.Enqueued{ItemIDs: ids}, nil
}

type oneUser struct{ u *aimg.User }

func (g oneUser) GuestUser(context.Context, aimg.Caller) (*aimg.User, error) { return g.u, nil }

func newAPI2Service(t testing.TB, models func([]aimg.Model) []aimg.Model) (*generation.Service, *captureStore, aimg.Caller) {
	t.Helper()
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if models != nil {
		cfg.Service.Models = models(cfg.Service.Models)
	}
	st := &captureStore{}
	u := &aimg.User{ID: "u1", Email: "pro@example.com", Tier: 2}
	now := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	s := generation.New(st, nil, oneUser{u}, cfg.Service, nil, now)
	s.Workflows = workflows.Builtin()
	return s, st, aimg.Caller{Session: &aimg.Session{ID: "s1", UserID: u.ID, Authenticated: true}, User: u}
}

func jobPayload(t testing.TB, nj aimg.NewJob) aimg.JobPayload {
	t.Helper()
	var p aimg.JobPayload
	if err := json.Unmarshal(nj.Job.Payload, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

type node struct {
	ClassType string                     `json:"class_type"`
	Inputs    map[string]json.RawMessage `json:"inputs"`
}

// Whatever the prompt, enqueueWorkflow either refuses it (400 naming the
// prompt) or queues a workflow that is the template's graph with the
// (filtered) prompt as the text of node 6, every other input as with a
// plain prompt: the prompt cannot break or inject into the workflow.
func FuzzEnqueueWorkflowPrompt(f *testing.F) {
	for _, s := range []string{`"}, "99": {"class_type": "Evil", "inputs": {}}, "x": {"`, `\`, `\"`, "{}", "]]]",
		"\u2028\u2029", "\x00", "%s", `a "fox" {with} \ braces`, "child", "   ", "\xff\xfe"} {
		f.Add(s, s)
	}
	svc, st, c := newAPI2Service(f, nil)
	if _, err := svc.EnqueueWorkflow(context.Background(), c, generation.WorkflowRequest{TemplateName: "sd15-lora",
		Prompt: ptr("x"), NegPrompt: ptr("y"), Lora: []string{"l.safetensors"}}); err != nil {
		f.Fatal(err)
	}
	var base map[string]node
	if err := json.Unmarshal(jobPayload(f, st.got).Workflow.JSON, &base); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, prompt, neg string) {
		st.got = aimg.NewJob{}
		_, err := svc.EnqueueWorkflow(context.Background(), c, generation.WorkflowRequest{TemplateName: "sd15-lora",
			Prompt: &prompt, NegPrompt: &neg, Lora: []string{"l.safetensors"}})
		if err != nil {
			var ae *aimg.Error
			if !errors.As(err, &ae) || ae.Code != aimg.CodeInvalid || (ae.Field != "prompt" && ae.Field != "negprompt") {
				t.Fatalf("prompt %q: %v", prompt, err)
			}
			return
		}
		p := jobPayload(t, st.got)
		var w map[string]node
		if err := json.Unmarshal(p.Workflow.JSON, &w); err != nil {
			t.Fatalf("invalid workflow for %q: %v", prompt, err)
		}
		var text, negText string
		if json.Unmarshal(w["6"].Inputs["text"], &text) != nil || text != p.Prompt || text != st.got.Items[0].Prompt {
			t.Fatalf("prompt %q became %q (item %q)", prompt, text, st.got.Items[0].Prompt)
		}
		if json.Unmarshal(w["7"].Inputs["text"], &negText) != nil || negText != p.NegPrompt {
			t.Fatalf("negprompt %q became %q", neg, negText)
		}
		if len(w) != len(base) {
			t.Fatalf("%d nodes, want %d", len(w), len(base))
		}
		for id, n := range base {
			if w[id].ClassType != n.ClassType || len(w[id].Inputs) != len(n.Inputs) {
				t.Fatalf("node %s changed", id)
			}
			for k, v := range n.Inputs {
				if (id == "6" || id == "7") && k == "text" {
					continue
				}
				if string(w[id].Inputs[k]) != string(v) {
					t.Fatalf("node %s input %s: %s, want %s", id, k, w[id].Inputs[k], v)
				}
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// A comfyui Model that names the template runs it: its Job carries the
// substituted workflow as the comfyui request, with the Model's checkpoint.
func TestEnqueueWorkflowOnComfyUIModel(t *testing.T) {
	svc, st, c := newAPI2Service(t, func(ms []aimg.Model) []aimg.Model {
		m := ms[0]
		m.ModelID, m.Backend, m.Workflow, m.Checkpoint = "sd15", aimg.BackendComfyUI, "sd15-txt2img", "mine.safetensors"
		return append(ms, m)
	})
	res, err := svc.EnqueueWorkflow(context.Background(), c, generation.WorkflowRequest{TemplateName: "sd15-txt2img",
		Prompt: ptr("a fox"), BatchSize: ptr(2.0)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ItemIDs) != 2 || st.got.Job.ModelID != "sd15" || st.got.Job.ID != res.WorkflowID {
		t.Fatalf("enqueued %+v on %s", res, st.got.Job.ModelID)
	}
	p := jobPayload(t, st.got)
	var req struct {
		Workflow map[string]node `json:"workflow"`
	}
	if err := json.Unmarshal(p.Request, &req); err != nil || p.Backend != aimg.BackendComfyUI {
		t.Fatalf("request %s: %v", p.Request, err)
	}
	if string(req.Workflow["4"].Inputs["ckpt_name"]) != `"mine.safetensors"` || string(req.Workflow["5"].Inputs["batch_size"]) != "2" {
		t.Fatalf("comfyui request: %s", p.Request)
	}
	// A Model id in modelName picks the Model; another backend is refused.
	if _, err := svc.EnqueueWorkflow(context.Background(), c, generation.WorkflowRequest{TemplateName: "sd15-lora",
		Prompt: ptr("a fox"), ModelName: "sketch"}); err != nil || st.got.Job.ModelID != "sketch" {
		t.Fatalf("modelName sketch: %v, on %s", err, st.got.Job.ModelID)
	}
	svc, _, c = newAPI2Service(t, func(ms []aimg.Model) []aimg.Model {
		m := ms[0]
		m.ModelID, m.Backend, m.BackendModel = "dalle", aimg.BackendOpenAI, "dall-e-3"
		return append(ms, m)
	})
	_, err = svc.EnqueueWorkflow(context.Background(), c, generation.WorkflowRequest{TemplateName: "sd15-lora",
		Prompt: ptr("a fox"), ModelName: "dalle"})
	if err == nil || !strings.Contains(err.Error(), "modelName: Model dalle runs on openai") {
		t.Fatalf("openai Model: %v", err)
	}
}

package worker_test

import (
	"encoding/json"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// A backend without Request (builtin) leaves the payload without one, so
// its Jobs look as they did before requests existed; one with Request
// gets it; an unknown backend is an error.
func TestRegistryRequest(t *testing.T) {
	r, err := worker.NewRegistry(worker.Registration{Name: "builtin"}, worker.Registration{Name: "gpu",
		Request: func(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error) {
			return json.Marshal(map[string]any{"prompt": p.Prompt, "n": items})
		}})
	if err != nil {
		t.Fatal(err)
	}
	p := aimg.JobPayload{Prompt: "x"}
	if raw, err := r.Request(aimg.Model{Backend: "builtin"}, p, 1); raw != nil || err != nil {
		t.Fatalf("builtin: %s %v", raw, err)
	}
	if raw, err := r.Request(aimg.Model{Backend: "gpu"}, p, 2); string(raw) != `{"n":2,"prompt":"x"}` || err != nil {
		t.Fatalf("gpu: %s %v", raw, err)
	}
	if _, err := r.Request(aimg.Model{Backend: "nope"}, p, 1); err == nil {
		t.Fatal("an unknown backend resolved")
	}
	// A payload queued before requests existed reads the same.
	var old aimg.JobPayload
	if err := json.Unmarshal([]byte(`{"backend":"builtin","kind":"image","prompt":"a fox","negprompt":"","params":{"steps":20}}`), &old); err != nil || old.Request != nil {
		t.Fatalf("old payload: %+v %v", old, err)
	}
	if b, _ := json.Marshal(p); string(b) != `{"backend":"","kind":"","prompt":"x","negprompt":"","params":{"steps":0,"seed":0,"subseed":0,"subseed_strength":0,"sampler":"","cfgscale":0,"restoreFaces":false,"width":0,"height":0,"lora":null,"lora_strength":null}}` {
		t.Fatalf("a payload without a request has a request key: %s", b)
	}
}

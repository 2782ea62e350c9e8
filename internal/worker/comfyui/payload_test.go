package comfyui

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/generation/workflows"
	"aimg/internal/worker"
	"aimg/internal/worker/comfyui/comfyuifake"
)

func TestSamplerNames(t *testing.T) {
	for name, want := range map[string][2]string{
		"DPM++ 2M Karras": {"dpmpp_2m", "karras"}, "Euler a": {"euler_ancestral", "normal"}, "DDIM": {"ddim", "ddim_uniform"},
		"DPM++ SDE Karras": {"dpmpp_sde", "karras"}, "LMS": {"lms", "normal"}, "Heun": {"heun", "normal"},
		"UniPC": {"uni_pc", "normal"}, "DPM++ 2M SDE Exponential": {"dpmpp_2m_sde", "exponential"},
	} {
		s, sch, ok := Sampler(name)
		if !ok || s != want[0] || sch != want[1] {
			t.Errorf("%s → %s %s %v, want %v", name, s, sch, ok, want)
		}
	}
	if _, _, ok := Sampler("Magic Karras"); ok {
		t.Error("an unknown sampler mapped")
	}
}

func model() aimg.Model {
	return aimg.Model{ModelID: "sd15", Kind: aimg.MTypeImage, Backend: aimg.BackendComfyUI, Workflow: "sd15-lora",
		MinSteps: 1, MaxSteps: 50, AllowedWidths: []int{512}, AllowedHeights: []int{512}, AllowedSamplers: []string{"Euler a"}}
}

// LoRAs of the params go to the template's LoRA parameters; a Job with an
// input names the LoadImage node.
func TestRequestWithLoras(t *testing.T) {
	reg := Registration(workflows.Builtin())
	if errs := reg.CheckModel(model()); len(errs) != 0 {
		t.Fatal(errs)
	}
	p := aimg.JobPayload{Backend: aimg.BackendComfyUI, Kind: aimg.MTypeImage, Prompt: "x", Params: aimg.GenerationParams{
		Steps: 10, Seed: 3, Sampler: "Euler a", CFGScale: 7, Width: 512, Height: 512,
		Lora: []string{"detail.safetensors"}, LoraStrength: []float64{0.75}}}
	raw, err := reg.Request(model(), p, 2)
	if err != nil {
		t.Fatal(err)
	}
	var jr JobRequest
	if err := json.Unmarshal(raw, &jr); err != nil {
		t.Fatal(err)
	}
	var wf map[string]struct {
		Inputs map[string]json.RawMessage `json:"inputs"`
	}
	_ = json.Unmarshal(jr.Workflow, &wf)
	if string(wf["10"].Inputs["lora_name"]) != `"detail.safetensors"` || string(wf["10"].Inputs["strength_clip"]) != "0.75" ||
		string(wf["5"].Inputs["batch_size"]) != "2" || wf["11"].Inputs != nil || len(jr.Inputs) != 0 {
		t.Fatalf("request %s", raw)
	}
	p.Params.Lora, p.Params.LoraStrength = []string{"a", "b", "c"}, []float64{1, 1, 1}
	if _, err := reg.Request(model(), p, 1); err == nil || !strings.Contains(err.Error(), "takes 2 LoRAs, not 3") {
		t.Fatalf("three LoRAs: %v", err)
	}
	p.Params.Lora = nil
	p.InputFileID = "f1"
	if _, err := reg.Request(model(), p, 1); err == nil || aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Fatalf("an input without a LoadImage node: %v", err)
	}
}

// The worker side: the request comes back from the payload, with the
// Job's input read for its node; a Job of another backend is refused
// (retryable), one without a request is invalid.
func TestResolveFromPayload(t *testing.T) {
	c, err := New(Config{BaseURL: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	b := NewBackend(c)
	req, _ := json.Marshal(JobRequest{Workflow: json.RawMessage(`{"1":{}}`), Inputs: []JobInput{{NodeID: "7", InputName: "image"}}})
	job := worker.RenderJob{Job: &aimg.Job{ID: "j"}, Payload: aimg.JobPayload{Backend: aimg.BackendComfyUI, Request: req, InputFileID: "f"},
		OpenInput: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("PNGDATA")), nil }}
	got, err := b.Resolve(t.Context(), job)
	if err != nil || string(got.Workflow) != `{"1":{}}` || len(got.Inputs) != 1 || got.Inputs[0].NodeID != "7" ||
		got.Inputs[0].InputName != "image" || string(got.Inputs[0].Data) != "PNGDATA" {
		t.Fatalf("%+v %v", got, err)
	}
	job.Payload.Backend = aimg.BackendBuiltin
	if _, err := b.Resolve(t.Context(), job); err == nil || aimg.ErrorCode(err) == aimg.CodeInvalid {
		t.Fatalf("another backend's job: %v", err)
	}
	job.Payload.Backend, job.Payload.Request = aimg.BackendComfyUI, nil
	if _, err := b.Resolve(t.Context(), job); aimg.ErrorCode(err) != aimg.CodeInvalid {
		t.Fatalf("no request: %v", err)
	}
}

// The embedded templates are real workflows: the fake ComfyUI (which
// checks every node's inputs as ComfyUI's validation does) runs them, with
// and without LoRAs, and they give one image per Item.
func TestEmbeddedTemplatesRunOnComfyUI(t *testing.T) {
	fake := comfyuifake.New()
	t.Cleanup(fake.Close)
	c, err := New(Config{BaseURL: fake.URL})
	if err != nil {
		t.Fatal(err)
	}
	set := workflows.Builtin()
	for _, run := range []struct {
		template string
		values   map[string]string
		images   int
	}{
		{"sd15-txt2img", map[string]string{"prompt": "a fox", "steps": "3"}, 1},
		{"sd15-txt2img", map[string]string{"prompt": "a fox", "steps": "2", "batchSize": "2", "sampler": "euler_ancestral", "scheduler": "normal"}, 2},
		{"sd15-lora", map[string]string{"prompt": "a fox", "steps": "2"}, 1},
		{"sd15-lora", map[string]string{"prompt": "a fox", "steps": "2", "lora1": "detail.safetensors", "lora2": "style.safetensors", "lora2_strength": "0.5"}, 1},
	} {
		tpl, _ := set.Lookup(run.template)
		wf, err := tpl.Substitute(run.values)
		if err != nil {
			t.Fatal(err)
		}
		outs, err := c.Run(t.Context(), wf, nil, nil)
		if err != nil {
			t.Fatalf("%s %v: %v", run.template, run.values, err)
		}
		if len(outs) != run.images {
			t.Fatalf("%s %v: %d images", run.template, run.values, len(outs))
		}
	}
}

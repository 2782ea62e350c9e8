package a1111

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// A Job with an input is an img2img whose init image the worker reads
// from the Job; the server's body is otherwise sent as it is.
func TestImg2ImgFromPayload(t *testing.T) {
	m := aimg.Model{ModelID: "m", Kind: aimg.MTypeImage, Backend: aimg.BackendA1111, Checkpoint: "dreamshaper_8"}
	p := aimg.JobPayload{Backend: aimg.BackendA1111, Prompt: "x", InputFileID: "f",
		Params: aimg.GenerationParams{Sampler: "DPM++ 2M Karras", Steps: 4, Width: 64, Height: 64}}
	raw, err := Registration().Request(m, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	p.Request = raw
	job := worker.RenderJob{Job: &aimg.Job{ID: "j"}, Payload: p,
		OpenInput: func(context.Context) (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("IMG")), nil }}
	req, err := fromPayload(t.Context(), job)
	if err != nil || req.Txt2Img != nil || req.Img2Img == nil {
		t.Fatalf("%+v %v", req, err)
	}
	r := req.Img2Img
	if len(r.InitImages) != 1 || r.InitImages[0] != base64.StdEncoding.EncodeToString([]byte("IMG")) ||
		r.SamplerName != "DPM++ 2M" || r.Scheduler != "Karras" || r.OverrideSettings.SDModelCheckpoint != "dreamshaper_8" {
		t.Fatalf("img2img %+v", r)
	}
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	if _, ok := body["img2img"]; !ok {
		t.Fatalf("request %s", raw)
	}
	job.Payload.Backend = aimg.BackendOpenAI
	if _, err := fromPayload(t.Context(), job); err == nil {
		t.Fatal("another backend's job was resolved")
	}
	if errs := CheckModel(aimg.Model{Kind: aimg.MTypeImage, AllowedSamplers: []string{"Euler a", "Nope"}}); len(errs) != 2 {
		t.Fatalf("CheckModel: %v", errs)
	}
}

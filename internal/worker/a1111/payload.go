package a1111

import (
	"context"
	"encoding/json"
	"fmt"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// JobRequest is payload.request of an a1111 Job: exactly one of the
// bodies. An img2img body is sent with empty init_images; the worker fills
// them from the Job's input image.
type JobRequest struct {
	Txt2Img *Txt2ImgRequest `json:"txt2img,omitempty"`
	Img2Img *Img2ImgRequest `json:"img2img,omitempty"`
}

// Registration is AUTOMATIC1111 as a server-side backend: remote workers
// only (no New), a Model needs its checkpoint, and each Job's body is
// resolved at enqueue.
func Registration() worker.Registration {
	return worker.Registration{Name: aimg.BackendA1111, CheckModel: CheckModel, Request: request}
}

// CheckModel reports the Model settings the backend cannot honour.
func CheckModel(m aimg.Model) []error {
	var errs []error
	if m.Kind != aimg.MTypeImage {
		errs = append(errs, fmt.Errorf("kind: the a1111 backend renders images, not %q", m.Kind))
	}
	if m.Checkpoint == "" {
		errs = append(errs, fmt.Errorf("checkpoint: an a1111 Model needs the checkpoint it renders with (a title, name or hash of /sdapi/v1/sd-models)"))
	}
	for _, s := range m.AllowedSamplers {
		if _, _, ok := worker.SplitSampler(s); !ok {
			errs = append(errs, fmt.Errorf("allowedSamplers: %q is not a web UI sampler", s))
		}
	}
	return errs
}

// request is the txt2img body of the Job (img2img when it has an input).
// The checkpoint is not restored afterwards: the next Job most likely
// wants the same one, and each request names its own anyway.
func request(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error) {
	gp := p.Params
	sampler, scheduler, _ := worker.SplitSampler(gp.Sampler)
	restore := false
	body := Txt2ImgRequest{
		Prompt: p.Prompt, NegativePrompt: p.NegPrompt, SamplerName: sampler, Scheduler: scheduler,
		CFGScale: gp.CFGScale, Seed: gp.Seed, Subseed: gp.Subseed, SubseedStrength: gp.SubseedStrength,
		RestoreFaces: gp.RestoreFaces, Width: gp.Width, Height: gp.Height, Steps: gp.Steps,
		BatchSize: items, NIter: 1,
		OverrideSettings:                  OverrideSettings{SDModelCheckpoint: m.Checkpoint},
		OverrideSettingsRestoreAfterwards: &restore,
	}
	if p.InputFileID != "" {
		return json.Marshal(JobRequest{Img2Img: &Img2ImgRequest{Txt2ImgRequest: body, InitImages: []string{}}})
	}
	return json.Marshal(JobRequest{Txt2Img: &body})
}

// NewBackend is the worker-side Backend whose Resolve reads the Job's
// payload.request (a JobRequest) and, for img2img, the Job's input image.
func NewBackend(c *Client) Backend {
	return Backend{Client: c, Resolve: fromPayload}
}

func fromPayload(ctx context.Context, job worker.RenderJob) (Request, error) {
	pl := job.Payload
	if pl.Backend != aimg.BackendA1111 {
		return Request{}, fmt.Errorf("this worker renders a1111 jobs, not %q (check its --models)", pl.Backend)
	}
	if len(pl.Request) == 0 {
		return Request{}, aimg.Invalid("request", "the job carries no AUTOMATIC1111 request")
	}
	var jr JobRequest
	if err := json.Unmarshal(pl.Request, &jr); err != nil {
		return Request{}, aimg.Invalid("request", "the job's AUTOMATIC1111 request is unreadable: %v", err)
	}
	if jr.Img2Img != nil && len(jr.Img2Img.InitImages) == 0 && pl.InputFileID != "" {
		img, err := InitImageFromJob(ctx, job)
		if err != nil {
			return Request{}, err
		}
		jr.Img2Img.InitImages = []string{img}
	}
	return Request{Txt2Img: jr.Txt2Img, Img2Img: jr.Img2Img}, nil
}

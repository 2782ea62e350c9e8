package openai

import (
	"context"
	"encoding/json"
	"fmt"

	"aimg/internal/aimg"
	"aimg/internal/worker"
)

// JobRequest is payload.request of an openai Job: the body of POST
// /v1/images/generations.
type JobRequest struct {
	Generations *GenerateRequest `json:"generations"`
}

// Registration is an OpenAI-compatible images API as a server-side
// backend: remote workers only (no New), a Model needs the server's model
// name, and each Job's request is resolved at enqueue.
func Registration() worker.Registration {
	return worker.Registration{Name: aimg.BackendOpenAI, CheckModel: CheckModel, Request: request}
}

// CheckModel reports the Model settings the backend cannot honour.
func CheckModel(m aimg.Model) []error {
	var errs []error
	if m.Kind != aimg.MTypeImage {
		errs = append(errs, fmt.Errorf("kind: the openai backend renders images, not %q", m.Kind))
	}
	if m.BackendModel == "" {
		errs = append(errs, fmt.Errorf("model: an openai Model needs the server's model name (e.g. dall-e-3, or a LocalAI model)"))
	}
	return errs
}

// request is the images request: the API has no negative prompt, seed,
// steps, sampler or cfg scale, so those are not sent (an OpenAI server
// refuses unknown arguments).
func request(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error) {
	if p.InputFileID != "" {
		return nil, aimg.Invalid("input", "Model %s (openai) cannot render from an input image", m.ModelID)
	}
	return json.Marshal(JobRequest{Generations: &GenerateRequest{
		Model: m.BackendModel, Prompt: p.Prompt, N: items, Size: Size(p.Params.Width, p.Params.Height),
		ResponseFormat: "b64_json",
	}})
}

// NewBackend is the worker-side Backend whose Resolve reads the Job's
// payload.request (a JobRequest).
func NewBackend(c *Client) Backend {
	return Backend{Client: c, Resolve: fromPayload}
}

func fromPayload(_ context.Context, job worker.RenderJob) (GenerateRequest, error) {
	pl := job.Payload
	if pl.Backend != aimg.BackendOpenAI {
		return GenerateRequest{}, fmt.Errorf("this worker renders openai jobs, not %q (check its --models)", pl.Backend)
	}
	if len(pl.Request) == 0 {
		return GenerateRequest{}, aimg.Invalid("request", "the job carries no OpenAI images request")
	}
	var jr JobRequest
	if err := json.Unmarshal(pl.Request, &jr); err != nil || jr.Generations == nil {
		return GenerateRequest{}, aimg.Invalid("request", "the job's OpenAI images request is unreadable: %v", err)
	}
	return *jr.Generations, nil
}

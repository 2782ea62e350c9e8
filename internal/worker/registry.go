package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"aimg/internal/aimg"
)

// Registration is one kind of backend (a Model's `backend` setting) as the
// server and the workers see it. Each backend package offers its own
// Registration; the server builds a Registry of those it knows.
type Registration struct {
	Name string // the Model setting `backend`, e.g. "builtin"
	// Description is appended to the description of every Model the backend
	// serves (the built-in renderer says it is not a diffusion model); "" adds nothing.
	Description string
	// CheckModel reports the Model settings the backend cannot honour, each
	// error starting with the field name ("maxSteps: must be <= 150"); nil
	// checks nothing.
	CheckModel func(m aimg.Model) []error
	// New makes an in-process Backend for the embedded worker; nil when the
	// backend runs only in remote workers.
	New func() Backend
	// Request resolves, at enqueue, the complete backend request a Job of
	// the Model carries (JobPayload.Request) from the validated payload and
	// the number of Items the Job renders; nil: none (builtin renders from
	// the payload's own fields). Its worker-side adapter reads it back.
	Request func(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error)
}

// Registry is the backends one process knows, by name.
type Registry struct {
	regs  map[string]Registration
	names []string // in registration order
	// embedded are the in-process Backends, made once.
	embedded map[string]Backend
}

// NewRegistry registers regs in turn.
func NewRegistry(regs ...Registration) (*Registry, error) {
	r := &Registry{regs: map[string]Registration{}, embedded: map[string]Backend{}}
	for _, reg := range regs {
		if err := r.Register(reg); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Register adds a backend; a name registered twice is an error.
func (r *Registry) Register(reg Registration) error {
	if reg.Name == "" {
		return errors.New("worker: a backend registration needs a name")
	}
	if _, dup := r.regs[reg.Name]; dup {
		return fmt.Errorf("worker: backend %q registered twice", reg.Name)
	}
	r.regs[reg.Name] = reg
	r.names = append(r.names, reg.Name)
	if reg.New != nil {
		r.embedded[reg.Name] = reg.New()
	}
	return nil
}

// Lookup returns the registration of a backend name.
func (r *Registry) Lookup(name string) (Registration, bool) {
	reg, ok := r.regs[name]
	return reg, ok
}

// CheckModels names every Model setting that no registered backend can
// honour, as the config validation does: "config models[2].maxSteps: ...".
func (r *Registry) CheckModels(models []aimg.Model) error {
	var errs []error
	for i, m := range models {
		reg, ok := r.regs[m.Backend]
		if !ok {
			errs = append(errs, fmt.Errorf("config models[%d].backend: unknown backend %q (known: %s)",
				i, m.Backend, strings.Join(r.names, ", ")))
			continue
		}
		if reg.CheckModel == nil {
			continue
		}
		for _, err := range reg.CheckModel(m) {
			errs = append(errs, fmt.Errorf("config models[%d].%w", i, err))
		}
	}
	return errors.Join(errs...)
}

// Request is the backend request of a Job of m (Registration.Request);
// nil for a backend without one.
func (r *Registry) Request(m aimg.Model, p aimg.JobPayload, items int) (json.RawMessage, error) {
	reg, ok := r.regs[m.Backend]
	if !ok {
		return nil, fmt.Errorf("worker: Model %s names the unknown backend %q", m.ModelID, m.Backend)
	}
	if reg.Request == nil {
		return nil, nil
	}
	return reg.Request(m, p, items)
}

// Describe returns a copy of models in which each Model's description ends
// with its backend's Description (once).
func (r *Registry) Describe(models []aimg.Model) []aimg.Model {
	out := make([]aimg.Model, len(models))
	copy(out, models)
	for i := range out {
		m := &out[i]
		d := r.regs[m.Backend].Description
		if d != "" && !strings.Contains(m.Description, d) {
			m.Description = strings.TrimSpace(m.Description + " " + d)
		}
	}
	return out
}

// Embedded returns the ids of the Models an in-process worker can render
// (their backend has New) and one Backend that renders all of them,
// dispatching each Job to its Model's backend. No ids: no embedded worker.
func (r *Registry) Embedded(models []aimg.Model) ([]string, Backend) {
	var ids []string
	for _, m := range models {
		if _, ok := r.embedded[m.Backend]; ok {
			ids = append(ids, m.ModelID)
		}
	}
	return ids, dispatch{r}
}

// dispatch renders a Job on the in-process backend its payload names.
type dispatch struct{ r *Registry }

func (d dispatch) Render(ctx context.Context, job RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	name := job.Payload.Backend
	if name == "" {
		name = aimg.BackendBuiltin // Jobs queued before payloads named their backend
	}
	b, ok := d.r.embedded[name]
	if !ok {
		return nil, aimg.Invalid("backend", "this worker cannot render %q jobs", name)
	}
	return b.Render(ctx, job, progress)
}

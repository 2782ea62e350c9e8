package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/generation"
)

// The Create page: a Model picker with each Model's limits and the
// generateImage parameters; the service checks them (the form's names are
// the API's, so its error lands next to the field it names). After a
// submit the page watches the new Items (progress.js).

// MaxCount is the most images one Create submit asks for: one Job that
// renders them together, as a Nextcloud text-to-image batch does.
const MaxCount = 4

// modelView is a Model with its limits spelled for the picker's data
// attributes (create.js rebuilds the size and sampler fields from them).
type modelView struct {
	aimg.Model
	Widths, Heights, Samplers string
	Presets                   string // a video Model's controlNet presets, "|"-separated
	DefaultWidth              int
	DefaultHeight             int
}

// IsVideo tells whether the Model renders videos (generateVideo).
func (m modelView) IsVideo() bool { return m.Kind == aimg.MTypeVideo }

// createForm is the form as submitted (strings: shown back as typed).
type createForm struct {
	Models                          []modelView
	Model                           modelView // the selected one
	Prompt, NegPrompt               string
	Steps, Seed, Width, Height, CFG string
	Sampler, Count                  string
	Counts                          []int
	Watch                           []card // the Items just asked for
	Batch                           string // their batch, when there are several
	SamplePrompt, SampleNegPrompt   string // a placeholder from the configured sample prompts
	Samples                         []config.SamplePrompt
	// A video Model's fields: its preset, and the source image (one of
	// the caller's completed images, or an upload).
	Preset, Input string
	Inputs        []card
	MaxUpload     int64 // the upload route's body budget, for create.js
}

func (s *Server) models() []modelView {
	var out []modelView
	for _, m := range s.Generation.Models(nil) {
		if m.Kind != aimg.MTypeImage && m.Kind != aimg.MTypeVideo {
			continue
		}
		v := modelView{Model: m, Widths: joinInts(m.AllowedWidths), Heights: joinInts(m.AllowedHeights),
			Samplers: strings.Join(m.AllowedSamplers, "|"), Presets: strings.Join(m.ControlNetPresets, "|")}
		if len(m.DefaultResolution) == 2 {
			v.DefaultWidth, v.DefaultHeight = m.DefaultResolution[0], m.DefaultResolution[1]
		}
		out = append(out, v)
	}
	return out
}

// newCreateForm is the empty form for the Model named (else the default).
func (s *Server) newCreateForm(modelID string) *createForm {
	f := &createForm{Models: s.models(), Count: "1", MaxUpload: s.imageBudget()}
	for i := 1; i <= MaxCount; i++ {
		f.Counts = append(f.Counts, i)
	}
	if modelID == "" {
		modelID = generation.DefaultImageModel
	}
	for _, m := range f.Models {
		if m.ModelID == modelID {
			f.Model = m
		}
	}
	if f.Model.ModelID == "" && len(f.Models) > 0 {
		f.Model = f.Models[0]
	}
	m := f.Model
	f.Steps = strconv.Itoa(min(max(generation.DefaultSteps, m.MinSteps), max(m.MaxSteps, m.MinSteps)))
	f.Width, f.Height, f.Sampler = strconv.Itoa(m.DefaultWidth), strconv.Itoa(m.DefaultHeight), m.DefaultSampler
	f.CFG = strconv.FormatFloat(min(max(generation.DefaultCFGScale, m.MinCfgScale), m.MaxCfgScale), 'g', -1, 64)
	f.Samples = s.Generation.SamplePrompts(false)
	if len(f.Samples) > 0 {
		f.SamplePrompt, f.SampleNegPrompt = f.Samples[0].PositivePrompt, f.Samples[0].NegativePrompt
	}
	return f
}

// createView is the Create page's view of f.
func (s *Server) createView(r *http.Request, c aimg.Caller, f *createForm) (*view, error) {
	if f.Model.IsVideo() {
		inputs, err := s.inputChoices(r, c)
		if err != nil {
			return nil, err
		}
		f.Inputs = inputs
	}
	v := s.newView(r, c, "Create", f)
	v.Scripts = []string{"create.js", "progress.js"}
	return v, nil
}

func (s *Server) createPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	q := r.URL.Query()
	f := s.newCreateForm(q.Get("model"))
	if watch := q.Get("watch"); watch != "" {
		ids, ok := itemIDs(watch)
		if !ok {
			s.fail(w, r, c, aimg.Invalid("watch", "must be Item ids, comma-separated"))
			return
		}
		for _, id := range ids {
			it, err := s.Library.GetItem(r.Context(), c, id)
			if err != nil {
				s.fail(w, r, c, err)
				return
			}
			cd, err := s.card(r, c, it.Item)
			if err != nil {
				s.fail(w, r, c, err)
				return
			}
			cd.Watch = watch
			f.Watch = append(f.Watch, cd)
		}
	}
	if b := q.Get("batch"); b != "" {
		u, err := uuid.Parse(b)
		if err != nil {
			s.fail(w, r, c, aimg.Invalid("batch", "must be a batch id"))
			return
		}
		f.Batch = u.String()
	}
	v, err := s.createView(r, c, f)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.render(w, r, http.StatusOK, "create", v)
}

// create is the form's submit for either kind of Model; createVideo (the
// upload route, create_video.go) is the same with an input image.
func (s *Server) create(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	f := s.newCreateForm(r.PostFormValue("modelName"))
	f.Prompt, f.NegPrompt = r.PostFormValue("prompt"), r.PostFormValue("negprompt")
	f.Steps, f.Seed, f.CFG = r.PostFormValue("steps"), r.PostFormValue("seed"), r.PostFormValue("cfgscale")
	f.Width, f.Height, f.Sampler = r.PostFormValue("width"), r.PostFormValue("height"), r.PostFormValue("sampler")
	f.Count, f.Preset, f.Input = r.PostFormValue("count"), r.PostFormValue("controlNetPreset"), r.PostFormValue("input")
	var ids []string
	var batch string
	var err error
	if f.Model.IsVideo() && f.Model.ModelID == r.PostFormValue("modelName") {
		ids, err = s.generateVideo(r, c, f)
	} else {
		ids, batch, err = s.generate(r, c, f)
	}
	if err != nil {
		v, verr := s.createView(r, c, f)
		if verr != nil {
			s.fail(w, r, c, verr)
			return
		}
		s.render(w, r, statusOf(err), "create", v.withError(err))
		return
	}
	q := url.Values{"model": {f.Model.ModelID}, "watch": {strings.Join(ids, ",")}}
	if batch != "" {
		q.Set("batch", batch)
	}
	seeOther(w, r, "/create?"+q.Encode())
}

// generate asks the generation service for the form's images and returns
// the new Items' ids, and their batch's when there are several.
func (s *Server) generate(r *http.Request, c aimg.Caller, f *createForm) ([]string, string, error) {
	req := generation.ImageRequest{Prompt: f.Prompt, NegPrompt: f.NegPrompt, ModelName: r.PostFormValue("modelName")}
	var err error
	if req.Steps, err = formInt("steps", f.Steps); err != nil {
		return nil, "", err
	}
	if req.Width, err = formInt("width", f.Width); err != nil {
		return nil, "", err
	}
	if req.Height, err = formInt("height", f.Height); err != nil {
		return nil, "", err
	}
	if req.Seed, err = formSeed(f.Seed); err != nil {
		return nil, "", err
	}
	if f.Sampler != "" {
		req.Sampler = &f.Sampler
	}
	if f.CFG != "" {
		v, err := strconv.ParseFloat(f.CFG, 64)
		if err != nil {
			return nil, "", aimg.Invalid("cfgscale", "must be a number, got %s", aimg.Quote(f.CFG))
		}
		req.CFGScale = &v
	}
	count, err := formInt("count", f.Count)
	if err != nil {
		return nil, "", err
	}
	if count != nil && (*count < 1 || *count > MaxCount) {
		return nil, "", aimg.Invalid("count", "must be between 1 and %d", MaxCount)
	}
	if count == nil || *count == 1 {
		st, err := s.Generation.GenerateImage(r.Context(), c, req)
		if err != nil {
			return nil, "", err
		}
		return []string{st.ImageID}, "", nil
	}
	b, err := s.Generation.GenerateImages(r.Context(), c, req, *count)
	if err != nil {
		return nil, "", err
	}
	return b.Job.ItemIDs, b.Job.BatchID, nil
}

// formSeed reads the optional seed field.
func formSeed(v string) (*int64, error) {
	seed, err := formInt("seed", v)
	if err != nil || seed == nil {
		return nil, err
	}
	n := int64(*seed)
	return &n, nil
}

// formInt reads an optional whole-number field ("" = not given); the
// service checks its range.
func formInt(field, v string) (*int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, aimg.Invalid(field, "must be a whole number, got %s", aimg.Quote(v))
	}
	return &n, nil
}

// maxWatched bounds the ids a page watches (the event stream takes at
// most generation.itemEvents.maxItems; a Create submit makes MaxCount).
const maxWatched = 32

// itemIDs parses a comma-separated list of Item ids (UUIDs).
func itemIDs(list string) ([]string, bool) {
	ids := strings.Split(list, ",")
	if len(ids) > maxWatched {
		return nil, false
	}
	for i, id := range ids {
		u, err := uuid.Parse(strings.TrimSpace(id))
		if err != nil {
			return nil, false
		}
		ids[i] = u.String()
	}
	return ids, true
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

// Limits is the Model's limits in words, as the picker shows them.
func (m modelView) Limits() string {
	if m.IsVideo() {
		return m.videoLimits()
	}
	parts := []string{
		fmt.Sprintf("Sizes: %s wide, %s high", strings.ReplaceAll(m.Widths, ",", ", "), strings.ReplaceAll(m.Heights, ",", ", ")),
		fmt.Sprintf("steps %d–%d", m.MinSteps, m.MaxSteps),
		"samplers: " + strings.Join(m.AllowedSamplers, ", "),
		fmt.Sprintf("CFG %g–%g", m.MinCfgScale, m.MaxCfgScale),
	}
	if m.MaxResolution > 0 {
		parts = append(parts, fmt.Sprintf("at most %d pixels", m.MaxResolution))
	}
	if m.MinTier > 0 {
		parts = append(parts, fmt.Sprintf("PRO tier %d or above", m.MinTier))
	}
	if m.RegistrationWall {
		parts = append(parts, "for signed-in accounts")
	}
	return strings.Join(parts, "; ") + "."
}

package web

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/generation"
)

// Video Models on the Create page: generateVideo's fields (steps, seed,
// controlNet preset, source image). A video's frames, frame rate and size
// are the Model's own (generateVideo takes none of them), so the page
// states them. The source image is one of the caller's completed images
// (generateVideo's `input`), or an upload on the one route whose body may
// carry an image (uploadRoute), decoded by the generation service under
// the server's decode budget.

// uploadRoute is the one route with the image body budget.
const uploadRoute = "/create/video"

// maxInputChoices is how many of the caller's newest images the source
// picker offers.
const maxInputChoices = 24

// imageBudget is the upload route's body budget: the API's for a body that
// carries an image (http.maxImageBodyBytes).
func (s *Server) imageBudget() int64 {
	return max(s.Config.Service.HTTP.MaxImageBodyBytes, maxFormBytes)
}

// createVideo is the Create form of a video Model, with its optional
// upload ("inputImage"); the rest is create's.
func (s *Server) createVideo(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.create(w, r, c)
}

// generateVideo asks the generation service for the form's video.
func (s *Server) generateVideo(r *http.Request, c aimg.Caller, f *createForm) ([]string, error) {
	req := generation.VideoRequest{Prompt: f.Prompt, ModelName: f.Model.ModelID, ControlNetPreset: f.Preset, Input: f.Input}
	var err error
	if req.Steps, err = formInt("steps", f.Steps); err != nil {
		return nil, err
	}
	if req.Seed, err = formSeed(f.Seed); err != nil {
		return nil, err
	}
	if req.InputImage, err = uploadedImage(r); err != nil {
		return nil, err
	}
	st, err := s.Generation.GenerateVideo(r.Context(), c, req)
	if err != nil {
		return nil, err
	}
	return []string{st.ImageID}, nil
}

// uploadedImage is the upload's bytes (nil: none; the route's body budget
// bounds them).
func uploadedImage(r *http.Request) ([]byte, error) {
	if r.MultipartForm == nil || r.URL.Path != uploadRoute {
		return nil, nil
	}
	file, _, err := r.FormFile(generation.InputImageField)
	if errors.Is(err, http.ErrMissingFile) {
		return nil, nil
	}
	if err != nil {
		return nil, aimg.Invalid(generation.InputImageField, "could not be read: %v", err)
	}
	defer file.Close()
	data, err := io.ReadAll(file)
	if err != nil {
		return nil, aimg.Invalid(generation.InputImageField, "could not be read: %v", err)
	}
	return data, nil
}

// inputChoices are the caller's newest completed images, for the source
// picker.
func (s *Server) inputChoices(r *http.Request, c aimg.Caller) ([]card, error) {
	list, err := s.Library.MyCreations(r.Context(), c, aimg.ItemFilter{MType: aimg.MTypeImage}, aimg.Page{Limit: maxInputChoices})
	if err != nil {
		return nil, err
	}
	var out []card
	for _, v := range list.Items {
		it := v.Item
		if it.Status != aimg.StatusCompleted || it.FileID == "" {
			continue
		}
		out = append(out, card{ID: it.ID, Prompt: it.Prompt, Status: string(it.Status)})
	}
	return out, nil
}

// videoLimits is a video Model's limits in words.
func (m modelView) videoLimits() string {
	parts := []string{fmt.Sprintf("Video, %d × %d", m.DefaultWidth, m.DefaultHeight)}
	if m.Frames > 0 && m.FPS > 0 {
		parts = append(parts, fmt.Sprintf("%d frames at %d fps (a %s s loop)", m.Frames, m.FPS,
			strings.TrimSuffix(fmt.Sprintf("%.1f", float64(m.Frames)/float64(m.FPS)), ".0")))
	}
	parts = append(parts, fmt.Sprintf("steps %d–%d", m.MinSteps, m.MaxSteps))
	if len(m.ControlNetPresets) > 0 {
		parts = append(parts, "presets: "+strings.Join(m.ControlNetPresets, ", "))
	}
	if m.MinTier > 0 {
		parts = append(parts, fmt.Sprintf("PRO tier %d or above", m.MinTier))
	}
	if m.RegistrationWall {
		parts = append(parts, "for signed-in accounts")
	}
	return strings.Join(parts, "; ") + "."
}

// createAction is where the form of m posts to.
func (m modelView) Action() string {
	if m.IsVideo() {
		return uploadRoute
	}
	return "/create"
}

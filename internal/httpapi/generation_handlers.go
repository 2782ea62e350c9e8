package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/generation"
)

// Model is the spec's Model object.
type Model struct {
	ModelID            string                `json:"modelID"`
	Name               string                `json:"name"`
	Description        string                `json:"description"`
	MediaType          string                `json:"mediaType"`
	MinTier            int                   `json:"minTier"`
	Tier0Concurrent    int                   `json:"tier0Concurrent"`
	Tier1Concurrent    int                   `json:"tier1Concurrent"`
	Tier2Concurrent    int                   `json:"tier2Concurrent"`
	PositiveTokens     []string              `json:"positiveTokens"`
	NegativeTokens     []string              `json:"negativeTokens"`
	SampleImages       []aimg.ImageThumbnail `json:"sampleImages"`
	MinSteps           int                   `json:"minSteps"`
	MaxSteps           int                   `json:"maxSteps"`
	AllowedWidths      []int                 `json:"allowedWidths"`
	AllowedHeights     []int                 `json:"allowedHeights"`
	MaxResolution      int                   `json:"maxResolution"`
	DefaultResolution  []int                 `json:"defaultResolution"`
	AllowedSamplers    []string              `json:"allowedSamplers"`
	DefaultSampler     string                `json:"defaultSampler"`
	MinCfgScale        float64               `json:"minCfgScale"`
	MaxCfgScale        float64               `json:"maxCfgScale"`
	SupportsVariations bool                  `json:"supportsVariations"`
	RegistrationWall   bool                  `json:"registrationWall"`
	DefaultFaceFix     bool                  `json:"defaultFaceFix"`
	WikiURL            string                `json:"wikiURL,omitempty"`
}

func modelOut(m aimg.Model) Model {
	return Model{
		ModelID: m.ModelID, Name: m.Name, Description: m.Description, MediaType: m.MediaType, MinTier: m.MinTier,
		Tier0Concurrent: m.Tier0Concurrent, Tier1Concurrent: m.Tier1Concurrent, Tier2Concurrent: m.Tier2Concurrent,
		PositiveTokens: nonNil(m.PositiveTokens), NegativeTokens: nonNil(m.NegativeTokens),
		SampleImages: nonNil(m.SampleImages), MinSteps: m.MinSteps, MaxSteps: m.MaxSteps,
		AllowedWidths: nonNil(m.AllowedWidths), AllowedHeights: nonNil(m.AllowedHeights),
		MaxResolution: m.MaxResolution, DefaultResolution: nonNil(m.DefaultResolution),
		AllowedSamplers: nonNil(m.AllowedSamplers), DefaultSampler: m.DefaultSampler,
		MinCfgScale: m.MinCfgScale, MaxCfgScale: m.MaxCfgScale, SupportsVariations: m.SupportsVariations,
		RegistrationWall: m.RegistrationWall, DefaultFaceFix: m.DefaultFaceFix, WikiURL: m.WikiURL,
	}
}

// Prompt is the spec's Prompt object.
type Prompt struct {
	PositivePrompt string `json:"positivePrompt"`
	NegativePrompt string `json:"negativePrompt,omitempty"`
	UserID         string `json:"userID,omitempty"`
}

type generateImageInput struct {
	Auth
	IdempotencyKey string `header:"Idempotency-Key" doc:"Repeating a key within 24 h returns the first request's status instead of generating again."`
	Body           struct {
		Prompt          string   `json:"prompt" required:"true"`
		NegPrompt       string   `json:"negprompt,omitempty"`
		ModelName       string   `json:"modelName,omitempty" doc:"Defaults to f222."`
		Steps           *int     `json:"steps,omitempty" doc:"Defaults to 20."`
		Seed            *int64   `json:"seed,omitempty" doc:"Random when absent or negative."`
		Subseed         *int64   `json:"subseed,omitempty"`
		SubseedStrength *float64 `json:"subseed_strength,omitempty"`
		Height          *int     `json:"height,omitempty"`
		Width           *int     `json:"width,omitempty"`
		Sampler         *string  `json:"sampler,omitempty" doc:"Defaults to DPM++ 2M Karras."`
		CFGScale        *float64 `json:"cfgscale,omitempty" doc:"Defaults to 7; allowed 1..12 and inside the Model's range."`
		RestoreFaces    *bool    `json:"restoreFaces,omitempty"`
		FolderID        string   `json:"folderID,omitempty"`
	}
}

type generateVideoInput struct {
	Auth
	IdempotencyKey string `header:"Idempotency-Key" doc:"Repeating a key within 24 h returns the first request's status instead of generating again."`
	Body           struct {
		Prompt           string `json:"prompt" required:"true"`
		ModelName        string `json:"modelName,omitempty" doc:"Defaults to model3."`
		Steps            *int   `json:"steps,omitempty" doc:"Defaults to 20."`
		Seed             *int64 `json:"seed,omitempty" doc:"Random when absent or negative."`
		RestoreFaces     *bool  `json:"restoreFaces,omitempty"`
		Input            string `json:"input,omitempty" doc:"A completed image Item of yours to animate (image-to-video)."`
		ControlNetPreset string `json:"controlNetPreset,omitempty" doc:"A preset name declared by the Model."`
		FolderID         string `json:"folderID,omitempty"`
	}
}

type itemStatusInput struct {
	Auth
	ImageID string `query:"imageID" required:"true"`
}

type modelsInput struct {
	Auth
	ModelIDs string `query:"modelIDs" doc:"Comma-separated Model ids (a JSON array is accepted too)."`
}

type samplePromptsInput struct {
	Auth
	RandomOne bool `query:"randomOne"`
}

func (s *Server) generateImage(ctx context.Context, c aimg.Caller, in *generateImageInput) (*Response[*generation.Status], error) {
	b := in.Body
	st, err := s.Generation.GenerateImage(ctx, c, generation.ImageRequest{
		Prompt: b.Prompt, NegPrompt: b.NegPrompt, ModelName: b.ModelName, Steps: b.Steps, Seed: b.Seed,
		Subseed: b.Subseed, SubseedStrength: b.SubseedStrength, Width: b.Width, Height: b.Height,
		Sampler: b.Sampler, CFGScale: b.CFGScale, RestoreFaces: b.RestoreFaces, FolderID: b.FolderID,
		IdempotencyKey: in.IdempotencyKey,
	})
	if err != nil {
		return nil, err
	}
	return reply(st)
}

func (s *Server) generateVideo(ctx context.Context, c aimg.Caller, in *generateVideoInput) (*Response[*generation.Status], error) {
	b := in.Body
	st, err := s.Generation.GenerateVideo(ctx, c, generation.VideoRequest{
		Prompt: b.Prompt, ModelName: b.ModelName, Steps: b.Steps, Seed: b.Seed, RestoreFaces: b.RestoreFaces,
		Input: b.Input, ControlNetPreset: b.ControlNetPreset, FolderID: b.FolderID,
		IdempotencyKey: in.IdempotencyKey,
	})
	if err != nil {
		return nil, err
	}
	return reply(st)
}

func (s *Server) getItemStatus(ctx context.Context, c aimg.Caller, in *itemStatusInput) (*Response[*generation.Status], error) {
	st, err := s.Generation.ItemStatus(ctx, c, in.ImageID)
	if err != nil {
		return nil, err
	}
	return reply(st)
}

func (s *Server) getModels(ctx context.Context, _ aimg.Caller, in *modelsInput) (*Response[[]Model], error) {
	ids, err := parseIDList("modelIDs", in.ModelIDs)
	if err != nil {
		return nil, err
	}
	out := []Model{}
	for _, m := range s.Generation.Models(ids) {
		out = append(out, modelOut(m))
	}
	return reply(out)
}

func (s *Server) getQueuesLength(ctx context.Context, _ aimg.Caller, in *modelsInput) (*Response[[]generation.QueueLength], error) {
	ids, err := parseIDList("modelIDs", in.ModelIDs)
	if err != nil {
		return nil, err
	}
	out, err := s.Generation.QueueLengths(ctx, ids)
	if err != nil {
		return nil, err
	}
	return reply(out)
}

func (s *Server) getSamplePrompts(ctx context.Context, _ aimg.Caller, in *samplePromptsInput) (*Response[[]Prompt], error) {
	out := []Prompt{}
	for _, p := range s.Generation.SamplePrompts(in.RandomOne) {
		out = append(out, Prompt{PositivePrompt: p.PositivePrompt, NegativePrompt: p.NegativePrompt})
	}
	return reply(out)
}

package httpapi

import (
	"context"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/generation/workflows"
)

// API2 (spec "API2: User Management" and "API2: Workflows"), mounted at
// /api/2/...: signed-in Users of PRO tier 1 or more (docs/decisions.md
// "API2 (issue 9)").

// API2Session is getUserSession's userSession.
type API2Session struct {
	ID                   string `json:"_id"`
	Domain               string `json:"domain"`
	IsAtLeast18Confirmed bool   `json:"isAtLeast18Confirmed"`
	UpdatedDate          string `json:"updatedDate"`
	UserID               string `json:"userID"`
}

// API2User is getUserSession's user.
type API2User struct {
	ID                 string   `json:"_id"`
	Email              string   `json:"email"`
	Username           string   `json:"username"`
	Domain             string   `json:"domain"`
	CreatedDate        string   `json:"createdDate"`
	IsDisabled         bool     `json:"isDisabled"`
	Roles              []string `json:"roles"`
	FlaggedImagesCount int64    `json:"flaggedImagesCount"`
}

// API2UserSession is getUserSession's payload.
type API2UserSession struct {
	UserSession API2Session `json:"userSession"`
	User        API2User    `json:"user"`
}

// WorkflowTemplate is the spec's WorkflowTemplate.
type WorkflowTemplate struct {
	Name                  string                            `json:"name"`
	Description           string                            `json:"description,omitempty"`
	Deployments           []string                          `json:"deployments"`
	Parameters            []workflows.Parameter             `json:"parameters"`
	WorkflowTemplateFiles map[string]workflows.TemplateFile `json:"workflowTemplateFiles"`
}

// FileGroupItems is getFileGroupItems' payload.
type FileGroupItems struct {
	FileNames []string `json:"fileNames"`
}

type api2Input struct {
	Auth
}

type workflowTemplatesInput struct {
	Auth
	WorkflowTemplateNames string `query:"workflowTemplateNames" doc:"Comma-separated Workflow Template names (a JSON array is accepted too)."`
}

type fileGroupInput struct {
	Auth
	FileGroup string `query:"fileGroup" doc:"The file group's name, as a Workflow Template defines it. Mandatory."`
}

type workflowStatusInput struct {
	Auth
	WorkflowID  string `query:"workflowId" doc:"One Workflow's id; this or workflowIds is required."`
	WorkflowIDs string `query:"workflowIds" doc:"Comma-separated Workflow ids (at most 100); the answer is then an array."`
}

type enqueueWorkflowInput struct {
	Auth
	Body struct {
		WorkflowTemplateName string                      `json:"workflowTemplateName" doc:"Mandatory."`
		Parameters           []aimg.WorkflowRunParameter `json:"parameters,omitempty" maxItems:"256" doc:"Values by parameter name (or optionName), always as strings."`
		Prompt               *string                     `json:"prompt,omitempty" doc:"The Positive Prompt parameter."`
		NegPrompt            *string                     `json:"negprompt,omitempty" doc:"The Negative Prompt parameter."`
		Seed                 *float64                    `json:"seed,omitempty" doc:"The Seed parameter; negative: random."`
		Subseed              *float64                    `json:"subseed,omitempty" doc:"The Subseed parameter (when the template has one)."`
		SubseedStrength      *float64                    `json:"subseed_strength,omitempty" doc:"The Subseed Strength parameter (when the template has one)."`
		Steps                *float64                    `json:"steps,omitempty" doc:"The Steps parameter."`
		CFGScale             *float64                    `json:"cfgscale,omitempty" doc:"The CFG Scale parameter."`
		ModelName            string                      `json:"modelName,omitempty" doc:"A Model id (that Model runs the workflow) or the Model (checkpoint) parameter's value."`
		Lora                 []string                    `json:"lora,omitempty" maxItems:"64" doc:"The Lora 1..N parameters."`
		LoraStrength         []float64                   `json:"lora_strength,omitempty" maxItems:"64" doc:"The Lora 1..N Strength parameters."`
		Height               *float64                    `json:"height,omitempty" doc:"The Height parameter."`
		Width                *float64                    `json:"width,omitempty" doc:"The Width parameter."`
		BatchSize            *float64                    `json:"batchSize,omitempty" doc:"The Batch Size parameter: that many Items (at most 16)."`
		FolderID             string                      `json:"folderID,omitempty"`
	}
}

func (s *Server) api2GetUserSession(ctx context.Context, c aimg.Caller, _ *api2Input) (*Response[API2UserSession], error) {
	if err := s.Generation.API2Access(c); err != nil {
		return nil, err
	}
	u := c.User
	flagged, _, err := s.Library.ReportCounts(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return reply(API2UserSession{
		UserSession: API2Session{ID: c.Session.ID, Domain: u.Domain, IsAtLeast18Confirmed: u.IsAtLeast18Confirmed,
			UpdatedDate: isoTime(u.UpdatedAt), UserID: u.ID},
		User: API2User{ID: u.ID, Email: u.Email, Username: u.Username, Domain: u.Domain, CreatedDate: isoTime(u.CreatedAt),
			IsDisabled: u.Disabled(), Roles: roles, FlaggedImagesCount: flagged},
	})
}

func (s *Server) api2GetWorkflowTemplates(_ context.Context, c aimg.Caller, in *workflowTemplatesInput) (*Response[[]WorkflowTemplate], error) {
	if err := s.Generation.API2Access(c); err != nil {
		return nil, err
	}
	out := []WorkflowTemplate{}
	for _, t := range s.Generation.Templates(SplitCommaList(in.WorkflowTemplateNames)) {
		wt := WorkflowTemplate{Name: t.Name, Description: t.Description, Deployments: nonNil(t.Deployments),
			Parameters: nonNil(t.Parameters), WorkflowTemplateFiles: t.Files}
		if wt.WorkflowTemplateFiles == nil {
			wt.WorkflowTemplateFiles = map[string]workflows.TemplateFile{}
		}
		out = append(out, wt)
	}
	return reply(out)
}

func (s *Server) api2GetFileGroupItems(_ context.Context, c aimg.Caller, in *fileGroupInput) (*Response[FileGroupItems], error) {
	if err := s.Generation.API2Access(c); err != nil {
		return nil, err
	}
	names, err := s.Generation.FileGroupItems(in.FileGroup)
	if err != nil {
		return nil, err
	}
	return reply(FileGroupItems{FileNames: names})
}

func (s *Server) api2GetWorkflowStatus(ctx context.Context, c aimg.Caller, in *workflowStatusInput) (*Response[any], error) {
	if in.WorkflowIDs == "" {
		if in.WorkflowID == "" {
			if err := s.Generation.API2Access(c); err != nil {
				return nil, err
			}
			return nil, aimg.Invalid("workflowId", "workflowId or workflowIds is required")
		}
		st, err := s.Generation.WorkflowStatus(ctx, c, in.WorkflowID)
		if err != nil {
			return nil, err
		}
		return reply[any](st)
	}
	ids := SplitCommaList(in.WorkflowIDs)
	if in.WorkflowID != "" {
		ids = append([]string{in.WorkflowID}, ids...)
	}
	list, err := s.Generation.WorkflowStatuses(ctx, c, ids)
	if err != nil {
		return nil, err
	}
	return reply[any](list)
}

func (s *Server) api2EnqueueWorkflow(ctx context.Context, c aimg.Caller, in *enqueueWorkflowInput) (*Response[*generation.Enqueued], error) {
	b := in.Body
	res, err := s.Generation.EnqueueWorkflow(ctx, c, generation.WorkflowRequest{
		TemplateName: b.WorkflowTemplateName, Parameters: b.Parameters, Prompt: b.Prompt, NegPrompt: b.NegPrompt,
		Seed: b.Seed, Subseed: b.Subseed, SubseedStrength: b.SubseedStrength, Steps: b.Steps, CFGScale: b.CFGScale,
		ModelName: b.ModelName, Lora: b.Lora, LoraStrength: b.LoraStrength, Width: b.Width, Height: b.Height,
		BatchSize: b.BatchSize, FolderID: b.FolderID,
	})
	if err != nil {
		return nil, err
	}
	return reply(res)
}

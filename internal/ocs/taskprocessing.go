package ocs

import (
	"context"
	"encoding/json"
	"net/http"

	"aimg/internal/aimg"
	"aimg/internal/tasks"
)

// The TaskProcessing API (Nextcloud 30+), which current clients speak.

// tkTaskJSON is OCP\TaskProcessing\Task::jsonSerialize, in its key order.
type tkTaskJSON struct {
	ID                   int64           `json:"id"`
	Type                 string          `json:"type"`
	LastUpdated          int64           `json:"lastUpdated"`
	Status               string          `json:"status"`
	UserID               *string         `json:"userId"`
	AppID                string          `json:"appId"`
	Input                json.RawMessage `json:"input"`
	Output               json.RawMessage `json:"output"`
	CustomID             string          `json:"customId"`
	CompletionExpectedAt *int64          `json:"completionExpectedAt"`
	Progress             *float64        `json:"progress"`
	ScheduledAt          *int64          `json:"scheduledAt"`
	StartedAt            *int64          `json:"startedAt"`
	EndedAt              *int64          `json:"endedAt"`
}

func (s *Server) tkJSON(c *call, t *aimg.Task) tkTaskJSON { return taskJSON(t, s.userIDOf(c, t)) }

// taskJSON is t as TaskProcessing shows it, with userID as its userId.
func taskJSON(t *aimg.Task, userID *string) tkTaskJSON {
	out := t.Output
	if out == nil {
		out = json.RawMessage("null")
	}
	return tkTaskJSON{ID: t.ID, Type: t.Type, LastUpdated: t.LastUpdated.Unix(), Status: t.Status.String(),
		UserID: userID, AppID: t.AppID, Input: t.Input, Output: out, CustomID: t.CustomID,
		CompletionExpectedAt: unixOf(t.CompletionExpectedAt), Progress: t.Progress,
		ScheduledAt: unixOf(&t.ScheduledAt), StartedAt: unixOf(t.StartedAt), EndedAt: unixOf(t.EndedAt)}
}

func anyType(string) bool { return true }

// shapeJSON is ShapeDescriptor::jsonSerialize.
type shapeJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Type        string `json:"type"`
}

// taskTypeJSON is one entry of tasktypes, in Nextcloud's key order; maps
// render as JSON objects ({} when empty), as PHP's associative arrays.
type taskTypeJSON struct {
	Name                          string                       `json:"name"`
	Description                   string                       `json:"description"`
	InputShape                    map[string]shapeJSON         `json:"inputShape"`
	InputShapeEnumValues          map[string][]tasks.EnumValue `json:"inputShapeEnumValues"`
	InputShapeDefaults            map[string]any               `json:"inputShapeDefaults"`
	OptionalInputShape            map[string]shapeJSON         `json:"optionalInputShape"`
	OptionalInputShapeEnumValues  map[string][]tasks.EnumValue `json:"optionalInputShapeEnumValues"`
	OptionalInputShapeDefaults    map[string]any               `json:"optionalInputShapeDefaults"`
	OutputShape                   map[string]shapeJSON         `json:"outputShape"`
	OutputShapeEnumValues         map[string][]tasks.EnumValue `json:"outputShapeEnumValues"`
	OptionalOutputShape           map[string]shapeJSON         `json:"optionalOutputShape"`
	OptionalOutputShapeEnumValues map[string][]tasks.EnumValue `json:"optionalOutputShapeEnumValues"`
}

func shapes(in []tasks.Shape) map[string]shapeJSON {
	out := map[string]shapeJSON{}
	for _, sh := range in {
		out[sh.Key] = shapeJSON{Name: sh.Name, Description: sh.Description, Type: sh.Type}
	}
	return out
}

func (s *Server) tkTypes(ctx context.Context, c *call) (Response, error) {
	types, err := s.opts.Tasks.Types(ctx)
	if err != nil {
		return Response{}, err
	}
	out := map[string]taskTypeJSON{}
	for _, t := range types {
		enums, defaults := t.Enums, t.Defaults
		if enums == nil {
			enums = map[string][]tasks.EnumValue{}
		}
		if defaults == nil {
			defaults = map[string]any{}
		}
		out[t.ID] = taskTypeJSON{
			Name: t.Name, Description: t.Description,
			InputShape: shapes(t.Input), InputShapeEnumValues: enums, InputShapeDefaults: defaults,
			OptionalInputShape: shapes(t.Optional), OptionalInputShapeEnumValues: map[string][]tasks.EnumValue{},
			OptionalInputShapeDefaults: map[string]any{},
			OutputShape:                shapes(t.Output), OutputShapeEnumValues: map[string][]tasks.EnumValue{},
			OptionalOutputShape: map[string]shapeJSON{}, OptionalOutputShapeEnumValues: map[string][]tasks.EnumValue{},
		}
	}
	return ok(map[string]any{"types": out}), nil
}

func (s *Server) tkSchedule(ctx context.Context, c *call) (Response, error) {
	var input map[string]any
	switch v := c.params["input"].(type) {
	case map[string]any:
		input = v
	case []any: // a PHP list: only the empty one is a valid (empty) input
		if len(v) > 0 {
			return Response{}, aimg.Invalid("input", "must be an object of the task type's input slots")
		}
		input = map[string]any{}
	default:
		return Response{}, aimg.Invalid("input", "must be an object of the task type's input slots")
	}
	typ, err := c.required("type")
	if err != nil {
		return Response{}, err
	}
	appID, err := c.required("appId")
	if err != nil {
		return Response{}, err
	}
	customID, _, err := c.str("customId")
	if err != nil {
		return Response{}, err
	}
	hookURI, _, err := c.str("webhookUri")
	if err != nil {
		return Response{}, err
	}
	hookMethod, _, err := c.str("webhookMethod")
	if err != nil {
		return Response{}, err
	}
	if hookURI != "" {
		if hookMethod == "" {
			hookMethod = "HTTP:POST"
		}
		if s.opts.CheckWebhook == nil {
			return Response{}, aimg.Invalid("webhookUri", "webhooks are not enabled on this server")
		}
		if err := s.opts.CheckWebhook(hookURI, hookMethod, s.opts.AllowPrivateWebhooks); err != nil {
			return Response{}, err
		}
	}
	if err := s.guestSession(ctx, c); err != nil {
		return Response{}, err
	}
	t, err := s.opts.Tasks.Schedule(ctx, c.caller, tasks.NewTask{Type: typ, Input: input, AppID: appID, CustomID: customID,
		WebhookURI: hookURI, WebhookMethod: hookMethod})
	if err != nil {
		return scheduleError(err, "The given provider is not available")
	}
	return ok(map[string]any{"task": s.tkJSON(c, t)}), nil
}

func (s *Server) tkTask(ctx context.Context, c *call) (Response, error) {
	return oneTask(ctx, s, c, anyType, false, s.tkJSON)
}

// tkDelete answers null whether or not the task was there, as Nextcloud.
func (s *Server) tkDelete(ctx context.Context, c *call) (Response, error) {
	id, valid := c.pathID("id")
	if valid {
		if _, err := s.opts.Tasks.Delete(ctx, c.caller, id); err != nil && !aimg.IsNotFound(err) {
			return Response{}, err
		}
	}
	return ok(json.RawMessage("null")), nil // DataResponse(null), not the default []
}

func (s *Server) tkCancel(ctx context.Context, c *call) (Response, error) {
	t, err := s.lookup(ctx, c, anyType)
	if err != nil {
		return Response{}, err
	}
	if t, err = s.opts.Tasks.Cancel(ctx, c.caller, t.ID); err != nil {
		return Response{}, err
	}
	return ok(map[string]any{"task": s.tkJSON(c, t)}), nil
}

func (s *Server) tkByApp(ctx context.Context, c *call) (Response, error) {
	ts, err := s.byApp(ctx, c, "customId", nil)
	if err != nil {
		return Response{}, err
	}
	return s.taskList(c, ts), nil
}

func (s *Server) tkList(ctx context.Context, c *call) (Response, error) {
	typ, err := c.optional("taskType")
	if err != nil {
		return Response{}, err
	}
	custom, err := c.optional("customId")
	if err != nil {
		return Response{}, err
	}
	f := aimg.TaskFilter{CustomID: custom}
	if typ != nil && *typ != "" {
		f.Types = []string{*typ}
	}
	ts, err := s.opts.Tasks.Tasks(ctx, c.caller, f)
	if err != nil {
		return Response{}, err
	}
	return s.taskList(c, ts), nil
}

func (s *Server) taskList(c *call, ts []aimg.Task) Response {
	out := make([]tkTaskJSON, len(ts))
	for i := range ts {
		out[i] = s.tkJSON(c, &ts[i])
	}
	return ok(map[string]any{"tasks": out})
}

// tkFile answers the bytes of a file of the task's output
// (DataDownloadResponse), or 404 "Not found".
func (s *Server) tkFile(ctx context.Context, c *call) (Response, error) {
	taskID, okTask := c.pathID("id")
	fileID, okFile := c.pathID("fileId")
	var (
		id  string
		err error = aimg.Errorf(aimg.CodeNotFound, "Not found")
	)
	if okTask && okFile {
		id, err = s.opts.Tasks.File(ctx, c.caller, taskID, fileID)
	}
	if aimg.IsNotFound(err) {
		return failure(http.StatusNotFound, "Not found"), nil
	}
	if err != nil {
		return Response{}, err
	}
	return Response{}, s.serveFile(ctx, c, id, true)
}

package ocs

import (
	"context"
	"net/http"

	"aimg/internal/aimg"
	"aimg/internal/tasks"
)

// The legacy text2image and textprocessing APIs (Nextcloud 27.1/28), on
// the same tasks as TaskProcessing.

// t2iTaskJSON is OCP\TextToImage\Task::jsonSerialize, in its key order.
type t2iTaskJSON struct {
	ID                   int64   `json:"id"`
	Status               int     `json:"status"`
	UserID               *string `json:"userId"`
	AppID                string  `json:"appId"`
	Input                string  `json:"input"`
	Identifier           *string `json:"identifier"`
	NumberOfImages       int64   `json:"numberOfImages"`
	CompletionExpectedAt *int64  `json:"completionExpectedAt"`
}

func (s *Server) t2iJSON(c *call, t *aimg.Task) t2iTaskJSON {
	prompt, n := inputOf(t)
	id := t.CustomID
	return t2iTaskJSON{ID: t.ID, Status: legacyStatus(t.Status), UserID: s.userIDOf(c, t), AppID: t.AppID, Input: prompt,
		Identifier: &id, NumberOfImages: n,
		CompletionExpectedAt: unixOf(t.CompletionExpectedAt)}
}

// oneTask answers {"task": ...} with the caller's task of the route, as
// render shows it; del deletes it first (the answer is the task as it was
// when deleted).
func oneTask[T any](ctx context.Context, s *Server, c *call, visible func(string) bool, del bool, render func(*call, *aimg.Task) T) (Response, error) {
	t, err := s.lookup(ctx, c, visible)
	if err != nil {
		return Response{}, err
	}
	if del {
		if t, err = s.opts.Tasks.Delete(ctx, c.caller, t.ID); err != nil {
			return Response{}, err
		}
	}
	return ok(map[string]any{"task": render(c, t)}), nil
}

func isT2I(typ string) bool { return typ == aimg.TaskTypeText2Image }

func (s *Server) t2iAvailable(ctx context.Context, c *call) (Response, error) {
	types, err := s.opts.Tasks.Types(ctx)
	if err != nil {
		return Response{}, err
	}
	available := false
	for _, t := range types {
		available = available || t.ID == aimg.TaskTypeText2Image
	}
	return ok(map[string]bool{"isAvailable": available}), nil
}

func (s *Server) t2iSchedule(ctx context.Context, c *call) (Response, error) {
	input, err := c.required("input")
	if err != nil {
		return Response{}, err
	}
	appID, err := c.required("appId")
	if err != nil {
		return Response{}, err
	}
	identifier, _, err := c.str("identifier")
	if err != nil {
		return Response{}, err
	}
	in := map[string]any{"input": input}
	if v, present := c.params["numberOfImages"]; present {
		in["numberOfImages"] = v
	}
	if err := s.guestSession(ctx, c); err != nil {
		return Response{}, err
	}
	t, err := s.opts.Tasks.Schedule(ctx, c.caller, tasks.NewTask{Type: aimg.TaskTypeText2Image, Input: in, AppID: appID, CustomID: identifier})
	if err != nil {
		return scheduleError(err, "No text to image provider is available")
	}
	return ok(map[string]any{"task": s.t2iJSON(c, t)}), nil
}

func (s *Server) t2iTask(ctx context.Context, c *call) (Response, error) {
	return oneTask(ctx, s, c, isT2I, false, s.t2iJSON)
}

// t2iImage answers the raw image (FileDisplayResponse), or 404 "Image not
// found" while the task has not succeeded or the index is out of range.
func (s *Server) t2iImage(ctx context.Context, c *call) (Response, error) {
	t, err := s.lookup(ctx, c, isT2I)
	if err != nil {
		return Response{}, err
	}
	index, valid := c.pathID("index")
	fileID, err := "", aimg.Errorf(aimg.CodeNotFound, "Image not found")
	if valid {
		fileID, err = s.opts.Tasks.Image(ctx, c.caller, t.ID, int(index))
	}
	if aimg.IsNotFound(err) {
		return failure(http.StatusNotFound, "Image not found"), nil
	}
	if err != nil {
		return Response{}, err
	}
	return Response{}, s.serveFile(ctx, c, fileID, false)
}

func (s *Server) t2iDelete(ctx context.Context, c *call) (Response, error) {
	return oneTask(ctx, s, c, isT2I, true, s.t2iJSON)
}

func (s *Server) t2iByApp(ctx context.Context, c *call) (Response, error) {
	ts, err := s.byApp(ctx, c, "identifier", []string{aimg.TaskTypeText2Image})
	if err != nil {
		return Response{}, err
	}
	out := make([]t2iTaskJSON, len(ts))
	for i := range ts {
		out[i] = s.t2iJSON(c, &ts[i])
	}
	return ok(map[string]any{"tasks": out}), nil
}

// byApp lists the caller's tasks of the path's appId, optionally of one
// identifier (the parameter idParam), among types.
func (s *Server) byApp(ctx context.Context, c *call, idParam string, types []string) ([]aimg.Task, error) {
	custom, err := c.optional(idParam)
	if err != nil {
		return nil, err
	}
	return s.opts.Tasks.Tasks(ctx, c.caller, aimg.TaskFilter{AppID: c.r.PathValue("appId"), CustomID: custom, Types: types})
}

// tpTaskJSON is OCP\TextProcessing\Task::jsonSerialize, in its key order.
type tpTaskJSON struct {
	ID                   int64   `json:"id"`
	Type                 string  `json:"type"`
	Status               int     `json:"status"`
	UserID               *string `json:"userId"`
	AppID                string  `json:"appId"`
	Input                string  `json:"input"`
	Output               *string `json:"output"`
	Identifier           string  `json:"identifier"`
	CompletionExpectedAt *int64  `json:"completionExpectedAt"`
}

func (s *Server) tpJSON(c *call, t *aimg.Task) tpTaskJSON {
	prompt, _ := inputOf(t)
	var output *string
	if t.Output != nil {
		if v, ok := outputText(t); ok {
			output = &v
		}
	}
	return tpTaskJSON{ID: t.ID, Type: tasks.LegacyTextType(t.Type), Status: legacyStatus(t.Status), UserID: s.userIDOf(c, t),
		AppID: t.AppID, Input: prompt, Output: output, Identifier: t.CustomID,
		CompletionExpectedAt: unixOf(t.CompletionExpectedAt)}
}

func isLegacyText(typ string) bool { return tasks.LegacyTextType(typ) != "" }

func (s *Server) tpTypes(ctx context.Context, c *call) (Response, error) {
	types, err := s.opts.Tasks.Types(ctx)
	if err != nil {
		return Response{}, err
	}
	type typeJSON struct {
		ID          string `json:"id"`
		Name        string `json:"name"`
		Description string `json:"description"`
	}
	out := []typeJSON{}
	for _, t := range types {
		if t.Legacy != "" {
			out = append(out, typeJSON{ID: t.Legacy, Name: t.LegacyName, Description: t.LegacyDescription})
		}
	}
	return ok(map[string]any{"types": out}), nil
}

func (s *Server) tpSchedule(ctx context.Context, c *call) (Response, error) {
	input, err := c.required("input")
	if err != nil {
		return Response{}, err
	}
	legacy, err := c.required("type")
	if err != nil {
		return Response{}, err
	}
	appID, err := c.required("appId")
	if err != nil {
		return Response{}, err
	}
	identifier, _, err := c.str("identifier")
	if err != nil {
		return Response{}, err
	}
	typ, known := tasks.FromLegacyTextType(legacy)
	if !known {
		return failure(http.StatusBadRequest, "Requested task type does not exist"), nil
	}
	if err := s.guestSession(ctx, c); err != nil {
		return Response{}, err
	}
	t, err := s.opts.Tasks.Schedule(ctx, c.caller, tasks.NewTask{Type: typ, Input: map[string]any{"input": input}, AppID: appID, CustomID: identifier})
	if err != nil {
		return scheduleError(err, "Necessary language model provider is not available")
	}
	return ok(map[string]any{"task": s.tpJSON(c, t)}), nil
}

func (s *Server) tpTask(ctx context.Context, c *call) (Response, error) {
	return oneTask(ctx, s, c, isLegacyText, false, s.tpJSON)
}

func (s *Server) tpDelete(ctx context.Context, c *call) (Response, error) {
	return oneTask(ctx, s, c, isLegacyText, true, s.tpJSON)
}

func (s *Server) tpByApp(ctx context.Context, c *call) (Response, error) {
	ts, err := s.byApp(ctx, c, "identifier", tasks.LegacyTextTypes())
	if err != nil {
		return Response{}, err
	}
	out := make([]tpTaskJSON, len(ts))
	for i := range ts {
		out[i] = s.tpJSON(c, &ts[i])
	}
	return ok(map[string]any{"tasks": out}), nil
}

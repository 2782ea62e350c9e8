package ocs

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/files"
	"aimg/internal/tasks"
)

// routes is the whole table: Nextcloud's core/Controller/
// {TextToImageApi,TextProcessingApi,TranslationApi,TaskProcessingApi}Controller.php
// attributes, one row each (docs/decisions.md "The OCS surface").
func (s *Server) routes() []route {
	return []route{
		{method: "GET", path: "/text2image/is_available", who: public, h: s.t2iAvailable},
		{method: "POST", path: "/text2image/schedule", who: public, limit: "ocs.text2image.schedule", h: s.t2iSchedule},
		{method: "GET", path: "/text2image/task/{id}", who: public, h: s.t2iTask},
		{method: "GET", path: "/text2image/task/{id}/image/{index}", who: public, h: s.t2iImage},
		{method: "POST", path: "/text2image/task/{id}/image/{index}", who: public, h: s.t2iImage}, // the seed's verb
		{method: "DELETE", path: "/text2image/task/{id}", who: loggedIn, h: s.t2iDelete},
		{method: "GET", path: "/text2image/tasks/app/{appId}", who: loggedIn, limit: "ocs.tasksByApp", h: s.t2iByApp},

		{method: "GET", path: "/textprocessing/tasktypes", who: public, h: s.tpTypes},
		{method: "POST", path: "/textprocessing/schedule", who: public, limit: "ocs.textprocessing.schedule", h: s.tpSchedule},
		{method: "GET", path: "/textprocessing/task/{id}", who: public, h: s.tpTask},
		{method: "POST", path: "/textprocessing/task/{id}", who: public, h: s.tpTask}, // the seed's verb
		{method: "DELETE", path: "/textprocessing/task/{id}", who: loggedIn, h: s.tpDelete},
		{method: "GET", path: "/textprocessing/tasks/app/{appId}", who: loggedIn, limit: "ocs.tasksByApp", h: s.tpByApp},

		{method: "GET", path: "/translation/languages", who: public, h: s.trLanguages},
		{method: "POST", path: "/translation/translate", who: public, limit: "ocs.translate", h: s.trTranslate},

		{method: "GET", path: "/taskprocessing/tasktypes", who: public, h: s.tkTypes},
		{method: "POST", path: "/taskprocessing/schedule", who: public, limit: "ocs.taskprocessing.schedule", h: s.tkSchedule},
		{method: "GET", path: "/taskprocessing/task/{id}", who: public, h: s.tkTask},
		{method: "DELETE", path: "/taskprocessing/task/{id}", who: loggedIn, h: s.tkDelete},
		{method: "POST", path: "/taskprocessing/tasks/{id}/cancel", who: loggedIn, h: s.tkCancel},
		{method: "GET", path: "/taskprocessing/tasks/app/{appId}", who: loggedIn, h: s.tkByApp},
		{method: "GET", path: "/taskprocessing/tasks", who: loggedIn, h: s.tkList},
		{method: "GET", path: "/taskprocessing/tasks/{id}/file/{fileId}", who: loggedIn, noCSRF: true, h: s.tkFile},
	}
}

// lookup finds the caller's task id through an API that sees the types
// visible says; a miss (also a task of another API or user) is "Task not
// found" and spends a token of ocs.taskMiss, so guessing ids is throttled
// (Nextcloud's BruteForceProtection on these routes).
func (s *Server) lookup(ctx context.Context, c *call, visible func(string) bool) (*aimg.Task, error) {
	id, ok := c.pathID("id")
	var (
		t   *aimg.Task
		err error = errTaskNotFound
	)
	if ok {
		t, err = s.opts.Tasks.Task(ctx, c.caller, id)
	}
	if err == nil && !visible(t.Type) {
		err = errTaskNotFound
	}
	if aimg.IsNotFound(err) {
		if lerr := s.opts.Accounts.Allow(ctx, "ocs.taskMiss:ip", c.caller.ClientIP); lerr != nil {
			return nil, lerr
		}
		return nil, errTaskNotFound
	}
	return t, err
}

var errTaskNotFound = aimg.Errorf(aimg.CodeNotFound, "Task not found")

// serveFile writes a File's bytes as the answer (not an envelope).
func (s *Server) serveFile(ctx context.Context, c *call, fileID string, attachment bool) error {
	content, err := s.opts.Files.Open(ctx, fileID, files.OpenOptions{ClientIP: c.caller.ClientIP})
	if err != nil {
		return err
	}
	defer content.Close()
	h := c.w.Header()
	h.Set("Content-Type", content.ContentType)
	h.Set("Content-Length", strconv.FormatInt(content.Size, 10))
	h.Set("X-Content-Type-Options", "nosniff")
	disposition := "inline"
	if attachment {
		disposition = "attachment"
	}
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": content.Name}))
	c.written = true
	c.w.WriteHeader(http.StatusOK)
	if c.r.Method != http.MethodHead {
		_, _ = io.Copy(c.w, content)
	}
	return nil
}

// unixOf is a time as Unix seconds, nil for none.
func unixOf(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.Unix()
	return &v
}

// outputText is a text task's output slot.
func outputText(t *aimg.Task) (string, bool) {
	var out struct {
		Output *string `json:"output"`
	}
	if json.Unmarshal(t.Output, &out) != nil || out.Output == nil {
		return "", false
	}
	return *out.Output, true
}

// userIDOf is a task's userId: null for guests, as Nextcloud's anonymous tasks.
func (s *Server) userIDOf(c *call, t *aimg.Task) *string {
	if c.caller.User == nil || c.caller.User.IsGuest {
		return nil // the caller sees only its own tasks: a guest's
	}
	id := t.UserID
	return &id
}

// inputOf reads the input slots every task type has.
func inputOf(t *aimg.Task) (prompt string, images int64) {
	var in struct {
		Input          string `json:"input"`
		NumberOfImages int64  `json:"numberOfImages"`
	}
	_ = json.Unmarshal(t.Input, &in)
	return in.Input, in.NumberOfImages
}

// legacyStatus is a status in the legacy APIs, which know 0..4: a
// cancelled task is failed there.
func legacyStatus(st aimg.TaskStatus) int {
	if st == aimg.TaskCancelled {
		return int(aimg.TaskFailed)
	}
	return int(st)
}

// scheduleError maps a schedule failure: no provider is 412 with the
// API's message; the rest as usual.
func scheduleError(err error, noProvider string) (Response, error) {
	if errors.Is(err, tasks.ErrNoProvider) {
		return failure(http.StatusPreconditionFailed, noProvider), nil
	}
	return Response{}, err
}

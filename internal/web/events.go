package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/server"
)

// events is getItemEvents for the browser's EventSource, which cannot send
// X-Session-ID: the same stream of the same service, authorised by the
// session cookie, under the same per-user limit ("getItemEvents:user").
func (s *Server) events(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	ids, ok := itemIDs(r.URL.Query().Get("ids"))
	if !ok {
		writePlainError(w, r, http.StatusBadRequest, "ids: must be Item ids, comma-separated")
		return
	}
	key := c.ClientIP
	if c.User != nil {
		key = c.User.ID
	}
	if err := s.Accounts.Allow(r.Context(), "getItemEvents:user", key); err != nil {
		writePlainError(w, r, statusOf(err), publicMessage(err))
		return
	}
	st, err := s.Generation.OpenItemStream(r.Context(), c, ids)
	if err != nil {
		writePlainError(w, r, statusOf(err), publicMessage(err))
		return
	}
	defer st.Close()
	w = server.MovingWriteDeadline(w, s.Config.Service.HTTP.WriteTimeout, time.Now)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	sink := &eventSink{w: w, rc: http.NewResponseController(w)}
	if err := sink.write("retry: 5000\n\n"); err != nil {
		return
	}
	if err := st.Run(r.Context(), sink); err != nil && r.Context().Err() == nil {
		s.Logger.WarnContext(r.Context(), "web item event stream ended", "err", err)
	}
}

// publicMessage is err's client-safe message (never its cause).
func publicMessage(err error) string {
	var e *aimg.Error
	if errors.As(err, &e) && e.Code != aimg.CodeInternal {
		return e.Message
	}
	return "Internal error"
}

// eventSink writes the stream as text/event-stream, as the API does.
type eventSink struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

func (k *eventSink) write(s string) error {
	if _, err := fmt.Fprint(k.w, s); err != nil {
		return err
	}
	return k.rc.Flush()
}

func (k *eventSink) Event(ev generation.ItemEvent) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	return k.write("data: " + string(b) + "\n\n")
}

func (k *eventSink) KeepAlive() error { return k.write(": keep-alive\n\n") }

func (k *eventSink) End(why generation.StreamEnd) error {
	b, _ := json.Marshal(map[string]string{"reason": string(why)})
	return k.write("event: end\ndata: " + string(b) + "\n\n")
}

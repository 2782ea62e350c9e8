package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// EventStream writes Server-Sent Events (text/event-stream), each flushed
// at once.
type EventStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// StartEventStream answers 200 with the stream's headers and the client's
// reconnect delay. Each write moves the write deadline (MovingWriteDeadline),
// so the server's WriteTimeout never cuts a healthy stream while a client
// that stops reading is dropped after it.
func StartEventStream(w http.ResponseWriter, writeTimeout, retry time.Duration) (*EventStream, error) {
	w = MovingWriteDeadline(w, writeTimeout, time.Now)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	s := &EventStream{w: w, rc: http.NewResponseController(w)}
	return s, s.write(fmt.Sprintf("retry: %d\n\n", retry.Milliseconds()))
}

func (s *EventStream) write(text string) error {
	if _, err := fmt.Fprint(s.w, text); err != nil {
		return err
	}
	return s.rc.Flush()
}

// Data sends v as one unnamed event ("data: <JSON>"; JSON is one line).
func (s *EventStream) Data(v any) error { return s.Named("", v) }

// Named sends v as an event of the given name ("" = unnamed).
func (s *EventStream) Named(event string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	text := "data: " + string(b) + "\n\n"
	if event != "" {
		text = "event: " + event + "\n" + text
	}
	return s.write(text)
}

// Comment sends a comment line, which clients ignore (a keep-alive).
func (s *EventStream) Comment(text string) error { return s.write(": " + text + "\n\n") }

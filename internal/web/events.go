package web

import (
	"errors"
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
	es, err := server.StartEventStream(w, s.Config.Service.HTTP.WriteTimeout, 5*time.Second)
	if err != nil {
		return
	}
	if err := st.Run(r.Context(), generation.EventSink(es)); err != nil && r.Context().Err() == nil {
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

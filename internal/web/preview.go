package web

import (
	"net/http"
	"strconv"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Live previews (docs/decisions.md "Live previews"): while an Item
// generates, its card shows the latest preview its worker sent
// (progress.js sets the image to /items/{id}/preview?v=N when an event's
// previewVersion changes).

func (s *Server) previewPages(page route) {
	page("GET /items/{id}/preview", s.itemPreview)
}

// itemPreview answers the Item's latest preview to its owner while it
// generates; anyone else, and an Item without one, gets 404 (the
// generation service's rule, as for the Item's status).
func (s *Server) itemPreview(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if c.User == nil { // only an owner sees it: a stranger counts as on the Item page
		if err := s.allow(r, c, library.OpenItemRateLimit); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	p, err := s.Generation.ItemPreview(r.Context(), c, r.PathValue("id"))
	if err != nil {
		writePlainError(w, r, statusOf(err), publicMessage(err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", p.ContentType) // sniffed when stored: PNG, JPEG or WebP
	h.Set("Content-Length", strconv.Itoa(len(p.Data)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Preview-Version", strconv.FormatInt(p.Version, 10))
	_, _ = w.Write(p.Data)
}

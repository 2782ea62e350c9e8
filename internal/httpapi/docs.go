package httpapi

import (
	"net/http"

	"github.com/swaggest/swgui/v5emb"
)

// mountDocs serves the browsable API documentation (Swagger UI) at
// /api/docs/ with its scripts and styles embedded in the binary, so that it
// works offline.
func (s *Server) mountDocs() {
	s.mux.Handle("GET /api/docs/", v5emb.New("AIMG API", "/api/openapi.json", "/api/docs/"))
	s.mux.Handle("GET /api/docs", http.RedirectHandler("/api/docs/", http.StatusMovedPermanently))
}

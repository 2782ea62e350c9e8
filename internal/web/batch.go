package web

import (
	"net/http"
	"net/url"

	"aimg/internal/aimg"
)

// A batch's Items (getBatchItems): the Items one request made, with live
// cards (progress.js). The service's access rules hold: only the owner
// (or an Admin) sees a batch; anyone else gets its "Batch not found".

func (s *Server) batchPages(page route) {
	page("GET /batches/{id}", s.batchPage)
	s.bodyBudgets[uploadRoute] = bodyBudget{s.imageBudget(), "The upload (the image and the form)"}
	page("POST "+uploadRoute, s.createVideo) // create_video.go: the Create form with an image
}

// BatchPath is the page of the batch batchID ("" for none).
func BatchPath(batchID string) string {
	if batchID == "" {
		return ""
	}
	return "/batches/" + url.PathEscape(batchID)
}

// batchLink is the batch page of it, for the Item page's link (templates:
// {{with batchLink $it}}...{{end}}).
func batchLink(it *aimg.Item) string {
	if it == nil {
		return ""
	}
	return BatchPath(it.BatchID)
}

// batchView is one batch's page.
type batchView struct {
	ID     string
	Cards  []card
	Done   int // Items completed
	Prompt string
}

func (s *Server) batchPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("id")
	ds, err := s.Library.BatchItems(r.Context(), c, id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	b := &batchView{ID: id}
	for _, d := range ds {
		cd, err := s.card(r, c, d.Item)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		if cd.Status == string(aimg.StatusCompleted) {
			b.Done++
		}
		b.Cards = append(b.Cards, cd)
	}
	if len(ds) > 0 {
		b.Prompt = ds[0].Item.Prompt
	}
	v := s.newView(r, c, "Batch", b)
	v.Scripts = []string{"progress.js"}
	s.render(w, r, http.StatusOK, "batch", v)
}

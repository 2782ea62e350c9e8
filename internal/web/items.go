package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// card is one Item as the Create page, the gallery and the Item page show
// it: a thumbnail when done, else its live state (progress.js updates it).
type card struct {
	ID, Status, Prompt string
	State              string // the state in words
	Steps              int
	Progress           float64 // 0..1
	Thumb              image
	CSRF               string
	Watch              string // the Create page's watched ids, for cancel's way back
}

// Active tells whether the Item may still change (and be cancelled).
func (c card) Active() bool {
	return c.Status == string(aimg.StatusQueued) || c.Status == string(aimg.StatusProcessing)
}

// image is an <img>'s src and srcset at the server's snapped sizes
// (files.variantSizes), so that thumbnails are made once per size.
type image struct {
	Src, SrcSet string
}

// imageOf is the file at the snapped size nearest want (fit), with every
// snapped size up to twice want in the srcset for dense screens.
func (s *Server) imageOf(fileID string, want int, mode string) image {
	if fileID == "" {
		return image{}
	}
	at := func(size int) string {
		return "/api/getFile?" + url.Values{"id": {fileID}, "width": {strconv.Itoa(size)},
			"height": {strconv.Itoa(size)}, "mode": {mode}}.Encode()
	}
	var img image
	var set []string
	for _, size := range s.Config.Service.Files.VariantSizes {
		if size < want/2 || size > want*2 {
			continue
		}
		if img.Src == "" && size >= want {
			img.Src = at(size)
		}
		set = append(set, fmt.Sprintf("%s %dw", at(size), size))
	}
	if img.Src == "" { // no resizing configured: the original
		img.Src = "/api/getFile?" + url.Values{"id": {fileID}}.Encode()
		return img
	}
	img.SrcSet = strings.Join(set, ", ")
	return img
}

// thumbSize is the gallery's thumbnail side in CSS pixels.
const thumbSize = 256

// card reads it's live state: the queue position and progress come from
// the generation service (getItemStatus).
func (s *Server) card(r *http.Request, c aimg.Caller, it *aimg.Item) (card, error) {
	cd := card{ID: it.ID, Status: string(it.Status), Prompt: it.Prompt, Steps: it.Params.Steps, CSRF: s.csrfToken(c),
		Thumb: s.imageOf(it.FileID, thumbSize, "fill")}
	switch it.Status {
	case aimg.StatusCompleted:
		cd.State, cd.Progress = "Done", 1
	case aimg.StatusFailed:
		cd.State = "Failed"
		if it.Error != "" {
			cd.State += ": " + it.Error
		}
	default:
		st, err := s.Generation.ItemStatus(r.Context(), c, it.ID)
		if err != nil {
			return cd, err
		}
		cd.Status = string(st.Status)
		cd.State = stateText(st.Status, st.QueuePosition, st.Progress, it.Params.Steps)
		if st.Progress != nil {
			cd.Progress = *st.Progress
		}
	}
	return cd, nil
}

// stateText is a live Item's state in words; progress.js says the same.
func stateText(st aimg.ItemStatus, pos *int64, progress *float64, steps int) string {
	if st == aimg.StatusQueued {
		if pos != nil {
			return fmt.Sprintf("Queued, position %d", *pos)
		}
		return "Queued"
	}
	if progress != nil && steps > 0 {
		return fmt.Sprintf("Generating, step %d of %d", int(*progress*float64(steps)+0.5), steps)
	}
	return "Generating"
}

// creationsPage is one page of the gallery.
type creationsPage struct {
	Cards []card
	Total int64
	More  string // the next page's URL; "" on the last page
}

// galleryPage is how many Items a gallery page holds.
const galleryPage = 24

// creations is My creations, newest first, by paginationIndex (?before=,
// the Unix ms of the last Item shown); gallery.js loads the next page as
// the "More" link scrolls into view.
func (s *Server) creations(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	p := aimg.Page{Limit: galleryPage}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			s.fail(w, r, c, aimg.Invalid("before", "must be a paginationIndex (Unix ms)"))
			return
		}
		p.Index = n
	}
	list, err := s.Library.MyCreations(r.Context(), c, aimg.ItemFilter{}, p)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	page := &creationsPage{Total: list.Total}
	for _, it := range list.Items {
		cd, err := s.card(r, c, it.Item)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		page.Cards = append(page.Cards, cd)
	}
	if list.Next != nil {
		page.More = "/creations?before=" + strconv.FormatInt(*list.Next, 10)
	}
	v := s.newView(r, c, "My creations", page)
	v.Scripts = []string{"gallery.js", "progress.js"}
	s.render(w, r, http.StatusOK, "creations", v)
}

// itemPage is the Item detail: parameters, download, delete. Whoever may
// not see the Item (another user's private one) gets the service's 404.
type itemPage struct {
	library.Details
	Card  card
	Large image
	Owner bool // the caller's own Item: it may be deleted
}

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	d, err := s.Library.GetItemDetails(r.Context(), c, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	cd, err := s.card(r, c, d.Item)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	p := &itemPage{Details: d, Card: cd, Large: s.imageOf(d.Item.FileID, 1024, "fit"),
		Owner: c.User != nil && c.User.ID == d.Item.UserID}
	v := s.newView(r, c, "Item", p)
	v.Scripts = []string{"progress.js"}
	s.render(w, r, http.StatusOK, "item", v)
}

// cancel cancels the Item's Job (its batch's other Items too, as
// cancelGeneration does), then goes back to where the card was.
func (s *Server) cancel(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("id")
	res, err := s.Generation.Cancel(r.Context(), c, []string{id}, "")
	if err == nil && len(res) == 1 && res[0].Err != nil {
		err = res[0].Err
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if watch := r.PostFormValue("watch"); watch != "" {
		if ids, ok := itemIDs(watch); ok {
			seeOther(w, r, "/create?"+url.Values{"watch": {strings.Join(ids, ",")}}.Encode())
			return
		}
	}
	seeOther(w, r, "/items/"+url.PathEscape(id))
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	res, err := s.Library.DeleteItems(r.Context(), c, []string{r.PathValue("id")}, "")
	if err == nil && len(res) == 1 && res[0].Err != nil {
		err = res[0].Err
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	seeOther(w, r, "/creations")
}

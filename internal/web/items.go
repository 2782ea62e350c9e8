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
	Alt                string // the thumbnail's text: the prompt, else what is known
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
	cd := card{ID: it.ID, Status: string(it.Status), Prompt: it.Prompt, Alt: it.Prompt, Steps: it.Params.Steps,
		CSRF: s.csrfToken(c), Thumb: s.imageOf(it.FileID, thumbSize, "fill")}
	if cd.Alt == "" { // a listing's summary carries no prompt
		cd.Alt = altText(it, nil)
	}
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

// creationsPage is one page of the gallery, with its filters.
type creationsPage struct {
	Cards   []card
	Total   int64
	More    string // the next page's URL, with the filters; "" on the last page
	Filter  creationsFilter
	Folders []folderOption // the filter's Folders (signed-in accounts)
}

// creationsFilter is getMyCreations' filters as the query string has them
// (the API's names), kept as sent so that the form shows them back.
type creationsFilter struct {
	MType, IsPublic, Approval, FolderID string
}

// query is the filter as a query string's values ("" = not filtered).
func (f creationsFilter) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{"mtype": f.MType, "isPublic": f.IsPublic, "publicApprovalStatus": f.Approval, "folderID": f.FolderID} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

// Filtered tells whether any filter is set.
func (f creationsFilter) Filtered() bool { return len(f.query()) > 0 }

// itemFilter is the service's filter; the service checks mtype and
// publicApprovalStatus, the page only parses isPublic.
func (f creationsFilter) itemFilter() (aimg.ItemFilter, error) {
	out := aimg.ItemFilter{MType: f.MType, Approval: f.Approval, FolderID: f.FolderID}
	switch f.IsPublic {
	case "":
	case "true", "false":
		pub := f.IsPublic == "true"
		out.IsPublic = &pub
	default:
		return out, aimg.Invalid("isPublic", "must be true or false")
	}
	return out, nil
}

// galleryPage is how many Items a gallery page holds.
const galleryPage = 24

// pageBefore reads ?before= (the Unix ms of the last Item shown).
func pageBefore(r *http.Request) (aimg.Page, error) {
	p := aimg.Page{Limit: galleryPage}
	if b := r.URL.Query().Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n < 0 {
			return p, aimg.Invalid("before", "must be a paginationIndex (Unix ms)")
		}
		p.Index = n
	}
	return p, nil
}

// creations is My creations, newest first, by paginationIndex (?before=,
// the Unix ms of the last Item shown) and filtered as getMyCreations is;
// gallery.js loads the next page as the "More" link scrolls into view,
// and that link carries the filters.
func (s *Server) creations(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	p, err := pageBefore(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	q := r.URL.Query()
	page := &creationsPage{Filter: creationsFilter{MType: q.Get("mtype"), IsPublic: q.Get("isPublic"),
		Approval: q.Get("publicApprovalStatus"), FolderID: q.Get("folderID")}}
	v := s.newView(r, c, "My creations", page)
	v.Scripts = []string{"gallery.js", "progress.js"}
	if page.Folders, err = s.folderOptions(r, c); err != nil {
		s.fail(w, r, c, err)
		return
	}
	f, err := page.Filter.itemFilter()
	if err == nil {
		err = checkFolderOption(page.Folders, f.FolderID)
	}
	var list library.Creations
	if err == nil {
		list, err = s.Library.MyCreations(r.Context(), c, f, p)
	}
	if err != nil {
		s.render(w, r, statusOf(err), "creations", v.withError(err))
		return
	}
	page.Total = list.Total
	if page.Cards, err = s.cards(r, c, list.Items); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if list.Next != nil {
		more := page.Filter.query()
		more.Set("before", strconv.FormatInt(*list.Next, 10))
		page.More = "/creations?" + more.Encode()
	}
	s.render(w, r, http.StatusOK, "creations", v)
}

// cards are the cards of a listing's Items.
func (s *Server) cards(r *http.Request, c aimg.Caller, items []library.View) ([]card, error) {
	out := make([]card, 0, len(items))
	for _, it := range items {
		cd, err := s.card(r, c, it.Item)
		if err != nil {
			return nil, err
		}
		out = append(out, cd)
	}
	return out, nil
}

// itemPage is the Item detail: parameters, download, and the actions the
// caller may take (library_items.go). Whoever may not see the Item
// (another user's private one) gets the service's 404.
type itemPage struct {
	library.Details
	Card  card
	Large image
	Owner bool // the caller's own Item
	// CanReact: the caller has a user record (a guest too), as likeItems
	// needs; CanReport: a signed-in account's, not the owner's.
	CanReact, CanReport bool
	Queues              []string       // getReportQueues
	Folders             []folderOption // the owner's Folders to move it to
	Folder              *folderOption  // the Folder it is in; nil = root
	Notice              string
}

// largeOf is the Item page's picture: a still image at the snapped size
// nearest 1024 px; a moving one as it is, since a resized variant keeps
// only its first frame.
func (s *Server) largeOf(it *aimg.Item) image {
	if it.MediaType == "AnimatedImage" && it.FileID != "" {
		return image{Src: "/api/getFile?" + url.Values{"id": {it.FileID}}.Encode()}
	}
	return s.imageOf(it.FileID, 1024, "fit")
}

// Completed tells whether the Item is done (what tags, likes, Folders and
// approval need).
func (p *itemPage) Completed() bool { return p.Item.Status == aimg.StatusCompleted }

func (s *Server) itemPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if c.User == nil {
		if err := s.allow(r, c, library.OpenItemRateLimit); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	s.showItem(w, r, c, nil)
}

// showItem renders the Item page; after a refused action, with the
// service's error next to the form's field and its status.
func (s *Server) showItem(w http.ResponseWriter, r *http.Request, c aimg.Caller, failed error) {
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
	p := &itemPage{Details: d, Card: cd, Large: s.largeOf(d.Item),
		Owner: c.User != nil && c.User.ID == d.Item.UserID, CanReact: c.User != nil}
	p.CanReport = c.SignedIn() && !p.Owner
	if p.CanReport {
		p.Queues = s.Library.ReportQueues(c)
	}
	if p.Owner {
		if p.Folders, err = s.folderOptions(r, c); err != nil {
			s.fail(w, r, c, err)
			return
		}
		for i := range p.Folders {
			if p.Folders[i].ID == d.Item.FolderID && d.Item.FolderID != "" {
				p.Folder = &p.Folders[i]
			}
		}
	}
	p.Notice = notices[r.URL.Query().Get("done")]
	v := s.newView(r, c, "Item", p)
	v.Scripts = []string{"progress.js"}
	s.renderAfter(w, r, "item", v, failed)
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
	if err == nil {
		err = itemErr(res)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	seeOther(w, r, "/creations")
}

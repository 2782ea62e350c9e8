package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Library pages (docs/decisions.md "Web UI: library pages"): the Item
// page's actions (tags, likes, public approval, Folder, report) and the
// Folders (folders.go). Each action is one library call, the one the API's
// handler makes; its error is shown next to the form's field.

func (s *Server) libraryPages(page route) {
	page("POST /items/{id}/tags", s.addTags)
	page("POST /items/{id}/tags/remove", s.removeTag)
	page("POST /items/{id}/react", s.react)
	page("POST /items/{id}/visibility", s.setVisibility)
	page("POST /items/{id}/move", s.moveItem)
	page("POST /items/{id}/report", s.reportItem)
	page("GET /folders", s.foldersPage)
	page("POST /folders", s.createFolder)
	page("GET /folders/{id}", s.folderPage)
	page("POST /folders/{id}", s.renameFolder)
	page("POST /folders/{id}/delete", s.deleteFolder)
	page("POST /folders/{id}/remove", s.removeFromFolder)
}

// notices are what the Item page says after an action that shows no
// change of its own (?done=).
var notices = map[string]string{
	"reported": "Reported. An Admin will review it; thank you.",
}

// itemErr is the error of a one-Item bulk call's only outcome.
func itemErr(res []library.ItemResult) error {
	if len(res) == 1 && res[0].Err != nil {
		return res[0].Err
	}
	return nil
}

// atField puts an error that names no field at field, so that it shows
// next to the form that caused it; internal errors stay as they are.
func atField(field string, err error) error {
	var e *aimg.Error
	if !errors.As(err, &e) || e.Field != "" || e.Code == aimg.CodeInternal {
		return err
	}
	c := *e
	c.Field = field
	return &c
}

// backToItem ends an Item action (post/redirect/get).
func backToItem(w http.ResponseWriter, r *http.Request, done string) {
	to := "/items/" + url.PathEscape(r.PathValue("id"))
	if done != "" {
		to += "?done=" + url.QueryEscape(done)
	}
	seeOther(w, r, to)
}

// tagNames splits the tags field at commas and white space.
func tagNames(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
}

// addTags is addTagsToItem; tags left out over the limit of 50 are said.
func (s *Server) addTags(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	res, err := s.Library.ChangeTags(r.Context(), c, aimg.TagAdd, r.PathValue("id"), "", tagNames(r.PostFormValue("tags")))
	if err == nil && len(res.OverLimit) > 0 {
		err = aimg.Invalid("tags", "not added, the Item already carries %d tags: %s", library.MaxTagsPerItem, strings.Join(res.OverLimit, ", "))
	}
	if err != nil {
		s.showItem(w, r, c, atField("tags", err))
		return
	}
	backToItem(w, r, "")
}

// removeTag is removeTagsFromItem for one tag.
func (s *Server) removeTag(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	if _, err := s.Library.ChangeTags(r.Context(), c, aimg.TagRemove, r.PathValue("id"), "", []string{r.PostFormValue("tag")}); err != nil {
		s.showItem(w, r, c, atField("tags", err))
		return
	}
	backToItem(w, r, "")
}

// reactions are the reaction form's values: the four reaction calls.
var reactions = map[string]library.Reaction{
	"like": library.Like, "unlike": library.Unlike, "dislike": library.Dislike, "undislike": library.Undislike,
}

// react is likeItems, unlikeItems, dislikeItems or undislikeItems for
// the Item; the page's buttons toggle (like, or unlike when liked).
func (s *Server) react(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	how, ok := reactions[r.PostFormValue("reaction")]
	if !ok {
		s.showItem(w, r, c, aimg.Invalid("reaction", "must be like, unlike, dislike or undislike"))
		return
	}
	res, err := s.Library.React(r.Context(), c, how, []string{r.PathValue("id")})
	if err == nil {
		err = itemErr(res)
	}
	if err != nil {
		s.showItem(w, r, c, atField("reaction", err))
		return
	}
	backToItem(w, r, "")
}

// setVisibility is setItemProperties: isPublic (true, false) or
// publicApprovalStatus (pending asks an Admin, none withdraws).
func (s *Server) setVisibility(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	var p library.ItemProperties
	if v, ok := r.PostForm["isPublic"]; ok {
		switch pub := v[0]; pub {
		case "true", "false":
			b := pub == "true"
			p.IsPublic = &b
		default:
			s.showItem(w, r, c, aimg.Invalid("isPublic", "must be true or false"))
			return
		}
	}
	if v, ok := r.PostForm["publicApprovalStatus"]; ok {
		p.PublicApprovalStatus = &v[0]
	}
	if _, err := s.Library.SetItemProperties(r.Context(), c, r.PathValue("id"), p); err != nil {
		s.showItem(w, r, c, atField("publicApprovalStatus", err))
		return
	}
	backToItem(w, r, "")
}

// moveItem is moveItemsBetweenFolders for the Item, from the Folder it is
// in to destinationFolderID (root: out of any Folder).
func (s *Server) moveItem(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("id")
	it, err := s.Library.GetItem(r.Context(), c, id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	res, err := s.Library.MoveBetweenFolders(r.Context(), c, it.Item.FolderID, r.PostFormValue("destinationFolderID"), []string{id})
	if err == nil {
		err = itemErr(res.Items)
	}
	if err != nil {
		s.showItem(w, r, c, atField("destinationFolderID", err))
		return
	}
	backToItem(w, r, "")
}

// reportItem is reportItems for the Item, under the API's limit per
// account ("reportItems:user").
func (s *Server) reportItem(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	var err error
	if c.User != nil {
		err = s.Accounts.Allow(r.Context(), "reportItems:user", c.User.ID)
	}
	var res []library.ReportResult
	if err == nil {
		res, err = s.Library.ReportItems(r.Context(), c, []string{r.PathValue("id")}, r.PostFormValue("reportQueue"), r.PostFormValue("additionalInformation"))
	}
	if err == nil && len(res) == 1 {
		err = res[0].Err
	}
	if err != nil {
		s.showItem(w, r, c, atField("report", err))
		return
	}
	backToItem(w, r, "reported")
}

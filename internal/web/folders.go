package web

import (
	"net/http"
	"net/url"
	"strconv"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// Folders (docs/decisions.md "Web UI: library pages"): a signed-in
// account's Private and Public Folders, made, renamed and deleted with
// the Folder calls of the API (createSelfFolder, createPublicFolder,
// setSelfFolderProperties, deleteSelfFolder, ...); a Folder's page is its
// Items (getMyCreations by folderID), each of which can be taken out
// (removeImagesFromSelfFolder). A Public Folder's page for everyone else
// is /f/{id} (feeds.go).

// folderListLimit is how many Folders of each kind the pages list: the
// newest ones (a Folder page takes any id).
const folderListLimit = 200

// folderOption is a Folder as a select or a list names it.
type folderOption struct {
	ID, Name, Description string
	Public                bool
	Count                 int64
	Thumb                 image
}

// folderKind is the kind an id names (Public Folder ids start with p-).
func folderKind(id string) library.FolderKind {
	return library.FolderKind(aimg.IsPublicFolderID(id))
}

// folderOptions are the caller's Private, then Public Folders, newest
// first; none for a caller who is not signed in (Folders are for
// signed-in accounts).
func (s *Server) folderOptions(r *http.Request, c aimg.Caller) ([]folderOption, error) {
	if !c.SignedIn() {
		return nil, nil
	}
	p := aimg.Page{Limit: folderListLimit}
	private, err := s.Library.Folders(r.Context(), c, nil, p)
	if err != nil {
		return nil, err
	}
	public, err := s.Library.PublicFolders(r.Context(), c, c.User.ID, nil, p)
	if err != nil {
		return nil, err
	}
	var out []folderOption
	for _, f := range append(private.Folders, public.Folders...) {
		o := folderOption{ID: f.Folder.ID, Name: f.Folder.Name, Description: f.Folder.Description,
			Public: f.Folder.Public(), Count: f.Folder.ImageCount}
		if len(f.Folder.Samples) > 0 {
			o.Thumb = s.imageOf(f.Folder.Samples[0].FileID, thumbSize, "fill")
		}
		out = append(out, o)
	}
	return out, nil
}

// checkFolderOption: a folderID filter is all (""), root, or one of the
// caller's Folders.
func checkFolderOption(folders []folderOption, id string) error {
	if id == "" || id == aimg.RootFolder {
		return nil
	}
	for _, f := range folders {
		if f.ID == id {
			return nil
		}
	}
	return aimg.Invalid("folderID", "is not one of your Folders")
}

// foldersPage is /folders: the lists and the new Folder's form as sent.
type foldersPage struct {
	Private, Public   []folderOption
	Kind, Name, Descr string
}

// folderSection is one of the page's two lists.
type folderSection struct {
	Title, Kind string
	Folders     []folderOption
}

// Sections are the Private, then the Public Folders.
func (p *foldersPage) Sections() []folderSection {
	return []folderSection{{"Private Folders", "private", p.Private}, {"Public Folders", "public", p.Public}}
}

func (s *Server) foldersPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.showFolders(w, r, c, &foldersPage{Kind: "private"}, nil)
}

func (s *Server) showFolders(w http.ResponseWriter, r *http.Request, c aimg.Caller, f *foldersPage, failed error) {
	// The service says why a guest or a visitor has no Folders.
	if _, err := s.Library.Folders(r.Context(), c, nil, aimg.Page{Limit: 1}); err != nil {
		s.fail(w, r, c, err)
		return
	}
	all, err := s.folderOptions(r, c)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	f.Private, f.Public = nil, nil
	for _, o := range all {
		if o.Public {
			f.Public = append(f.Public, o)
		} else {
			f.Private = append(f.Private, o)
		}
	}
	v := s.newView(r, c, "Folders", f)
	s.renderAfter(w, r, "folders", v, failed)
}

// createFolder is createSelfFolder (kind private) and createPublicFolder.
func (s *Server) createFolder(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	f := &foldersPage{Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"), Descr: r.PostFormValue("description")}
	var kind library.FolderKind
	switch f.Kind {
	case "private":
	case "public":
		kind = library.Public
	default:
		s.showFolders(w, r, c, f, aimg.Invalid("kind", "must be private or public"))
		return
	}
	var descr *string
	if f.Descr != "" {
		descr = &f.Descr
	}
	folder, err := s.Library.CreateFolder(r.Context(), c, kind, f.Name, descr)
	if err != nil {
		s.showFolders(w, r, c, f, err)
		return
	}
	seeOther(w, r, "/folders/"+url.PathEscape(folder.Folder.ID))
}

// folderPage is /folders/{id}: the Folder, its Items, and the rename
// form as sent.
type folderPage struct {
	Folder      library.Folder
	Name, Descr string
	Cards       []card
	More        string
}

// Public tells whether it is a Public Folder.
func (p *folderPage) Public() bool { return p.Folder.Folder.Public() }

func (s *Server) folderPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	s.showFolder(w, r, c, nil, nil)
}

// showFolder renders the Folder page; form is the rename form as sent
// (nil: the Folder's own texts) and failed the error to show.
func (s *Server) showFolder(w http.ResponseWriter, r *http.Request, c aimg.Caller, form *folderPage, failed error) {
	id := r.PathValue("id")
	f, err := s.Library.OwnFolder(r.Context(), c, id)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	p := &folderPage{Folder: f, Name: f.Folder.Name, Descr: f.Folder.Description}
	if form != nil {
		p.Name, p.Descr = form.Name, form.Descr
	}
	page, err := pageBefore(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	list, err := s.Library.MyCreations(r.Context(), c, aimg.ItemFilter{FolderID: id}, page)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if p.Cards, err = s.cards(r, c, list.Items); err != nil {
		s.fail(w, r, c, err)
		return
	}
	if list.Next != nil {
		p.More = "/folders/" + url.PathEscape(id) + "?before=" + strconv.FormatInt(*list.Next, 10)
	}
	v := s.newView(r, c, f.Folder.Name, p)
	v.Scripts = []string{"gallery.js"}
	s.renderAfter(w, r, "folder", v, failed)
}

// renameFolder is set…FolderProperties: the name and the description
// (empty removes it) as the form has them.
func (s *Server) renameFolder(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("id")
	form := &folderPage{Name: r.PostFormValue("folderName"), Descr: r.PostFormValue("folderDescription")}
	name, descr := form.Name, form.Descr
	if _, err := s.Library.SetFolderProperties(r.Context(), c, folderKind(id), id, &name, &descr); err != nil {
		s.showFolderOrFail(w, r, c, form, err)
		return
	}
	seeOther(w, r, "/folders/"+url.PathEscape(id))
}

// showFolderOrFail shows a refused form on the Folder page when the error
// is the form's; a Folder the caller cannot have is the error page.
func (s *Server) showFolderOrFail(w http.ResponseWriter, r *http.Request, c aimg.Caller, form *folderPage, err error) {
	if e, ok := err.(*aimg.Error); ok && e.Field != "" && e.Field != "folderID" {
		s.showFolder(w, r, c, form, err)
		return
	}
	s.fail(w, r, c, err)
}

// deleteFolder is delete…Folder: its Items go to the root Folder.
func (s *Server) deleteFolder(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("id")
	if err := s.Library.DeleteFolder(r.Context(), c, folderKind(id), id); err != nil {
		s.fail(w, r, c, err)
		return
	}
	seeOther(w, r, "/folders")
}

// removeFromFolder is removeImagesFrom…Folder for one Item (imageID).
func (s *Server) removeFromFolder(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("id")
	res, err := s.Library.RemoveFromFolder(r.Context(), c, folderKind(id), id, []string{r.PostFormValue("imageID")})
	if err == nil {
		err = itemErr(res.Items)
	}
	if err != nil {
		s.showFolderOrFail(w, r, c, nil, atField("imageID", err))
		return
	}
	seeOther(w, r, "/folders/"+url.PathEscape(id))
}

package web

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/library"
)

// A user's public page and a Public Folder's page, for anyone.

// folderCard is a Public Folder as a user's page lists it.
type folderCard struct {
	ID, Name string
	Count    int64
	Thumb    image
}

// newFolderCard shows f with its first Thumbnail, else its newest sample.
func (s *Server) newFolderCard(f library.Folder) folderCard {
	fc := folderCard{ID: f.Folder.ID, Name: f.Folder.Name, Count: f.Folder.ImageCount}
	for _, items := range [][]*aimg.Item{f.Folder.Thumbnails, f.Folder.Samples} {
		if len(items) > 0 {
			fc.Thumb = s.imageOf(items[0].FileID, thumbSize, "fill")
			break
		}
	}
	return fc
}

// userPageData is /u/{userID}: what anyone sees of a user (getUser), their
// Public Folders (getPublicFolders) and public Items (getPublicCreations).
type userPageData struct {
	ID, Name    string
	Picture     template.URL // the stored WebP data URI, checked
	Folders     []folderCard
	MoreFolders string
	Grid        feedGrid
}

func (s *Server) userPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("userID")
	p, err := pageBefore(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	// What getUser answers anyone: a live account's id, name and picture.
	u, err := s.Accounts.GetUser(r.Context(), c, account.Lookup{UserID: id})
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	d := &userPageData{ID: u.ID, Name: u.Username, Picture: pictureURL(u.ProfilePicture)}
	self := url.URL{Path: "/u/" + url.PathEscape(u.ID)}
	if p.Index == 0 { // the Folders head the first page; later ones are the grid's
		fp := aimg.Page{Limit: foldersShown}
		if fb := r.URL.Query().Get("foldersBefore"); fb != "" {
			if fp.Index, err = strconv.ParseInt(fb, 10, 64); err != nil || fp.Index < 0 {
				s.fail(w, r, c, aimg.Invalid("foldersBefore", "must be a paginationIndex (Unix ms)"))
				return
			}
		}
		if err := s.allow(r, c, publicFoldersLimit); err != nil {
			s.fail(w, r, c, err)
			return
		}
		folders, err := s.Library.PublicFolders(r.Context(), c, u.ID, nil, fp)
		if err != nil {
			s.fail(w, r, c, err)
			return
		}
		for _, f := range folders.Folders {
			d.Folders = append(d.Folders, s.newFolderCard(f))
		}
		if folders.Next != nil {
			d.MoreFolders = self.Path + "?foldersBefore=" + strconv.FormatInt(*folders.Next, 10)
		}
	}
	if err := s.allow(r, c, publicFeedsLimit); err != nil {
		s.fail(w, r, c, err)
		return
	}
	res, err := s.Library.PublicCreations(r.Context(), c, aimg.PublicFilter{UserID: u.ID}, p)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	d.Grid = s.newFeedGrid(res, self, "No public creations yet.")
	title := d.Name
	if title == "" {
		title = "A creator"
	}
	v := s.newView(r, c, title, d)
	v.Scripts = []string{"gallery.js"}
	s.render(w, r, http.StatusOK, "user", v)
}

// publicFolderData is /f/{folderID}: a Public Folder and its publicly
// visible Items.
type publicFolderData struct {
	Folder *aimg.Folder
	Grid   feedGrid
}

func (s *Server) publicFolderPage(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	id := r.PathValue("folderID")
	p, err := pageBefore(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.allow(r, c, publicFoldersLimit); err != nil {
		s.fail(w, r, c, err)
		return
	}
	list, err := s.Library.PublicFolders(r.Context(), c, "", []string{id}, aimg.Page{Limit: 1})
	if err == nil && len(list.Folders) == 0 {
		// Unknown, or its owner's Folders are not listed: what
		// getPublicCreations answers for that folderID.
		err = aimg.Errorf(aimg.CodeNotFound, "Public Folder not found")
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	f := list.Folders[0].Folder
	if err := s.allow(r, c, publicFeedsLimit); err != nil {
		s.fail(w, r, c, err)
		return
	}
	res, err := s.Library.PublicCreations(r.Context(), c, aimg.PublicFilter{FolderID: f.ID}, p)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	d := &publicFolderData{Folder: f,
		Grid: s.newFeedGrid(res, url.URL{Path: "/f/" + url.PathEscape(f.ID)}, "This Folder has no public Items yet.")}
	v := s.newView(r, c, f.Name, d)
	v.Scripts = []string{"gallery.js"}
	s.render(w, r, http.StatusOK, "publicfolder", v)
}

// pictureURL lets a profile picture into an <img src>: html/template
// refuses data: URIs, so only the form the account service stores (a
// base64 WebP data URI) is let through; anything else shows no picture.
func pictureURL(dataURI string) template.URL {
	const prefix = "data:image/webp;base64,"
	data, ok := strings.CutPrefix(dataURI, prefix)
	if !ok || data == "" {
		return ""
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return ""
	}
	return template.URL(dataURI)
}

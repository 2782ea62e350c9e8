package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/library"
)

// The public side: latest and public creations, a user's public page, a
// public folder; every page here works for a signed-out visitor. Each
// service call goes through the same per-address rate limit as the API
// operation that makes it (docs/security.md), so the pages are no way
// around those limits.

// The API's rate-limit rules (config rateLimits) of the calls these pages
// make: getPublicCreations and getLatestItems share publicFeeds:ip.
const (
	publicFeedsLimit   = "publicFeeds:ip"
	publicFoldersLimit = "getPublicFolders:ip"
	tagsListLimit      = "getTagsList:ip"
)

const (
	// feedLatest and feedPublic are /explore's tabs (?feed=).
	feedLatest = "latest"
	feedPublic = "public"
	// tagsShown is how many of the most used tags /explore lists.
	tagsShown = 40
	// foldersShown is how many Public Folders a user's page lists at once.
	foldersShown = 24
)

func (s *Server) feedPages(page route) {
	page("GET /explore", s.explore)
	page("GET /u/{userID}", s.userPage)
	page("GET /f/{folderID}", s.publicFolderPage)
}

// allow counts one call of the API operation limited by rule against the
// caller's address, as the API handler does before the same service call.
func (s *Server) allow(r *http.Request, c aimg.Caller, rule string) error {
	if c.Admin {
		return nil
	}
	return s.Accounts.Allow(r.Context(), rule, c.ClientIP)
}

// feedCard is one publicly visible Item in a feed. Feeds read Items
// without their prompts (the store's summary columns), so the thumbnail's
// text alternative says what is known: the kind, the tags, the date.
type feedCard struct {
	ID, UserID, Alt string
	Thumb           image
	Likes           int64
	Tags            []string
	Created         time.Time
}

// altText describes a feed's Item without its prompt.
func altText(it *aimg.Item, tags []string) string {
	alt := "An image"
	if it.MType == aimg.MTypeVideo {
		alt = "A video"
	}
	if len(tags) > 0 {
		alt += " tagged " + strings.Join(tags, ", ")
	}
	return alt + ", created " + it.CreatedAt.UTC().Format("2 Jan 2006")
}

// feedGrid is one page of a feed: its cards and the next page's URL
// (gallery.js follows it as it scrolls into view; "" on the last page).
type feedGrid struct {
	Cards []feedCard
	More  string
	Empty string // what an empty feed says
}

// newFeedGrid is the page of res; more is the next page's URL without its
// before= parameter.
func (s *Server) newFeedGrid(res library.Creations, more url.URL, empty string) feedGrid {
	g := feedGrid{Empty: empty, Cards: make([]feedCard, 0, len(res.Items))}
	for _, v := range res.Items {
		it := v.Item
		g.Cards = append(g.Cards, feedCard{ID: it.ID, UserID: it.UserID, Alt: altText(it, v.Tags), Likes: it.LikeCount,
			Tags: v.Tags, Created: it.CreatedAt, Thumb: s.imageOf(it.FileID, thumbSize, "fill")})
	}
	if res.Next != nil {
		q := more.Query()
		q.Set("before", strconv.FormatInt(*res.Next, 10))
		more.RawQuery = q.Encode()
		g.More = more.String()
	}
	return g
}

// feedTab is one of /explore's tabs.
type feedTab struct {
	Label, URL string
	Current    bool
}

// explorePage is /explore.
type explorePage struct {
	Feed string
	Tabs []feedTab
	Tag  string
	Grid feedGrid
	Tags []aimg.Tag // the most used tags; on the first page only
}

// explore is the public feeds: the latest published Items (getLatestItems)
// or every public creation, newest first (getPublicCreations), optionally
// of one tag, with the tags in use (getTagsList) to choose from.
func (s *Server) explore(w http.ResponseWriter, r *http.Request, c aimg.Caller) {
	q := r.URL.Query()
	feed, tag := q.Get("feed"), strings.ToLower(q.Get("tag")) // as the service reads it
	switch {
	case tag != "":
		feed = feedPublic // only that feed filters by tag
	case feed == "":
		feed = feedLatest
	case feed != feedLatest && feed != feedPublic:
		s.fail(w, r, c, aimg.Invalid("feed", "must be latest or public"))
		return
	}
	p, err := pageBefore(r)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if err := s.allow(r, c, publicFeedsLimit); err != nil {
		s.fail(w, r, c, err)
		return
	}
	var res library.Creations
	if feed == feedLatest {
		res, err = s.Library.LatestItems(r.Context(), c, p)
	} else {
		res, err = s.Library.PublicCreations(r.Context(), c, aimg.PublicFilter{Tag: tag}, p)
	}
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	more := url.URL{Path: "/explore", RawQuery: url.Values{"feed": {feed}}.Encode()}
	if tag != "" {
		more.RawQuery = url.Values{"tag": {tag}}.Encode()
	}
	ep := &explorePage{Feed: feed, Tag: tag, Grid: s.newFeedGrid(res, more, "Nothing has been published yet.")}
	if tag != "" {
		ep.Grid.Empty = "No public creation carries this tag."
	}
	for _, t := range []struct{ feed, label string }{{feedLatest, "Latest"}, {feedPublic, "Public creations"}} {
		ep.Tabs = append(ep.Tabs, feedTab{Label: t.label, URL: "/explore?feed=" + t.feed, Current: t.feed == feed && tag == ""})
	}
	if p.Index == 0 {
		if ep.Tags, err = s.tagsInUse(r, c); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	title := "Explore"
	if tag != "" {
		title = "Tagged " + tag
	}
	v := s.newView(r, c, title, ep)
	v.Scripts = []string{"gallery.js"}
	s.render(w, r, http.StatusOK, "explore", v)
}

// tagsInUse is the first page of getTagsList: the most used tags.
func (s *Server) tagsInUse(r *http.Request, c aimg.Caller) ([]aimg.Tag, error) {
	if err := s.allow(r, c, tagsListLimit); err != nil {
		return nil, err
	}
	list, err := s.Library.TagsList(r.Context(), nil, aimg.Page{Limit: tagsShown})
	return list.Tags, err
}

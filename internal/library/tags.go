package library

import (
	"context"
	"regexp"
	"strings"

	"aimg/internal/aimg"
)

// Tags (DECISIONS.md "Tags"): names lower-cased, then checked against the
// spec's expression; at most 50 per Item or Folder. Only the owner's live,
// completed Items and the owner's Folders are tagged.

const (
	// MaxTagsPerItem is the most tags one Item or Folder may carry.
	MaxTagsPerItem = 50
	// MaxTagLen is the longest tag name (characters; the names are ASCII).
	MaxTagLen = 32
	// MaxTagsPage is the most tags one getTagsList page may hold.
	MaxTagsPage = 100
	// maxTagsSent bounds the tags one call may send before checking
	// (a set or an add of more than 50 distinct tags cannot all apply).
	maxTagsSent = 1000
)

// tagPattern is the spec's, exactly: "$-_" in the class is the range from
// '$' (0x24) to '_' (0x5F), so it admits, besides a-z and 0-9, every
// character of "$%&'()*+,-./:;<=>?@[\]^_" (A-Z too, which lower-casing
// has already removed).
var tagPattern = regexp.MustCompile(`^[a-z0-9$-_\.\+!\*'\(\)]{1,32}$`)

var errNotCompletedTag = aimg.Errorf(aimg.CodeConflict, "Only completed Items can be tagged")

// NormalizeTags lower-cases each name and checks it, naming field on the
// first bad one; duplicates collapse to the first, in the order sent.
func NormalizeTags(field string, names []string) ([]string, error) {
	if len(names) > maxTagsSent {
		return nil, aimg.Invalid(field, "at most %d tags per call (got %d)", maxTagsSent, len(names))
	}
	out := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		t := strings.ToLower(n)
		if !tagPattern.MatchString(t) {
			return nil, aimg.Invalid(field, "%s is not a valid tag: 1 to %d of a-z, 0-9 and $%%&'()*+,-./:;<=>?@[\\]^_!", aimg.Quote(n), MaxTagLen)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// TagsResult is a tag call's answer.
type TagsResult struct {
	Success  bool
	Modified []string
	Actual   []string
	// OverLimit are tags an add left out: the Item or Folder already
	// carried MaxTagsPerItem.
	OverLimit []string
}

// ChangeTags is addTagsToItem (aimg.TagAdd), removeTagsFromItem
// (TagRemove) and setTagsForItem (TagSet) on the Item imageID or, when
// folderID is given, the caller's Folder folderID. Someone else's Item or
// Folder is not found.
func (s *Service) ChangeTags(ctx context.Context, c aimg.Caller, op, imageID, folderID string, names []string) (TagsResult, error) {
	if names == nil {
		return TagsResult{}, aimg.Invalid("tags", "is required: an array of tags")
	}
	tags, err := NormalizeTags("tags", names)
	if err != nil {
		return TagsResult{}, err
	}
	if op != aimg.TagSet && len(tags) == 0 {
		return TagsResult{}, aimg.Invalid("tags", "is required: one or more tags")
	}
	if op == aimg.TagSet && len(tags) > MaxTagsPerItem {
		return TagsResult{}, aimg.Invalid("tags", "at most %d tags per Item or Folder (got %d)", MaxTagsPerItem, len(tags))
	}
	ch := aimg.TagChange{Op: op, Tags: tags, Max: MaxTagsPerItem, At: s.now()}
	switch {
	case folderID != "":
		if err := checkAnyFolderID("folderID", folderID); err != nil {
			return TagsResult{}, err
		}
		if !c.SignedIn() { // Folders are for signed-in accounts
			return TagsResult{}, errSignInForFolders
		}
		ch.UserID, ch.FolderID = c.User.ID, folderID
	case imageID != "":
		if c.User == nil || len(imageID) > maxItemIDLen {
			return TagsResult{}, errItemNotFound
		}
		ch.UserID, ch.ItemID = c.User.ID, imageID
		ch.Check = func(it *aimg.Item) error {
			switch {
			case it.UserID != ch.UserID:
				return errItemNotFound
			case it.DeletedAt != nil:
				return errDeleted
			case it.Status != aimg.StatusCompleted:
				return errNotCompletedTag
			}
			return nil
		}
	default:
		return TagsResult{}, aimg.Invalid("imageID", "is required: imageID or folderID")
	}
	res, err := s.store.ChangeTags(ctx, ch)
	switch {
	case aimg.IsNotFound(err) && ch.FolderID != "":
		return TagsResult{}, errFolderNotFound
	case aimg.IsNotFound(err):
		return TagsResult{}, errItemNotFound
	case err != nil:
		return TagsResult{}, err
	}
	out := TagsResult{Success: len(res.Modified) > 0 || op == aimg.TagSet,
		Modified: res.Modified, Actual: res.Actual, OverLimit: res.OverLimit}
	for _, l := range []*[]string{&out.Modified, &out.Actual, &out.OverLimit} {
		if *l == nil {
			*l = []string{}
		}
	}
	return out, nil
}

// TagList is one page of getTagsList.
type TagList struct {
	Tags []aimg.Tag
	// Next is the nextPaginationIndex when more tags follow: the first-use
	// bound to send again, with skipCount advanced by this page's count.
	Next  *int64
	Total int64
}

// TagsList is getTagsList: the tags in use (usage > 0), most used first,
// ties by name; names filters (lower-cased and checked like tags).
// p.Index bounds the tags' first use; pages follow by skipCount.
func (s *Service) TagsList(ctx context.Context, names []string, p aimg.Page) (TagList, error) {
	tags, err := NormalizeTags("tags", names)
	if err != nil {
		return TagList{}, err
	}
	if len(tags) > MaxTagsPage {
		return TagList{}, aimg.Invalid("tags", "at most %d tags (got %d)", MaxTagsPage, len(tags))
	}
	if p.Limit > MaxTagsPage {
		return TagList{}, aimg.Invalid("limit", "must be an integer from 1 to %d", MaxTagsPage)
	}
	page, err := s.store.ListTags(ctx, tags, p)
	if err != nil {
		return TagList{}, err
	}
	out := TagList{Tags: page.Tags, Total: page.Total}
	if out.Tags == nil {
		out.Tags = []aimg.Tag{}
	}
	if page.More {
		// The same bound keeps tags first used after this page out of the
		// next ones; without one, the bound is now (+1 ms: this millisecond).
		next := p.Index
		if next == 0 && !p.Reverse {
			next = s.now().UnixMilli() + 1
		}
		out.Next = &next
	}
	return out, nil
}

// annotate sets what a View shows for the caller beyond the Item's row:
// the caller's reactions and the Items' tags, one query each for all views.
func (s *Service) annotate(ctx context.Context, c aimg.Caller, views []*View) error {
	if err := s.withReactions(ctx, c, views); err != nil {
		return err
	}
	return s.withTags(ctx, views)
}

// withTags sets Tags on views, read in one query for those whose Item may
// carry tags; an Item the store read as Untagged (a listing's tag_count 0)
// needs none, so a page without tagged Items makes no query.
func (s *Service) withTags(ctx context.Context, views []*View) error {
	var ids []string
	for _, v := range views {
		v.Tags = []string{}
		if !v.Item.Untagged {
			ids = append(ids, v.Item.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	tags, err := s.store.ItemTags(ctx, ids)
	if err != nil {
		return err
	}
	for _, v := range views {
		if t := tags[v.Item.ID]; t != nil {
			v.Tags = t
		}
	}
	return nil
}

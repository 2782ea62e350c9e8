package library

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/google/uuid"

	"aimg/internal/aimg"
)

// Private and Public Folders (DECISIONS.md "Folders"): a user's own
// Folders, each Item in at most one (items.folder_id; none = the root
// Folder). Both kinds take the same code paths; a FolderKind says which
// ids a call accepts and whether Items must be public to enter. A Public
// Folder holds only Items with isPublic true (docs/decisions.md "Public
// Folders").

// FolderKind is the kind of Folder a call works on.
type FolderKind bool

const (
	// Private Folders have UUID ids and are seen only by their owner.
	Private FolderKind = false
	// Public Folders have p- + UUID ids, anyone lists them
	// (getPublicFolders), and hold only public Items.
	Public FolderKind = true
)

const (
	// MaxFolderItems is the most Items one add/remove call may name.
	MaxFolderItems = 1000
	// MaxThumbnails is the most Thumbnails a Folder may have.
	MaxThumbnails = 4
	// MaxFolderName and MaxFolderDescription bound the texts (characters).
	MaxFolderName        = 200
	MaxFolderDescription = 2000
	// publicFolderPrefix starts Public Folder ids.
	publicFolderPrefix = aimg.PublicFolderPrefix
)

var (
	errFolderNotFound   = aimg.Errorf(aimg.CodeNotFound, "Folder not found")
	errFolderNotCompl   = aimg.Errorf(aimg.CodeConflict, "Only completed Items can be put in a Folder")
	errAlreadyInFolder  = aimg.Errorf(aimg.CodeConflict, "Item is already in this Folder")
	errNotInFolder      = aimg.Errorf(aimg.CodeConflict, "Item is not in this Folder")
	errSignInForFolders = aimg.Errorf(aimg.CodeUnauthorized, "Sign in to use Folders")
	errNotPublicItem    = aimg.Errorf(aimg.CodeConflict, "Only public Items (isPublic true) can be put in a Public Folder")
	errNoPublicFolder   = aimg.Errorf(aimg.CodeForbidden, "This account cannot put Items in a Public Folder")
	errNotInSource      = aimg.Errorf(aimg.CodeConflict, "Item is not in the source Folder")
)

// Folder is a Folder as one caller sees it (the spec's Folder).
type Folder struct {
	Folder     *aimg.Folder
	Samples    []aimg.ImageThumbnail
	Thumbnails []aimg.ImageThumbnail
}

// FolderList is one page of getSelfFolders or getPublicFolders.
type FolderList struct {
	Folders []Folder
	Next    *int64
	Total   int64
}

// FolderItemsResult is an add/remove call: success when at least one Item
// changed, and each Item's outcome.
type FolderItemsResult struct {
	Success bool
	Items   []ItemResult
}

// ThumbnailsResult is a thumbnail call's answer.
type ThumbnailsResult struct {
	Success  bool
	Modified []string
	Actual   []string
	Items    []ItemResult
}

// CheckFolderID checks the form of a Private Folder id (a UUID; a Public
// Folder's p- id is refused), naming field.
func CheckFolderID(field, id string) error { return checkFolderID(field, id, Private) }

// checkFolderID checks that id is a Folder id of kind, naming field: a
// UUID (Private) or p- + UUID (Public); the other kind's id is refused.
func checkFolderID(field, id string, kind FolderKind) error {
	public := aimg.IsPublicFolderID(id)
	switch {
	case id == "":
		return aimg.Invalid(field, "is required")
	case kind == Private && public:
		return aimg.Invalid(field, "is a Public Folder id (p-…); this call takes a Private Folder id")
	case kind == Public && !public && uuid.Validate(id) == nil:
		return aimg.Invalid(field, "is a Private Folder id (a UUID); this call takes a Public Folder id (p-…)")
	case kind == Private && uuid.Validate(id) != nil:
		return aimg.Invalid(field, "must be a Private Folder id (a UUID)")
	case kind == Public && (!public || uuid.Validate(strings.TrimPrefix(id, aimg.PublicFolderPrefix)) != nil):
		return aimg.Invalid(field, "must be a Public Folder id (p- followed by a UUID)")
	}
	return nil
}

// checkAnyFolderID accepts a Folder id of either kind.
func checkAnyFolderID(field, id string) error {
	if aimg.IsPublicFolderID(id) {
		return checkFolderID(field, id, Public)
	}
	if uuid.Validate(id) != nil {
		return aimg.Invalid(field, "must be a Folder id (a UUID, or p- followed by a UUID), null or root")
	}
	return nil
}

// folderOwner is the signed-in caller who owns the Folders of a call;
// anonymous sessions and guests have none.
func folderOwner(c aimg.Caller) (string, error) {
	if c.User == nil || c.User.IsGuest {
		return "", errSignInForFolders
	}
	return c.User.ID, nil
}

// publicEntry is who may put an Item in a Public Folder (after
// folderCheck): only a public Item, of an owner below abuse level 2 (the
// stored level or the session's, the stricter).
func publicEntry(c aimg.Caller, it *aimg.Item, abuse int) error {
	switch {
	case !it.IsPublic:
		return errNotPublicItem
	case max(abuse, c.User.Abuse) >= aimg.AbuseNoPublic:
		return errNoPublicFolder
	}
	return nil
}

func checkFolderTexts(name, description *string) error {
	if name != nil {
		n := strings.TrimSpace(*name)
		switch {
		case n == "":
			return aimg.Invalid("name", "must not be empty")
		case !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxFolderName:
			return aimg.Invalid("name", "at most %d characters of UTF-8", MaxFolderName)
		}
		*name = n
	}
	if description != nil && (!utf8.ValidString(*description) || utf8.RuneCountInString(*description) > MaxFolderDescription) {
		return aimg.Invalid("description", "at most %d characters of UTF-8", MaxFolderDescription)
	}
	return nil
}

func (s *Service) folderView(c aimg.Caller, f *aimg.Folder) Folder {
	thumbs := func(items []*aimg.Item) []aimg.ImageThumbnail {
		out := make([]aimg.ImageThumbnail, 0, len(items))
		for _, it := range items {
			out = append(out, aimg.ImageThumbnail{ImageID: it.ID, URL: s.view(c, it).URL})
		}
		return out
	}
	return Folder{Folder: f, Samples: thumbs(f.Samples), Thumbnails: thumbs(f.Thumbnails)}
}

func (s *Service) folder(ctx context.Context, c aimg.Caller, userID, id string) (Folder, error) {
	f, err := s.store.FolderByID(ctx, userID, id)
	if aimg.IsNotFound(err) {
		return Folder{}, errFolderNotFound
	}
	if err != nil {
		return Folder{}, err
	}
	return s.folderView(c, f), nil
}

// CreateFolder is createSelfFolder and createPublicFolder.
func (s *Service) CreateFolder(ctx context.Context, c aimg.Caller, kind FolderKind, name string, description *string) (Folder, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return Folder{}, err
	}
	if err := checkFolderTexts(&name, description); err != nil {
		return Folder{}, err
	}
	id := uuid.NewString()
	if kind == Public {
		id = aimg.PublicFolderPrefix + id
	}
	f := &aimg.Folder{ID: id, UserID: userID, Name: name, CreatedAt: s.now()}
	if description != nil {
		f.Description = *description
	}
	if err := s.store.CreateFolder(ctx, f); err != nil {
		return Folder{}, err
	}
	return s.folder(ctx, c, userID, f.ID)
}

// Folders is getSelfFolders: the caller's Folders, newest first.
func (s *Service) Folders(ctx context.Context, c aimg.Caller, ids []string, p aimg.Page) (FolderList, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return FolderList{}, err
	}
	for _, id := range ids {
		if err := CheckFolderID("folderIDs", id); err != nil {
			return FolderList{}, err
		}
	}
	if len(ids) > MaxFolderItems {
		return FolderList{}, aimg.Invalid("folderIDs", "at most %d ids", MaxFolderItems)
	}
	page, err := s.store.ListFolders(ctx, userID, ids, p)
	if err != nil {
		return FolderList{}, err
	}
	return s.folderList(c, page), nil
}

func (s *Service) folderList(c aimg.Caller, page aimg.FolderPage) FolderList {
	out := FolderList{Total: page.Total, Next: page.Next, Folders: make([]Folder, len(page.Folders))}
	for i, f := range page.Folders {
		out.Folders[i] = s.folderView(c, f)
	}
	return out
}

// maxUserIDLen bounds getPublicFolders' userID (no user id is longer).
const maxUserIDLen = 100

// PublicFolders is getPublicFolders, for anyone: Public Folders, newest
// first, of userID ("" = everyone's), filtered to ids. The Folders of a
// deleted user or one at abuse level >= 2 are listed only to that user
// and to Admins.
func (s *Service) PublicFolders(ctx context.Context, c aimg.Caller, userID string, ids []string, p aimg.Page) (FolderList, error) {
	if len(userID) > maxUserIDLen || !utf8.ValidString(userID) {
		return FolderList{}, aimg.Invalid("userID", "is not a user id")
	}
	if len(ids) > MaxFolderItems {
		return FolderList{}, aimg.Invalid("folderIDs", "at most %d ids", MaxFolderItems)
	}
	for _, id := range ids {
		if err := checkFolderID("folderIDs", id, Public); err != nil {
			return FolderList{}, err
		}
	}
	f := aimg.PublicFolderFilter{UserID: userID, IDs: ids, ShowHidden: c.Admin}
	if c.User != nil {
		f.Viewer = c.User.ID
	}
	page, err := s.store.ListPublicFolders(ctx, f, p)
	if err != nil {
		return FolderList{}, err
	}
	return s.folderList(c, page), nil
}

// SetFolderProperties is setSelfFolderProperties and
// setPublicFolderProperties; an empty description removes it.
func (s *Service) SetFolderProperties(ctx context.Context, c aimg.Caller, kind FolderKind, id string, name, description *string) (Folder, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return Folder{}, err
	}
	if err := checkFolderID("folderID", id, kind); err != nil {
		return Folder{}, err
	}
	if name == nil && description == nil {
		return Folder{}, aimg.Invalid("folderName", "at least one of folderName or folderDescription is required")
	}
	if err := checkFolderTexts(name, description); err != nil {
		if e, ok := err.(*aimg.Error); ok {
			e.Field = map[string]string{"name": "folderName", "description": "folderDescription"}[e.Field]
			e.Message = e.Field + e.Message[strings.Index(e.Message, ":"):]
		}
		return Folder{}, err
	}
	if err := s.store.UpdateFolder(ctx, userID, id, name, description, s.now().UnixMilli()); err != nil {
		if aimg.IsNotFound(err) {
			return Folder{}, errFolderNotFound
		}
		return Folder{}, err
	}
	return s.folder(ctx, c, userID, id)
}

// DeleteFolder is deleteSelfFolder and deletePublicFolder: its Items go
// to the root Folder.
func (s *Service) DeleteFolder(ctx context.Context, c aimg.Caller, kind FolderKind, id string) error {
	userID, err := folderOwner(c)
	if err != nil {
		return err
	}
	if err := checkFolderID("folderID", id, kind); err != nil {
		return err
	}
	if err := s.store.DeleteFolder(ctx, userID, id); aimg.IsNotFound(err) {
		return errFolderNotFound
	} else {
		return err
	}
}

// folderIDs checks and deduplicates an imageIDs list: the ids to look up
// and the result slots, ids no Item can have answered at once.
func folderItemIDs(ids []string) ([]string, []int, []ItemResult, error) {
	if len(ids) == 0 {
		return nil, nil, nil, aimg.Invalid("imageIDs", "is required")
	}
	if len(ids) > MaxFolderItems {
		return nil, nil, nil, aimg.Invalid("imageIDs", "at most %d Items per call (got %d)", MaxFolderItems, len(ids))
	}
	query, at, out := distinctItemIDs(ids)
	return query, at, out, nil
}

// distinctItemIDs answers each id once, in the order sent: the ids to look
// up, the result slot of each, and the results, where an id no Item can
// have (too long, not UTF-8) is already "Item not found".
func distinctItemIDs(ids []string) (query []string, at []int, out []ItemResult) {
	seen := make(map[string]bool, len(ids))
	out = make([]ItemResult, 0, len(ids))
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, ItemResult{ID: id})
		if len(id) > maxItemIDLen || !utf8.ValidString(id) {
			out[len(out)-1].Err = errItemNotFound
			continue
		}
		query = append(query, id)
		at = append(at, len(out)-1)
	}
	return query, at, out
}

// folderCheck is who may put an Item in (or take it out of) a Folder:
// the owner, a live completed Item. Anyone else's Item is "Item not found".
func folderCheck(userID string, it *aimg.Item) error {
	switch {
	case it.UserID != userID:
		return errItemNotFound
	case it.DeletedAt != nil:
		return errDeleted
	case it.Status != aimg.StatusCompleted:
		return errFolderNotCompl
	}
	return nil
}

// moveFolderItems is addImagesTo…Folder (add) and
// removeImagesFrom…Folder: Items move in (out of any other Folder) or back
// to the root Folder.
func (s *Service) moveFolderItems(ctx context.Context, c aimg.Caller, kind FolderKind, folderID string, ids []string, add bool) (FolderItemsResult, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return FolderItemsResult{}, err
	}
	if err := checkFolderID("folderID", folderID, kind); err != nil {
		return FolderItemsResult{}, err
	}
	query, at, out, err := folderItemIDs(ids)
	if err != nil {
		return FolderItemsResult{}, err
	}
	m := aimg.FolderMove{IDs: query, At: s.now()}
	if add {
		m.To = folderID
		m.Check = func(it *aimg.Item, abuse int) error {
			if err := folderCheck(userID, it); err != nil {
				return err
			}
			if it.FolderID == folderID {
				return errAlreadyInFolder
			}
			if kind == Public {
				return publicEntry(c, it, abuse)
			}
			return nil
		}
	} else {
		m.From = folderID
		m.Check = func(it *aimg.Item, _ int) error {
			if err := folderCheck(userID, it); err != nil {
				return err
			}
			if it.FolderID != folderID {
				return errNotInFolder
			}
			return nil
		}
	}
	return s.applyMove(ctx, userID, m, at, out)
}

// applyMove runs m and fills each Item's outcome into out (at: the slot
// of each of m.IDs).
func (s *Service) applyMove(ctx context.Context, userID string, m aimg.FolderMove, at []int, out []ItemResult) (FolderItemsResult, error) {
	res, err := s.store.MoveItems(ctx, userID, m)
	if aimg.IsNotFound(err) {
		return FolderItemsResult{}, errFolderNotFound
	}
	if err != nil {
		return FolderItemsResult{}, err
	}
	r := FolderItemsResult{Items: out}
	for i, e := range res {
		out[at[i]].Err = e
		r.Success = r.Success || e == nil
	}
	return r, nil
}

// AddToFolder is addImagesToSelfFolder and addImagesToPublicFolder.
func (s *Service) AddToFolder(ctx context.Context, c aimg.Caller, kind FolderKind, folderID string, ids []string) (FolderItemsResult, error) {
	return s.moveFolderItems(ctx, c, kind, folderID, ids, true)
}

// RemoveFromFolder is removeImagesFromSelfFolder and
// removeImagesFromPublicFolder: the Items go to the root.
func (s *Service) RemoveFromFolder(ctx context.Context, c aimg.Caller, kind FolderKind, folderID string, ids []string) (FolderItemsResult, error) {
	return s.moveFolderItems(ctx, c, kind, folderID, ids, false)
}

// rootFolderID reads a moveItemsBetweenFolders Folder: "" (null, absent)
// and "root" are the root Folder ("").
func rootFolderID(field, id string) (string, error) {
	if id == "" || id == aimg.RootFolder {
		return "", nil
	}
	return id, checkAnyFolderID(field, id)
}

// MoveBetweenFolders is moveItemsBetweenFolders: the caller's Items in
// from move to to (either kind; "" or "root" = the root Folder). Into a
// Public Folder only public Items move, and only while the owner is below
// abuse level 2.
func (s *Service) MoveBetweenFolders(ctx context.Context, c aimg.Caller, from, to string, ids []string) (FolderItemsResult, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return FolderItemsResult{}, err
	}
	if from, err = rootFolderID("sourceFolderID", from); err != nil {
		return FolderItemsResult{}, err
	}
	if to, err = rootFolderID("destinationFolderID", to); err != nil {
		return FolderItemsResult{}, err
	}
	if from == to {
		return FolderItemsResult{}, aimg.Invalid("destinationFolderID", "must differ from sourceFolderID")
	}
	query, at, out, err := folderItemIDs(ids)
	if err != nil {
		return FolderItemsResult{}, err
	}
	m := aimg.FolderMove{IDs: query, From: from, To: to, At: s.now(),
		Check: func(it *aimg.Item, abuse int) error {
			if err := folderCheck(userID, it); err != nil {
				return err
			}
			if it.FolderID != from {
				return errNotInSource
			}
			if aimg.IsPublicFolderID(to) {
				return publicEntry(c, it, abuse)
			}
			return nil
		}}
	return s.applyMove(ctx, userID, m, at, out)
}

// ChangeThumbnails is add…ThumbnailImagesFor…Folder (aimg.ThumbAdd),
// remove… (ThumbRemove) and set… (ThumbSet) of either kind: at most 4
// Thumbnails, only live completed Items inside that Folder (in a Public
// Folder these are public).
func (s *Service) ChangeThumbnails(ctx context.Context, c aimg.Caller, kind FolderKind, folderID, op string, ids []string) (ThumbnailsResult, error) {
	userID, err := folderOwner(c)
	if err != nil {
		return ThumbnailsResult{}, err
	}
	if err := checkFolderID("folderID", folderID, kind); err != nil {
		return ThumbnailsResult{}, err
	}
	query, at, out, err := folderItemIDs(ids)
	if err != nil {
		return ThumbnailsResult{}, err
	}
	if op == aimg.ThumbSet && len(out) > MaxThumbnails {
		return ThumbnailsResult{}, aimg.Invalid("imageIDs", "at most %d Thumbnails per Folder (got %d)", MaxThumbnails, len(out))
	}
	res, err := s.store.ChangeThumbnails(ctx, userID, aimg.ThumbnailChange{
		FolderID: folderID, Op: op, IDs: query, Max: MaxThumbnails, At: s.now(),
		Check: func(it *aimg.Item) error {
			if err := folderCheck(userID, it); err != nil {
				return err
			}
			if it.FolderID != folderID {
				return errNotInFolder
			}
			if kind == Public && !it.IsPublic {
				return errNotPublicItem
			}
			return nil
		},
	})
	if aimg.IsNotFound(err) {
		return ThumbnailsResult{}, errFolderNotFound
	}
	if err != nil {
		return ThumbnailsResult{}, err
	}
	r := ThumbnailsResult{Success: len(res.Modified) > 0, Modified: res.Modified, Actual: res.Actual, Items: out}
	for i, e := range res.Outcomes {
		out[at[i]].Err = e
	}
	if r.Modified == nil {
		r.Modified = []string{}
	}
	if r.Actual == nil {
		r.Actual = []string{}
	}
	return r, nil
}

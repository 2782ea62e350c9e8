// Package library is the Item library: reading Items, a user's creations,
// batches (and later Folders, tags, likes, public approval and reports).
// It imports neither net/http nor SQL.
package library

import (
	"context"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
)

// Store is the persistence the library needs; *store.Store has it.
type Store interface {
	ItemByID(ctx context.Context, id string) (*aimg.Item, error)
	ListCreations(ctx context.Context, userID string, f aimg.ItemFilter, p aimg.Page) (aimg.ItemPage, error)
	LastCompleted(ctx context.Context, userID, mtype string) (*aimg.Item, error)
	BatchItems(ctx context.Context, userID, batchID string) ([]*aimg.Item, error)
	CountItems(ctx context.Context, userID string) (int64, error)
	CountFolderItems(ctx context.Context, userID, folderID string) (int64, error)
	UserByID(ctx context.Context, id string) (*aimg.User, error)
	// React applies a reaction call atomically and returns each id's
	// outcome (nil = changed), in the order of ch.IDs.
	React(ctx context.Context, ch aimg.ReactionChange) ([]error, error)
	// Reactions returns userID's reaction kind per Item id that has one.
	Reactions(ctx context.Context, userID string, itemIDs []string) (map[string]string, error)
	// ChangeItems deletes, restores or protects Items atomically and
	// returns each Item's outcome.
	ChangeItems(ctx context.Context, ch aimg.ItemChange) ([]aimg.ItemChanged, error)
	// SetApproval changes isPublic and publicApprovalStatus atomically and
	// returns each id's outcome (nil = changed), in the order of ch.IDs.
	SetApproval(ctx context.Context, ch aimg.ApprovalChange) ([]error, error)
	// Tags (tags.go).
	ChangeTags(ctx context.Context, ch aimg.TagChange) (aimg.TagResult, error)
	ListTags(ctx context.Context, names []string, p aimg.Page) (aimg.TagPage, error)
	ItemTags(ctx context.Context, ids []string) (map[string][]string, error)
	// Private and Public Folders (folders.go).
	CreateFolder(ctx context.Context, f *aimg.Folder) error
	FolderByID(ctx context.Context, userID, id string) (*aimg.Folder, error)
	ListFolders(ctx context.Context, userID string, ids []string, p aimg.Page) (aimg.FolderPage, error)
	ListPublicFolders(ctx context.Context, f aimg.PublicFolderFilter, p aimg.Page) (aimg.FolderPage, error)
	UpdateFolder(ctx context.Context, userID, id string, name, description *string, at int64) error
	DeleteFolder(ctx context.Context, userID, id string) error
	MoveItems(ctx context.Context, userID string, m aimg.FolderMove) ([]error, error)
	ChangeThumbnails(ctx context.Context, userID string, ch aimg.ThumbnailChange) (aimg.ThumbnailResult, error)
	// The public side (public.go).
	ListPublicItems(ctx context.Context, f aimg.PublicFilter, p aimg.Page) (aimg.ItemPage, error)
	ListLatestItems(ctx context.Context, p aimg.Page) (aimg.ItemPage, error)
	MostLikedPublicItems(ctx context.Context, n int) ([]*aimg.Item, error)
	ListAllItems(ctx context.Context, userID string, f aimg.ItemFilter, p aimg.Page) (aimg.ItemPage, error)
	CountPublicItems(ctx context.Context, userID string) (int64, error)
	CountPublicFolderItems(ctx context.Context, folderID string) (int64, error)
	FolderOwner(ctx context.Context, id string) (string, error)
	AddView(ctx context.Context, id, viewer string, at, since int64) (bool, error)
	PurgeViews(ctx context.Context, before int64) (int64, error)
	MigrateLibrary(ctx context.Context, sourceUserID, destinationUserID string, at time.Time) (aimg.LibraryMoved, error)
	// Reports (reports.go).
	ReportStore
}

// FileURLs gives a File's absolute URL; *files.Service has it.
type FileURLs interface {
	URL(fileID string) string
}

// ModelNamer gives a Model's human-readable name (ImageInfo.modelName).
type ModelNamer interface {
	ModelName(modelID string) string
}

// ModelNameFunc adapts a function to ModelNamer.
type ModelNameFunc func(modelID string) string

func (f ModelNameFunc) ModelName(modelID string) string { return f(modelID) }

// Service implements the library's read side.
type Service struct {
	store  Store
	files  FileURLs
	models ModelNamer
	now    func() time.Time
	// reports are the report queues and thresholds (SetReports).
	reports config.Reports
}

// New builds the service. models may be nil: modelName is then the Model id.
func New(st Store, files FileURLs, models ModelNamer, now func() time.Time) *Service {
	return &Service{store: st, files: files, models: models, now: now}
}

// View is an Item as one caller may see it (the spec's Image).
type View struct {
	Item *aimg.Item
	// URL is the main File's absolute URL; "" until the Item is completed.
	URL string
	// ShowApproval: publicApprovalStatus is shown only to the owner and Admins.
	ShowApproval bool
	// PubliclyVisible: isPublic and in a Public Folder (DECISIONS.md).
	PubliclyVisible bool
	// Liked, Disliked: the caller's own reaction (isLiked, isDisliked).
	Liked, Disliked bool
	// Tags are the Item's tags, by name.
	Tags []string
}

// Details is an Item with what ImageInfo adds: its owner and Model name.
type Details struct {
	View
	OwnerName    string
	OwnerPicture string
	ModelName    string
}

// Creations is one page of getMyCreations.
type Creations struct {
	Items []View
	// Next is the nextPaginationIndex (Unix ms), nil on the last page.
	Next *int64
	// Total ignores mtype, isPublic and publicApprovalStatus, as the spec
	// says: the user's itemCount, rootFolderItemCount or the Folder's count.
	Total int64
}

// PubliclyVisible tells whether anyone may see the Item: it is public and
// in a Public Folder (Public Folder ids start with "p-").
func PubliclyVisible(it *aimg.Item) bool {
	return it.IsPublic && aimg.IsPublicFolderID(it.FolderID) && it.DeletedAt == nil &&
		it.Status == aimg.StatusCompleted
}

func owns(c aimg.Caller, it *aimg.Item) bool {
	return c.User != nil && c.User.ID == it.UserID
}

// visible: Admins see every Item (deleted too, so they can restore them),
// owners their non-deleted Items, everyone else publicly visible Items.
func visible(c aimg.Caller, it *aimg.Item) bool {
	switch {
	case c.Admin:
		return true
	case owns(c, it):
		return it.DeletedAt == nil
	default:
		return PubliclyVisible(it)
	}
}

func (s *Service) view(c aimg.Caller, it *aimg.Item) View {
	v := View{Item: it, ShowApproval: c.Admin || owns(c, it), PubliclyVisible: PubliclyVisible(it)}
	if it.Status == aimg.StatusCompleted && it.FileID != "" {
		v.URL = s.files.URL(it.FileID)
	}
	return v
}

func (s *Service) details(ctx context.Context, c aimg.Caller, it *aimg.Item, owner *aimg.User) (Details, error) {
	if owner == nil || owner.ID != it.UserID {
		var err error
		if owner, err = s.store.UserByID(ctx, it.UserID); err != nil {
			return Details{}, err
		}
	}
	d := Details{View: s.view(c, it), OwnerName: owner.Username, ModelName: it.ModelID}
	if !owner.ProfilePictureBanned {
		d.OwnerPicture = owner.ProfilePicture
	}
	if s.models != nil {
		if name := s.models.ModelName(it.ModelID); name != "" {
			d.ModelName = name
		}
	}
	return d, nil
}

var errItemNotFound = aimg.Errorf(aimg.CodeNotFound, "Item not found")

// item loads an Item the caller may see; any other is "not found", so
// nobody learns that someone else's private Item exists.
func (s *Service) item(ctx context.Context, c aimg.Caller, id string) (*aimg.Item, error) {
	if id == "" {
		return nil, aimg.Invalid("imageID", "is required")
	}
	it, err := s.store.ItemByID(ctx, id)
	if aimg.IsNotFound(err) {
		return nil, errItemNotFound
	}
	if err != nil {
		return nil, err
	}
	if !visible(c, it) {
		return nil, errItemNotFound
	}
	return it, nil
}

// OpenItemRateLimit is the rate-limit rule (config rateLimits) of opening
// an Item by id for a caller without an account record, per client
// address: the API's getItem and getItemDetails and the web's Item page
// share it, since a stranger can try ids there.
const OpenItemRateLimit = "itemPage:ip"

// GetItem is getItem.
func (s *Service) GetItem(ctx context.Context, c aimg.Caller, id string) (View, error) {
	it, err := s.item(ctx, c, id)
	if err != nil {
		return View{}, err
	}
	s.countView(ctx, c, it)
	v := s.view(c, it)
	return v, s.annotate(ctx, c, []*View{&v})
}

// GetItemDetails is getItemDetails.
func (s *Service) GetItemDetails(ctx context.Context, c aimg.Caller, id string) (Details, error) {
	it, err := s.item(ctx, c, id)
	if err != nil {
		return Details{}, err
	}
	s.countView(ctx, c, it)
	owner := c.User
	d, err := s.details(ctx, c, it, owner)
	if err != nil {
		return Details{}, err
	}
	return d, s.annotate(ctx, c, []*View{&d.View})
}

// CheckMType validates an mtype parameter ("" = both).
func CheckMType(mtype string) error {
	switch mtype {
	case "", aimg.MTypeImage, aimg.MTypeVideo:
		return nil
	}
	return aimg.Invalid("mtype", "must be image or video")
}

// LastCompleted is getLastCompletedItem: the caller's most recently
// completed Item of mtype ("" = both).
func (s *Service) LastCompleted(ctx context.Context, c aimg.Caller, mtype string) (View, error) {
	if err := CheckMType(mtype); err != nil {
		return View{}, err
	}
	if c.User == nil {
		return View{}, aimg.Errorf(aimg.CodeNotFound, "No completed Item")
	}
	it, err := s.store.LastCompleted(ctx, c.User.ID, mtype)
	if err != nil {
		return View{}, err
	}
	v := s.view(c, it)
	return v, s.annotate(ctx, c, []*View{&v})
}

// MyCreations is getMyCreations: one page of the caller's Items.
func (s *Service) MyCreations(ctx context.Context, c aimg.Caller, f aimg.ItemFilter, p aimg.Page) (Creations, error) {
	if err := checkItemFilter(f); err != nil {
		return Creations{}, err
	}
	if c.User == nil { // an anonymous session owns nothing yet
		return Creations{Items: []View{}}, nil
	}
	page, err := s.store.ListCreations(ctx, c.User.ID, f, p)
	if err != nil {
		return Creations{}, err
	}
	out, err := s.creations(ctx, c, page)
	if err != nil {
		return Creations{}, err
	}
	if f.FolderID == "" {
		out.Total, err = s.store.CountItems(ctx, c.User.ID)
	} else {
		out.Total, err = s.store.CountFolderItems(ctx, c.User.ID, f.FolderID)
	}
	return out, err
}

// BatchItems is getBatchItems: the Items of a batch owned by the caller
// (Admins: by anyone), in creation order. A batch with none is not found.
func (s *Service) BatchItems(ctx context.Context, c aimg.Caller, batchID string) ([]Details, error) {
	if batchID == "" {
		return nil, aimg.Invalid("batchID", "is required")
	}
	notFound := aimg.Errorf(aimg.CodeNotFound, "Batch not found")
	var owner string
	switch {
	case c.Admin:
	case c.User != nil:
		owner = c.User.ID
	default:
		return nil, notFound
	}
	items, err := s.store.BatchItems(ctx, owner, batchID)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, notFound
	}
	out := make([]Details, len(items))
	users := map[string]*aimg.User{}
	if c.User != nil {
		users[c.User.ID] = c.User
	}
	for i, it := range items {
		d, err := s.details(ctx, c, it, users[it.UserID])
		if err != nil {
			return nil, err
		}
		users[it.UserID] = &aimg.User{ID: it.UserID, Username: d.OwnerName, ProfilePicture: d.OwnerPicture}
		out[i] = d
	}
	views := make([]*View, len(out))
	for i := range out {
		views[i] = &out[i].View
	}
	return out, s.annotate(ctx, c, views)
}

package aimg

import (
	"strings"
	"time"
)

// PublicFolderPrefix starts a Public Folder's id ("p-" + UUID); a Private
// Folder's id is a plain UUID. Both kinds live in one table.
const PublicFolderPrefix = "p-"

// IsPublicFolderID tells whether id names a Public Folder.
func IsPublicFolderID(id string) bool { return strings.HasPrefix(id, PublicFolderPrefix) }

// Folder is a user's Private or Public Folder as stored.
type Folder struct {
	ID          string
	UserID      string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ImageCount is the Folder's live Items (item_counts).
	ImageCount int64
	// Samples are the Folder's 4 newest live Items (of a Public Folder:
	// publicly visible ones only).
	Samples []*Item
	// Thumbnails are the Items chosen as Thumbnails that are still inside.
	Thumbnails []*Item
	// Tags are the Folder's tags, by name.
	Tags []string
}

// Public tells whether f is a Public Folder.
func (f *Folder) Public() bool { return IsPublicFolderID(f.ID) }

// PublicFolderFilter selects getPublicFolders' Folders: UserID's only (""
// = everyone's), IDs only (none = all). Folders of a deleted user or one
// at abuse level >= AbuseNoPublic are left out unless ShowHidden (Admins)
// or they are Viewer's own.
type PublicFolderFilter struct {
	UserID     string
	IDs        []string
	Viewer     string
	ShowHidden bool
}

// FolderMove moves Items into To ("" = the root Folder), in one
// transaction. From and To, when not "", must be the user's Folders (both
// get updated_at); Check decides, on each locked Item with the owner's
// stored abuse level read under the user's lock, whether it may move (nil)
// or why not (it also checks that the Item is in the source Folder).
type FolderMove struct {
	IDs   []string
	From  string // the source Folder ("" = the root Folder, or any when adding)
	To    string // the target Folder ("" = root)
	At    time.Time
	Check func(it *Item, abuse int) error
}

// Thumbnail operations (addThumbnailImagesForSelfFolder and its siblings).
const (
	ThumbAdd    = "add"
	ThumbRemove = "remove"
	ThumbSet    = "set"
)

// ThumbnailChange changes a Folder's Thumbnails in one transaction. Check
// says whether a locked Item may be a Thumbnail of the Folder (nil) or why
// not; Max is the most Thumbnails a Folder may have.
type ThumbnailChange struct {
	FolderID string
	Op       string
	IDs      []string
	Max      int
	At       time.Time
	Check    func(it *Item) error
}

// ThumbnailResult is a thumbnail call's outcome: each id's (nil = changed,
// in the order of IDs), the ids changed and the Thumbnails after the call.
type ThumbnailResult struct {
	Outcomes []error
	Modified []string
	Actual   []string
}

// FolderPage is one page of Folders, where the next one starts (nil: none
// follows) and how many Folders the filters match.
type FolderPage struct {
	Folders []*Folder
	Next    *int64
	Total   int64
}

package aimg

import "time"

// Folder is a user's Private Folder as stored.
type Folder struct {
	ID          string
	UserID      string
	Name        string
	Description string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	// ImageCount is the Folder's live Items (item_counts).
	ImageCount int64
	// Samples are the Folder's 4 newest live Items.
	Samples []*Item
	// Thumbnails are the Items chosen as Thumbnails that are still inside.
	Thumbnails []*Item
	// Tags are the Folder's tags, by name.
	Tags []string
}

// FolderMove moves Items into a Folder (To) or out of one (From, To ""),
// in one transaction. Check decides, on each locked Item, whether it may
// move (nil) or why not.
type FolderMove struct {
	IDs   []string
	From  string // removing: the Folder the Items must be in
	To    string // adding: the target Folder ("" = root)
	At    time.Time
	Check func(it *Item) error
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

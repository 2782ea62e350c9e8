package aimg

import "time"

// Tag operations (addTagsToItem, removeTagsFromItem, setTagsForItem).
const (
	TagAdd    = "add"
	TagRemove = "remove"
	TagSet    = "set"
)

// TagChange changes the tags of one Item (ItemID) or of one of UserID's
// Folders (FolderID, which wins), in one transaction. Tags are valid and
// distinct; Max is the most tags an Item or Folder may carry. Check says
// whether the locked Item may be tagged by UserID (nil) or why not.
type TagChange struct {
	Op       string
	UserID   string
	ItemID   string
	FolderID string
	Tags     []string
	Max      int
	At       time.Time
	Check    func(it *Item) error
}

// TagResult is a tag call's outcome: the tags it added or removed, the
// tags carried after it (by name), and those an add left out because the
// Item or Folder already carried Max.
type TagResult struct {
	Modified  []string
	Actual    []string
	OverLimit []string
}

// Tag is one tag with the number of Items and Folders that carry it.
type Tag struct {
	Name       string
	UsageCount int64
	// CreatedAt is the tag's first use.
	CreatedAt time.Time
}

// TagPage is one page of getTagsList and how many tags the filters match.
type TagPage struct {
	Tags []Tag
	// More tells that rows follow this page.
	More  bool
	Total int64
}

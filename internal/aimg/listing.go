package aimg

// The query types of Item listings, handed by the services to the store.

// ItemFilter narrows a user's creations (getMyCreations).
type ItemFilter struct {
	MType    string // "" = image and video
	FolderID string // "" = every Folder, "root" = folder_id IS NULL, else that Folder
	IsPublic *bool  // nil = both
	Approval string // "" = every publicApprovalStatus
}

// PublicFilter narrows getPublicCreations.
type PublicFilter struct {
	UserID   string // "" = every user
	FolderID string // "" = every Public Folder
	MType    string // "" = image and video
	Tag      string // "" = any; else only Items carrying this tag (the web UI's filter)
}

// RootFolder is the FolderID that selects the Items outside any Folder.
const RootFolder = "root"

// Page asks for one page of a keyset listing (Annex: Pagination).
type Page struct {
	// Index is the reference timestamp in Unix ms. Newest first: Items with
	// created_at < Index (0 = no bound). Reverse: Items with created_at > Index,
	// oldest first.
	Index   int64
	Reverse bool
	Limit   int // 1..1000
	// Skip is skipCount: an OFFSET on top of the keyset, slow for large values
	// (the database walks every skipped row), as the spec warns.
	Skip int
}

// ItemPage is one page of Items and where the next one starts.
type ItemPage struct {
	Items []*Item
	// Next is the created_at (Unix ms) of the last Item returned, to pass as
	// the next Page.Index; nil when no Item follows.
	Next *int64
}

// LibraryMoved is what migrateLibrary moved.
type LibraryMoved struct {
	Items   int64
	Folders int64
}

package aimg

import "time"

// ItemPreview is the latest live preview of a generating Item (one per
// Item, replaced by the next; docs/decisions.md "Live previews").
type ItemPreview struct {
	ItemID      string
	JobID       string
	ContentType string
	Data        []byte
	Version     int64 // 1 for the first preview, +1 for each that replaced it
	UpdatedAt   time.Time
}

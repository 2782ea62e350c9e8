package aimg

import (
	"encoding/json"
	"time"
)

// ChecksumSHA256 is the checksum algorithm of every stored File.
const ChecksumSHA256 = "sha256"

// File is a file on the file server: its bytes live in the blob store under
// BlobKey, this record says what they are and what they must hash to.
type File struct {
	ID                string
	Name              string
	ContentType       string
	Size              int64
	Checksum          string // lower-case hex of the bytes' ChecksumAlgorithm digest
	ChecksumAlgorithm string
	OwnerID           string          // the uploading user; empty for admin uploads without a session user
	CustomMetadata    json.RawMessage // a JSON object, or nil when none was given
	BlobKey           string
	CreatedAt         time.Time
}

package media

import (
	"mime"
	"path"
	"strings"
)

// contentTypes maps lower-case file extensions to the Content-Type the file
// server sends. It is deliberately short: types a browser would run as a
// document (HTML, SVG, XML) are left out so that a stored file can never
// execute script on the API's origin; they are served as octet-stream.
var contentTypes = map[string]string{
	".png":  "image/png",
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".gif":  "image/gif",
	".webp": "image/webp",
	".avif": "image/avif",
	".mp4":  "video/mp4",
	".webm": "video/webm",
	".mov":  "video/quicktime",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
	".csv":  "text/csv; charset=utf-8",
}

// ContentTypeFor returns the Content-Type for a file name (or path) from its
// extension, case-insensitively; "application/octet-stream" when unknown.
func ContentTypeFor(name string) string {
	if ct, ok := contentTypes[strings.ToLower(path.Ext(name))]; ok {
		return ct
	}
	return "application/octet-stream"
}

// Resizable reports whether the file server resizes files of this
// Content-Type: PNG, JPEG and GIF, the formats the spec lists (png, jpg,
// jpeg, gif). Parameters such as "; charset" are ignored.
func Resizable(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && err != mime.ErrInvalidMediaParameter {
		return false
	}
	switch mediaType {
	case "image/png", "image/jpeg", "image/jpg", "image/gif":
		return true
	}
	return false
}

// FormatFor returns the Encode format for a resizable Content-Type ("png",
// "jpeg", "gif"), so a resized file keeps its type; "" for the others.
func FormatFor(contentType string) string {
	if !Resizable(contentType) {
		return ""
	}
	mediaType, _, _ := mime.ParseMediaType(contentType)
	switch mediaType {
	case "image/png":
		return FormatPNG
	case "image/gif":
		return FormatGIF
	}
	return FormatJPEG
}

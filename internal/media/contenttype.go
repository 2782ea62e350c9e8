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

// signatures are the leading bytes SniffContentType recognises, after the
// four image formats of Sniff. "?" in a signature matches any byte.
var signatures = []struct{ prefix, contentType string }{
	{"%PDF-", "application/pdf"},
	{"PK\x03\x04", "application/zip"},
	{"\x1f\x8b\x08", "application/gzip"},
	{"????ftypqt  ", "video/quicktime"},
	{"????ftyp", "video/mp4"},
	{"\x1a\x45\xdf\xa3", "video/webm"},
	{"OggS\x00", "application/ogg"},
	{"RIFF????WAVE", "audio/wav"},
	{"RIFF????AVI ", "video/x-msvideo"},
	{"ID3", "audio/mpeg"},
	{"BM", "image/bmp"},
	{"\x00\x00\x01\x00", "image/x-icon"},
}

// SniffContentType names the Content-Type of a file from its first bytes
// (512 are enough), for uploads that declare none: the image formats, a few
// common binary formats, else text/plain when no byte is binary (as in the
// WHATWG MIME sniffing rules), else application/octet-stream. Markup
// (HTML, SVG, XML) is text/plain: a stored file is never a document the
// browser would run.
func SniffContentType(head []byte) string {
	if format := Sniff(head); format != "" {
		return "image/" + format
	}
	for _, sig := range signatures {
		if hasSignature(head, sig.prefix) {
			return sig.contentType
		}
	}
	for _, b := range head {
		if b <= 0x08 || b == 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f) {
			return "application/octet-stream"
		}
	}
	return "text/plain; charset=utf-8"
}

func hasSignature(head []byte, sig string) bool {
	if len(head) < len(sig) {
		return false
	}
	for i := range len(sig) {
		if sig[i] != '?' && head[i] != sig[i] {
			return false
		}
	}
	return true
}

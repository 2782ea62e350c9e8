package a1111

import (
	"encoding/base64"
	"strings"
)

// Live previews: /internal/progress with live_preview true answers the
// current preview as a data URI (progress.py: live_previews_image_format,
// PNG, JPEG or WebP) with its id_live_preview; asked again with that id,
// it answers a preview only when there is a newer one.

// maxPreviewBytes bounds a decoded preview; a bigger one is dropped (the
// server's own budget is smaller still).
const maxPreviewBytes = 512 << 10

// previewTypes are the data URI media types a preview may have.
var previewTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/webp": true}

// parseDataURI reads a base64 image data URI; ok is false for anything
// else, or an image over maxPreviewBytes.
func parseDataURI(uri string) (image []byte, contentType string, ok bool) {
	rest, found := strings.CutPrefix(uri, "data:")
	if !found {
		return nil, "", false
	}
	meta, data, found := strings.Cut(rest, ",")
	ct, found2 := strings.CutSuffix(meta, ";base64")
	if !found || !found2 || !previewTypes[ct] || base64.StdEncoding.DecodedLen(len(data)) > maxPreviewBytes+3 {
		return nil, "", false
	}
	image, err := base64.StdEncoding.DecodeString(data)
	if err != nil || len(image) == 0 || len(image) > maxPreviewBytes {
		return nil, "", false
	}
	return image, ct, true
}

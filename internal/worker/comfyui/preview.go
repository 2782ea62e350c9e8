package comfyui

import (
	"encoding/binary"
)

// Live previews: while a sampler runs, ComfyUI (with --preview-method)
// sends binary /ws frames (server.py send_image): a 4-byte big-endian
// event type, 1 = PREVIEW_IMAGE, a 4-byte image type, 1 = JPEG, 2 = PNG,
// then the encoded image. Other binary events (newer ComfyUI's preview
// with metadata, custom nodes' images) are ignored.

const (
	binaryPreviewImage = 1
	previewJPEG        = 1
	previewPNG         = 2
)

// previewEvent is the internal event type of a preview frame; ComfyUI's
// own types are words, never this.
const previewEvent = "aimg:preview"

// parsePreviewFrame reads a binary /ws frame; ok is false for anything but
// a non-empty JPEG or PNG PREVIEW_IMAGE.
func parsePreviewFrame(frame []byte) (image []byte, contentType string, ok bool) {
	if len(frame) <= 8 || binary.BigEndian.Uint32(frame) != binaryPreviewImage {
		return nil, "", false
	}
	switch binary.BigEndian.Uint32(frame[4:]) {
	case previewJPEG:
		contentType = "image/jpeg"
	case previewPNG:
		contentType = "image/png"
	default:
		return nil, "", false
	}
	return frame[8:], contentType, true
}

// preview hands the latest preview image on with the current progress.
func (r *run) preview(ev event) {
	r.progress(Progress{Fraction: r.lastFraction, Done: len(r.done), Cached: r.cached, Total: len(r.wf),
		Node: r.current, Value: r.value, Max: r.max, Preview: ev.preview, PreviewType: ev.previewType})
}

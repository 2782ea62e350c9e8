package comfyui

import "testing"

// ComfyUI's binary frame: event type, image type (big-endian uint32), image.
func TestParsePreviewFrame(t *testing.T) {
	for _, c := range []struct {
		frame string
		ct    string
		ok    bool
	}{
		{"\x00\x00\x00\x01\x00\x00\x00\x02\x89PNG", "image/png", true},
		{"\x00\x00\x00\x01\x00\x00\x00\x01\xff\xd8\xff", "image/jpeg", true},
		{"\x00\x00\x00\x01\x00\x00\x00\x03webp", "", false},    // no such image type
		{"\x00\x00\x00\x02\x00\x00\x00\x02\x89PNG", "", false}, // another event
		{"\x00\x00\x00\x04\x00\x00\x00\x10{}", "", false},      // with metadata: not read
		{"\x00\x00\x00\x01\x00\x00\x00\x02", "", false},        // no image
		{"\x00\x01", "", false},
	} {
		img, ct, ok := parsePreviewFrame([]byte(c.frame))
		if ok != c.ok || ct != c.ct || (ok && string(img) != c.frame[8:]) {
			t.Errorf("frame % x: %q %q %v, want %q %v", c.frame, img, ct, ok, c.ct, c.ok)
		}
	}
}

package a1111

import (
	"encoding/base64"
	"strings"
	"testing"
)

func TestParseDataURI(t *testing.T) {
	png := base64.StdEncoding.EncodeToString([]byte("\x89PNG\r\n"))
	for _, c := range []struct {
		uri string
		ct  string
		ok  bool
	}{
		{"data:image/png;base64," + png, "image/png", true},
		{"data:image/webp;base64," + png, "image/webp", true},
		{"data:image/svg+xml;base64," + png, "", false},
		{"data:image/png," + png, "", false},
		{"image/png;base64," + png, "", false},
		{"data:image/png;base64,!!!", "", false},
		{"data:image/png;base64,", "", false},
		{"data:image/jpeg;base64," + strings.Repeat("A", maxPreviewBytes*2), "", false},
	} {
		img, ct, ok := parseDataURI(c.uri)
		if ok != c.ok || ct != c.ct || (ok && string(img) != "\x89PNG\r\n") {
			t.Errorf("%.40s: %q %v, want %q %v", c.uri, ct, ok, c.ct, c.ok)
		}
	}
}

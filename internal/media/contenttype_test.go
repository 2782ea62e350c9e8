package media_test

import (
	"testing"

	"aimg/internal/media"
)

func TestContentTypeFor(t *testing.T) {
	tests := map[string]string{
		"a.png":          "image/png",
		"dir/B.JPG":      "image/jpeg",
		"x.jpeg":         "image/jpeg",
		"anim.gif":       "image/gif",
		"p.webp":         "image/webp",
		"clip.mp4":       "video/mp4",
		"meta.json":      "application/json",
		"notes.txt":      "text/plain; charset=utf-8",
		"page.html":      "application/octet-stream", // never rendered on our origin
		"logo.svg":       "application/octet-stream",
		"no-extension":   "application/octet-stream",
		"archive.tar.gz": "application/octet-stream",
		"":               "application/octet-stream",
	}
	for name, want := range tests {
		if got := media.ContentTypeFor(name); got != want {
			t.Errorf("ContentTypeFor(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestResizable(t *testing.T) {
	tests := map[string]string{ // content type -> Encode format, "" if not resizable
		"image/png":                 "png",
		"image/jpeg":                "jpeg",
		"IMAGE/JPEG":                "jpeg",
		"image/jpg":                 "jpeg",
		"image/gif":                 "gif",
		"image/png; charset=binary": "png",
		"image/webp":                "",
		"video/mp4":                 "",
		"application/octet-stream":  "",
		"":                          "",
		"not a type":                "",
	}
	for ct, want := range tests {
		if got := media.Resizable(ct); got != (want != "") {
			t.Errorf("Resizable(%q) = %v, want %v", ct, got, want != "")
		}
		if got := media.FormatFor(ct); got != want {
			t.Errorf("FormatFor(%q) = %q, want %q", ct, got, want)
		}
	}
	// Every extension the file server resizes maps to a resizable type.
	for _, name := range []string{"a.png", "a.jpg", "a.jpeg", "a.gif"} {
		if !media.Resizable(media.ContentTypeFor(name)) {
			t.Errorf("%s is not resizable", name)
		}
	}
}

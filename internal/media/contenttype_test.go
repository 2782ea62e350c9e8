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

func TestSniffContentType(t *testing.T) {
	for _, c := range []struct{ head, want string }{
		{"\x89PNG\r\n\x1a\n....", "image/png"},
		{"\xff\xd8\xff\xe0", "image/jpeg"},
		{"GIF89a", "image/gif"},
		{"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"},
		{"%PDF-1.7", "application/pdf"},
		{"\x00\x00\x00\x18ftypmp42", "video/mp4"},
		{"\x00\x00\x00\x14ftypqt  ", "video/quicktime"},
		{"\x1a\x45\xdf\xa3", "video/webm"},
		{"PK\x03\x04", "application/zip"},
		{"", "text/plain; charset=utf-8"},
		{"hello, world\n", "text/plain; charset=utf-8"},
		{"<!DOCTYPE html><script>alert(1)</script>", "text/plain; charset=utf-8"},
		{"héllo", "text/plain; charset=utf-8"},
		{"\x00\x01\x02binary", "application/octet-stream"},
	} {
		if got := media.SniffContentType([]byte(c.head)); got != c.want {
			t.Errorf("SniffContentType(%q) = %q, want %q", c.head, got, c.want)
		}
	}
}

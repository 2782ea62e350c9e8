package media_test

import (
	"bytes"
	"net/http"
	"testing"

	"aimg/internal/media"
)

// sniffSamples start like each kind of content the algorithm tells apart.
var sniffSamples = [][]byte{
	nil, []byte(""), []byte("   "), []byte("plain text\n"), []byte("\xef\xbb\xbfBOM text"),
	[]byte("\xfe\xffUTF-16BE"), []byte("\xff\xfeUTF-16LE"), []byte("bin\x00ary"),
	[]byte("<!DOCTYPE HTML><p>x"), []byte("  <html>"), []byte("<HEAD>"), []byte("<script>"),
	[]byte("<iframe "), []byte("<h1>"), []byte("<div>"), []byte("<font>"), []byte("<table>"),
	[]byte("<a>"), []byte("<style>"), []byte("<title>"), []byte("<b>"), []byte("<body>"),
	[]byte("<br>"), []byte("<p>"), []byte("<!-->"), []byte("<?xml version"), []byte("<htmlx"),
	[]byte("%PDF-1.7"), []byte("%!PS-Adobe-"), []byte("GIF87a"), []byte("GIF89a..."),
	[]byte("\x89PNG\x0D\x0A\x1A\x0A...."), []byte("\xFF\xD8\xFF\xE0"), []byte("BM...."),
	[]byte("RIFF\x00\x00\x00\x00WEBPVP8 "), []byte("RIFF\x00\x00\x00\x00AVI LIST"),
	[]byte("RIFF\x00\x00\x00\x00WAVEfmt "), []byte("\x00\x00\x01\x00"), []byte("\x00\x00\x02\x00"),
	[]byte("FORM\x00\x00\x00\x00AIFF"), []byte("ID3\x03"), []byte("OggS\x00"), []byte("MThd\x00\x00\x00\x06"),
	[]byte("\x1A\x45\xDF\xA3"), []byte("\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
	[]byte("\x00\x00\x00\x1cftypisom\x00\x00\x02\x00isomiso2avc1mp41"), []byte("\x00\x00\x01\xBA"),
	[]byte("wOFF"), []byte("wOF2"), []byte("\x00\x01\x00\x00"), []byte("OTTO"), []byte("ttcf"),
	[]byte("\x1F\x8B\x08"), []byte("PK\x03\x04"), []byte("Rar!\x1A\x07\x00"), []byte("Rar!\x1A\x07\x01\x00"),
	[]byte("\x00\x61\x73\x6D"), []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x4C\x50"),
	[]byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x4C\x50\x00\x00\x00\x00"),
	bytes.Repeat([]byte("a"), 600), append(bytes.Repeat([]byte("a"), 511), 0),
	append(bytes.Repeat([]byte("a"), 512), 0),
}

// The copy in media is net/http's algorithm: the file server's sniffing did
// not change when it stopped importing net/http.
func TestDetectContentTypeIsNetHTTPs(t *testing.T) {
	for _, data := range sniffSamples {
		if got, want := media.DetectContentType(data), http.DetectContentType(data); got != want {
			t.Errorf("DetectContentType(%q) = %q, net/http says %q", data, got, want)
		}
	}
}

func FuzzDetectContentType(f *testing.F) {
	for _, data := range sniffSamples {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := media.DetectContentType(data), http.DetectContentType(data); got != want {
			t.Fatalf("DetectContentType(%q) = %q, net/http says %q", data, got, want)
		}
	})
}

package media_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"aimg/internal/media"
)

func TestParseDataURIValid(t *testing.T) {
	hello := []byte("hello, world!") // 13 bytes: std base64 needs one '='
	tests := []struct {
		name, in, wantType string
	}{
		{"standard padded", "data:image/png;base64,aGVsbG8sIHdvcmxkIQ==", "image/png"},
		{"unpadded", "data:image/png;base64,aGVsbG8sIHdvcmxkIQ", "image/png"},
		{"one pad of two", "data:image/png;base64,aGVsbG8sIHdvcmxkIQ=", "image/png"},
		{"upper-case scheme and encoding", "DATA:image/PNG;BASE64,aGVsbG8sIHdvcmxkIQ==", "image/png"},
		{"parameters", "data:image/jpeg;name=a.jpg;charset=binary;base64,aGVsbG8sIHdvcmxkIQ==", "image/jpeg"},
		{"whitespace and newlines", "data:image/gif;base64,aGVs bG8s\r\nIHdv\tcmxk\nIQ==\n", "image/gif"},
		{"no media type", "data:;base64,aGVsbG8sIHdvcmxkIQ==", "text/plain"},
		{"only parameters", "data:;charset=utf-8;base64,aGVsbG8sIHdvcmxkIQ==", "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, data, err := media.ParseDataURI(tt.in, 1<<20)
			if err != nil {
				t.Fatalf("ParseDataURI: %v", err)
			}
			if mt != tt.wantType || !bytes.Equal(data, hello) {
				t.Fatalf("got (%q, %q), want (%q, %q)", mt, data, tt.wantType, hello)
			}
		})
	}
}

func TestParseDataURIAlphabets(t *testing.T) {
	// 0xfb 0xff 0xbf encodes as "+/+/" in standard and "-_-_" in URL-safe base64.
	want := []byte{0xfb, 0xff, 0xbf}
	for _, in := range []string{"data:x/y;base64,+/+/", "data:x/y;base64,-_-_"} {
		_, data, err := media.ParseDataURI(in, 0)
		if err != nil || !bytes.Equal(data, want) {
			t.Errorf("ParseDataURI(%q) = %x, %v; want %x", in, data, err, want)
		}
	}
}

func TestParseDataURIInvalid(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"scheme only", "data:"},
		{"wrong prefix", "image/png;base64,aGVsbG8="},
		{"http URL", "https://example.com/a.png"},
		{"not base64", "data:image/png,hello"},
		{"base64 not last", "data:image/png;base64;x=y,aGVsbG8="},
		{"no comma", "data:image/png;base64"},
		{"bad base64", "data:image/png;base64,!!!!"},
		{"base64 with padding inside", "data:image/png;base64,aGV=sbG8="},
		{"mixed alphabets", "data:image/png;base64,+/-_"},
		{"too much padding", "data:image/png;base64,aGVsbG8==="},
		{"impossible length", "data:image/png;base64,aGVsb"},
		{"empty data", "data:image/png;base64,"},
		{"only whitespace", "data:image/png;base64, \n\t"},
		{"bad media type", "data:image/png/x y;base64,aGVsbG8="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mt, data, err := media.ParseDataURI(tt.in, 1<<20)
			if !errors.Is(err, media.ErrInvalidDataURI) {
				t.Fatalf("ParseDataURI(%q) = (%q, %q, %v), want ErrInvalidDataURI", tt.in, mt, data, err)
			}
		})
	}
}

func TestParseDataURIMaxBytes(t *testing.T) {
	const limit = 10
	// Around the limit, with each padding shape: sizes 8..12 encode to 12 or 16
	// characters, padded and unpadded.
	for size := 8; size <= 12; size++ {
		payload := bytes.Repeat([]byte{0xab}, size)
		for _, uri := range []string{
			media.DataURI("a/b", payload),
			strings.TrimRight(media.DataURI("a/b", payload), "="),
		} {
			_, data, err := media.ParseDataURI(uri, limit)
			if size <= limit && (err != nil || !bytes.Equal(data, payload)) {
				t.Errorf("size %d (%s): got %v, want the data", size, uri, err)
			}
			if size > limit && !errors.Is(err, media.ErrTooLarge) {
				t.Errorf("size %d (%s): got %v, want ErrTooLarge", size, uri, err)
			}
		}
	}
}

func TestParseDataURIHugeInputRefusedBeforeDecoding(t *testing.T) {
	huge := "data:image/png;base64," + strings.Repeat("AAAA", 10<<20) // 30 MiB decoded
	var err error
	allocated := allocatedBytes(func() {
		_, _, err = media.ParseDataURI(huge, media.ProfilePictureMaxBytes)
	})
	if !errors.Is(err, media.ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if allocated > 64<<10 {
		t.Fatalf("refusing a 40 MiB data URI allocated %d bytes; want it refused before decoding", allocated)
	}
}

func TestDataURIRoundTrip(t *testing.T) {
	data := []byte{0, 1, 2, 250, 251, 252, 253, 254, 255}
	uri := media.DataURI("image/webp", data)
	if want := "data:image/webp;base64,AAEC+vv8/f7/"; uri != want {
		t.Fatalf("DataURI = %q, want %q", uri, want)
	}
	mt, got, err := media.ParseDataURI(uri, int64(len(data)))
	if err != nil || mt != "image/webp" || !bytes.Equal(got, data) {
		t.Fatalf("round trip = (%q, %x, %v)", mt, got, err)
	}
}

package media

import (
	"encoding/base64"
	"fmt"
	"mime"
	"strings"

	"aimg/internal/aimg"
)

// ParseDataURI parses an RFC 2397 data URI, "data:<mediatype>[;param=value]*;base64,<data>".
// Only base64 payloads are accepted (images are binary). The payload may use the
// standard or the URL-safe alphabet, with or without padding, and may contain
// whitespace and line breaks, which are ignored.
//
// mediaType is the declared type, lower-cased and without parameters
// ("text/plain" when none is declared, as RFC 2397 says). It is what the
// client claims, not what the bytes are: use Decode to find the real format.
//
// maxBytes caps the decoded size; it is checked from the encoded length before
// anything is decoded, so an oversized input costs no allocation. maxBytes <= 0
// means no cap.
func ParseDataURI(s string, maxBytes int64) (mediaType string, data []byte, err error) {
	const scheme = "data:"
	if len(s) < len(scheme) || !strings.EqualFold(s[:len(scheme)], scheme) {
		return "", nil, fmt.Errorf("%w: must start with %q", ErrInvalidDataURI, scheme)
	}
	header, payload, found := strings.Cut(s[len(scheme):], ",")
	if !found {
		return "", nil, fmt.Errorf("%w: no comma before the data", ErrInvalidDataURI)
	}
	mediaType, err = parseDataURIHeader(header)
	if err != nil {
		return "", nil, err
	}

	// Count the significant characters first so that the size check costs no
	// allocation, then copy them without whitespace and padding.
	n := 0
	for i := 0; i < len(payload); i++ {
		if !isBase64Space(payload[i]) {
			n++
		}
	}
	if n == 0 {
		return "", nil, fmt.Errorf("%w: no data", ErrInvalidDataURI)
	}
	// Every 4 characters carry 3 bytes; padding only makes this an overestimate
	// by at most 2 bytes, and the exact check follows the decoding.
	if estimate := int64(n) / 4 * 3; maxBytes > 0 && estimate > maxBytes+2 {
		return "", nil, fmt.Errorf("%w: about %d bytes, at most %d allowed", ErrTooLarge, estimate, maxBytes)
	}
	compact := make([]byte, 0, n)
	urlSafe := false
	for i := 0; i < len(payload); i++ {
		c := payload[i]
		if isBase64Space(c) {
			continue
		}
		if c == '-' || c == '_' {
			urlSafe = true
		}
		compact = append(compact, c)
	}
	// Padding is optional: strip it (at most two '=') and decode without it.
	for i := 0; i < 2 && len(compact) > 0 && compact[len(compact)-1] == '='; i++ {
		compact = compact[:len(compact)-1]
	}
	enc := base64.RawStdEncoding
	if urlSafe {
		enc = base64.RawURLEncoding
	}
	data = make([]byte, enc.DecodedLen(len(compact)))
	written, err := enc.Decode(data, compact)
	if err != nil {
		return "", nil, fmt.Errorf("%w: bad base64: %v", ErrInvalidDataURI, err)
	}
	data = data[:written]
	if len(data) == 0 {
		return "", nil, fmt.Errorf("%w: no data", ErrInvalidDataURI)
	}
	if maxBytes > 0 && int64(len(data)) > maxBytes {
		return "", nil, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, len(data), maxBytes)
	}
	return mediaType, data, nil
}

// parseDataURIHeader checks "<mediatype>[;param=value]*;base64" and returns
// the media type.
func parseDataURIHeader(header string) (string, error) {
	params, encoding, hasParams := cutLast(header, ";")
	if !hasParams || !strings.EqualFold(strings.TrimSpace(encoding), "base64") {
		return "", fmt.Errorf("%w: only base64 data is accepted (\";base64,\" is missing)", ErrInvalidDataURI)
	}
	if strings.TrimSpace(params) == "" || strings.HasPrefix(strings.TrimSpace(params), ";") {
		// RFC 2397: an omitted media type means text/plain.
		return "text/plain", nil
	}
	mediaType, _, err := mime.ParseMediaType(params)
	if err != nil && err != mime.ErrInvalidMediaParameter {
		return "", fmt.Errorf("%w: bad media type %s", ErrInvalidDataURI, aimg.Quote(params))
	}
	return mediaType, nil
}

func cutLast(s, sep string) (before, after string, found bool) {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[:i], s[i+len(sep):], true
	}
	return s, "", false
}

func isBase64Space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// DataURI formats data as "data:<mediaType>;base64,<standard padded base64>".
func DataURI(mediaType string, data []byte) string {
	var b strings.Builder
	b.Grow(len("data:;base64,") + len(mediaType) + base64.StdEncoding.EncodedLen(len(data)))
	b.WriteString("data:")
	b.WriteString(mediaType)
	b.WriteString(";base64,")
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	enc.Write(data) // writes to a strings.Builder cannot fail
	enc.Close()
	return b.String()
}

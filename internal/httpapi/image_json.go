package httpapi

import (
	"io"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The listings' JSON (getMyCreations, getItems, the public feeds: every
// PagedEnvelope[[]Image]) is written by hand: encoding/json by reflection
// was about a seventh of a getMyCreations request's CPU (docs/performance.md,
// issue 11). The bytes are encoding/json's, as huma's format writes them
// (Encoder with SetEscapeHTML(false), a final newline): field order,
// omitempty, null for nil slices and pointers, the same string escaping.
// TestImageJSONMatchesEncodingJSON and FuzzImageJSON hold it to that; a
// field added to Image, Envelope or Pagination fails them until it is
// written here too. The OpenAPI schema still comes from the types.

// marshalFast writes v when it is a type with a hand-written encoder and
// reports whether it did.
func marshalFast(w io.Writer, v any) (bool, error) {
	e, ok := v.(PagedEnvelope[[]Image])
	if !ok {
		return false, nil
	}
	bp := jsonBuffers.Get().(*[]byte)
	b := appendPagedImages((*bp)[:0], &e)
	b = append(b, '\n')
	_, err := w.Write(b)
	if cap(b) <= maxPooledJSON {
		*bp = b
		jsonBuffers.Put(bp)
	}
	return true, err
}

// maxPooledJSON bounds the buffers kept for reuse (a page of 100 Images is
// about 50 KB; 1000 about 500 KB).
const maxPooledJSON = 1 << 20

var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// appendPagedImages appends e as encoding/json encodes it.
func appendPagedImages(b []byte, e *PagedEnvelope[[]Image]) []byte {
	b = append(b, `{"hasError":`...)
	b = strconv.AppendBool(b, e.HasError)
	if e.ErrorMessage != nil {
		b = append(b, `,"errorMessage":`...)
		b = appendJSONString(b, *e.ErrorMessage)
	}
	if e.ErrorCode != nil {
		b = append(b, `,"errorCode":`...)
		b = strconv.AppendInt(b, int64(*e.ErrorCode), 10)
	}
	b = append(b, `,"payload":`...)
	b = appendImages(b, e.Payload)
	b = append(b, `,"metadata":`...)
	b = appendPagination(b, &e.Metadata)
	return append(b, '}')
}

func appendImages(b []byte, images []Image) []byte {
	if images == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range images {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendImage(b, &images[i])
	}
	return append(b, ']')
}

// appendImage appends img as encoding/json encodes an Image.
func appendImage(b []byte, img *Image) []byte {
	b = append(b, `{"id":`...)
	b = appendJSONString(b, img.ID)
	if img.UserID != "" {
		b = append(b, `,"userID":`...)
		b = appendJSONString(b, img.UserID)
	}
	if img.BatchID != "" {
		b = append(b, `,"batchID":`...)
		b = appendJSONString(b, img.BatchID)
	}
	b = append(b, `,"url":`...)
	b = appendJSONString(b, img.URL)
	b = append(b, `,"viewCount":`...)
	b = strconv.AppendInt(b, img.ViewCount, 10)
	b = append(b, `,"likeCount":`...)
	b = strconv.AppendInt(b, img.LikeCount, 10)
	b = append(b, `,"dislikeCount":`...)
	b = strconv.AppendInt(b, img.DislikeCount, 10)
	if img.CompletedDate != nil {
		b = append(b, `,"completedDate":`...)
		b = strconv.AppendInt(b, *img.CompletedDate, 10)
	}
	if img.CompletedTimestamp != nil {
		b = append(b, `,"completedTimestamp":`...)
		b = appendJSONString(b, *img.CompletedTimestamp)
	}
	b = append(b, `,"mtype":`...)
	b = appendJSONString(b, img.MType)
	b = append(b, `,"mediaType":`...)
	b = appendJSONString(b, img.MediaType)
	b = append(b, `,"tags":`...)
	b = appendStrings(b, img.Tags)
	b = append(b, `,"isLiked":`...)
	b = strconv.AppendBool(b, img.IsLiked)
	b = append(b, `,"isDisliked":`...)
	b = strconv.AppendBool(b, img.IsDisliked)
	b = append(b, `,"isPublic":`...)
	b = strconv.AppendBool(b, img.IsPublic)
	b = append(b, `,"isPubliclyVisible":`...)
	b = strconv.AppendBool(b, img.IsPubliclyVisible)
	if img.PublicApprovalStatus != nil {
		b = append(b, `,"publicApprovalStatus":`...)
		b = appendJSONString(b, *img.PublicApprovalStatus)
	}
	if img.FolderID != nil {
		b = append(b, `,"folderID":`...)
		b = appendJSONString(b, *img.FolderID)
	}
	if img.FolderAddedDate != nil {
		b = append(b, `,"folderAddedDate":`...)
		b = strconv.AppendInt(b, *img.FolderAddedDate, 10)
	}
	if img.FolderAddedTimestamp != nil {
		b = append(b, `,"folderAddedTimestamp":`...)
		b = appendJSONString(b, *img.FolderAddedTimestamp)
	}
	return append(b, '}')
}

func appendPagination(b []byte, m *Pagination) []byte {
	b = append(b, `{"paginationIndex":`...)
	b = appendJSONString(b, m.PaginationIndex)
	b = append(b, `,"nextPaginationIndex":`...)
	if m.NextPaginationIndex == nil {
		b = append(b, "null"...)
	} else {
		b = appendJSONString(b, *m.NextPaginationIndex)
	}
	b = append(b, `,"reversePagination":`...)
	b = strconv.AppendBool(b, m.ReversePagination)
	b = append(b, `,"skipCount":`...)
	b = strconv.AppendInt(b, int64(m.SkipCount), 10)
	b = append(b, `,"limit":`...)
	b = strconv.AppendInt(b, int64(m.Limit), 10)
	b = append(b, `,"count":`...)
	b = strconv.AppendInt(b, int64(m.Count), 10)
	if m.TotalCount != nil {
		b = append(b, `,"totalCount":`...)
		b = strconv.AppendInt(b, *m.TotalCount, 10)
	}
	if m.ProLimitHit != nil {
		b = append(b, `,"proLimitHit":`...)
		b = strconv.AppendBool(b, *m.ProLimitHit)
	}
	return append(b, '}')
}

func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

// appendJSONString appends s quoted as encoding/json does without HTML
// escaping: \" \\ \b \f \n \r \t, \u00XX for the other control
// characters, \ufffd for each byte that is not UTF-8, \u2028 and \u2029
// escaped; everything else as is.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

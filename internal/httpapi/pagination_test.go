package httpapi

import (
	"strconv"
	"strings"
	"testing"

	"aimg/internal/aimg"
)

func TestParsePage(t *testing.T) {
	ok := []struct {
		in   PageQuery
		want aimg.Page
	}{
		{PageQuery{}, aimg.Page{Limit: 100}},
		{PageQuery{PaginationIndex: "0", Limit: "1"}, aimg.Page{Limit: 1}},
		{PageQuery{PaginationIndex: "1767323045000", ReversePagination: "true", Limit: "1000", SkipCount: "30"},
			aimg.Page{Index: 1767323045000, Reverse: true, Limit: 1000, Skip: 30}},
		{PageQuery{ReversePagination: "false", SkipCount: "0"}, aimg.Page{Limit: 100}},
	}
	for _, c := range ok {
		got, err := parsePage(c.in)
		if err != nil || got != c.want {
			t.Errorf("parsePage(%+v) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	bad := []struct {
		in    PageQuery
		field string
	}{
		{PageQuery{Limit: "0"}, "limit"},
		{PageQuery{Limit: "1001"}, "limit"},
		{PageQuery{Limit: "1.5"}, "limit"},
		{PageQuery{Limit: "99999999999999999999"}, "limit"},
		{PageQuery{SkipCount: "-1"}, "skipCount"},
		{PageQuery{PaginationIndex: "-1"}, "paginationIndex"},
		{PageQuery{PaginationIndex: "9223372036854775808"}, "paginationIndex"},
		{PageQuery{PaginationIndex: "abc"}, "paginationIndex"},
		{PageQuery{ReversePagination: "yes"}, "reversePagination"},
	}
	for _, c := range bad {
		_, err := parsePage(c.in)
		var ae *aimg.Error
		if !asAimg(err, &ae) || ae.Code != aimg.CodeInvalid || ae.Field != c.field {
			t.Errorf("parsePage(%+v) = %v; want an invalid %s", c.in, err, c.field)
		}
	}
}

func asAimg(err error, target **aimg.Error) bool {
	e, ok := err.(*aimg.Error)
	if ok {
		*target = e
	}
	return ok
}

// FuzzParsePage: whatever the client sends, the parser either refuses it
// naming a pagination parameter, or returns values inside the documented
// bounds that the metadata echoes faithfully.
func FuzzParsePage(f *testing.F) {
	f.Add("", "", "", "")
	f.Add("1767323045000", "true", "50", "10")
	f.Add("-1", "1", "0", "-3")
	f.Add(" 12 ", "F", "1000", "99999999999999999999")
	f.Fuzz(func(t *testing.T, index, reverse, limit, skip string) {
		q := PageQuery{PaginationIndex: index, ReversePagination: reverse, Limit: limit, SkipCount: skip}
		p, err := parsePage(q)
		if err != nil {
			var ae *aimg.Error
			if !asAimg(err, &ae) || ae.Code != aimg.CodeInvalid {
				t.Fatalf("error %v is not an invalid-parameter error", err)
			}
			switch ae.Field {
			case "paginationIndex", "reversePagination", "limit", "skipCount":
			default:
				t.Fatalf("error names %q", ae.Field)
			}
			if !strings.HasPrefix(ae.Message, ae.Field+":") {
				t.Fatalf("message %q does not name %s", ae.Message, ae.Field)
			}
			return
		}
		if p.Index < 0 || p.Limit < 1 || p.Limit > maxPageLimit || p.Skip < 0 {
			t.Fatalf("out of bounds: %+v", p)
		}
		if strings.TrimSpace(limit) == "" && p.Limit != defaultPageLimit {
			t.Fatalf("default limit %d", p.Limit)
		}
		m := pageMetadata(p, 0, nil, nil)
		if back, err := strconv.ParseInt(m.PaginationIndex, 10, 64); err != nil || back != p.Index {
			t.Fatalf("metadata index %q for %d", m.PaginationIndex, p.Index)
		}
		if m.Limit != p.Limit || m.SkipCount != p.Skip || m.ReversePagination != p.Reverse || m.NextPaginationIndex != nil {
			t.Fatalf("metadata %+v for %+v", m, p)
		}
	})
}

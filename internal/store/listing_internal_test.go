package store

import (
	"slices"
	"testing"

	"aimg/internal/aimg"
)

func TestNextIndex(t *testing.T) {
	key := func(v int64) int64 { return v }
	for _, tc := range []struct {
		name string
		rows []int64
		p    aimg.Page
		want []int64
		next *int64
	}{
		{"last page", []int64{9, 8}, aimg.Page{Limit: 2}, []int64{9, 8}, nil},
		{"unique keys", []int64{9, 8, 7}, aimg.Page{Limit: 2}, []int64{9, 8}, ptr(8)},
		// 8 is shared with the row after the page: it goes to the next page,
		// which starts below 9 (= 8 + 1), so neither 8 is lost.
		{"tie at the boundary", []int64{9, 8, 8}, aimg.Page{Limit: 2}, []int64{9}, ptr(9)},
		{"tie reversed", []int64{1, 2, 2}, aimg.Page{Limit: 2, Reverse: true}, []int64{1}, ptr(1)},
		{"whole page one key", []int64{5, 5, 5}, aimg.Page{Limit: 2}, []int64{5, 5}, ptr(5)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, next := nextIndex(tc.rows, tc.p, key)
			if !slices.Equal(got, tc.want) {
				t.Fatalf("page %v, want %v", got, tc.want)
			}
			if (next == nil) != (tc.next == nil) || next != nil && *next != *tc.next {
				t.Fatalf("next %v, want %v", deref(next), deref(tc.next))
			}
		})
	}
}

func TestKeysetListQuery(t *testing.T) {
	l := newKeysetList("id", "items", "created_at", "id").Where("user_id = ?", "u").WhereIn("mtype", []string{"image", "video"})
	q, args := l.Page(aimg.Page{Index: 100, Limit: 10, Skip: 5}, Postgres)
	want := "SELECT id FROM items WHERE user_id = $1 AND mtype IN ($2, $3) AND created_at < $4 ORDER BY created_at DESC, id DESC LIMIT 11 OFFSET 5"
	if q != want || len(args) != 4 || args[3] != int64(100) {
		t.Fatalf("page query\n got %s %v\nwant %s", q, args, want)
	}
	q, _ = l.Page(aimg.Page{Reverse: true, Limit: 1}, Postgres)
	if want := "SELECT id FROM items WHERE user_id = $1 AND mtype IN ($2, $3) AND created_at > $4 ORDER BY created_at, id LIMIT 2"; q != want {
		t.Fatalf("reverse query\n got %s\nwant %s", q, want)
	}
	if q, args := l.Count(); q != "SELECT COUNT(*) FROM items WHERE user_id = $1 AND mtype IN ($2, $3)" || len(args) != 3 {
		t.Fatalf("count query %s %v", q, args)
	}
}

func ptr(v int64) *int64 { return &v }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

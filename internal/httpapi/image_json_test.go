package httpapi

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// standardJSON is what huma's default JSON format writes for v.
func standardJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := huma.DefaultJSONFormat.Marshal(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// ourJSON is what the API's format (jsonFormats) writes for v.
func ourJSON(t testing.TB, v any) string {
	t.Helper()
	var buf bytes.Buffer
	if err := jsonFormats()["application/json"].Marshal(&buf, v); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// awkward are strings that exercise every branch of encoding/json's string
// escaping: quotes, backslashes, each control character, DEL, HTML
// characters (not escaped by huma's encoder), U+2028/U+2029, bytes that are
// not UTF-8 (alone, truncated sequences, surrogates, overlong forms), and
// multi-byte text.
var awkward = []string{
	"", "plain", `"quoted"`, `back\slash`, "\b\f\n\r\t", "\x00\x01\x1f", "\x7f", "<script>&amp;</script>",
	"line\u2028para\u2029end", "\u2027\u202a", "\xff", "a\xe2\x82", "\xe2\x82\xac", "\xed\xa0\x80", "\xc0\xaf",
	"日本語のタグ", "emoji 🦊🎨", "mixed \"ü\"\n\xfe\x00é", strings.Repeat("x", 300) + "\t",
}

// firstDiff shows where got and want part.
func firstDiff(got, want string) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	from := max(0, i-60)
	return fmt.Sprintf("differ at byte %d:\n got …%q\nwant …%q", i, got[from:min(len(got), i+60)], want[from:min(len(want), i+60)])
}

func int64p(v int64) *int64 { return &v }
func strp(v string) *string { return &v }

// TestImageJSONMatchesEncodingJSON: the hand-written listing encoder writes
// encoding/json's bytes for chosen Images and envelopes, for random ones
// with every field set (a field added to the types and not to the encoder
// fails here), and for envelopes of other types it leaves alone.
func TestImageJSONMatchesEncodingJSON(t *testing.T) {
	full := Image{ID: "id", UserID: "u", BatchID: "b", URL: "http://x/api/getFile?id=f&x=<1>", ViewCount: math.MaxInt64,
		LikeCount: math.MinInt64, DislikeCount: -1, CompletedDate: int64p(1767323046500), CompletedTimestamp: strp("2026-01-02T03:04:06.500Z"),
		MType: "image", MediaType: "StaticImage", Tags: []string{"fox", "red"}, IsLiked: true, IsDisliked: true, IsPublic: true,
		IsPubliclyVisible: true, PublicApprovalStatus: strp("approved"), FolderID: strp("p-1"), FolderAddedDate: int64p(0),
		FolderAddedTimestamp: strp("")}
	cases := map[string]PagedEnvelope[[]Image]{
		"nil payload":         {},
		"empty payload":       {Envelope: Envelope[[]Image]{Payload: []Image{}}},
		"zero Image":          {Envelope: Envelope[[]Image]{Payload: []Image{{}}}},
		"empty tags, strings": {Envelope: Envelope[[]Image]{Payload: []Image{{Tags: []string{}, PublicApprovalStatus: strp(""), FolderID: strp("")}}}},
		"every field": {Envelope: Envelope[[]Image]{HasError: true, ErrorMessage: strp("bad \"x\"\n"), ErrorCode: new(int), Payload: []Image{full, full}},
			Metadata: Pagination{PaginationIndex: "0", NextPaginationIndex: strp("17"), ReversePagination: true, SkipCount: -3, Limit: 1000,
				Count: 2, TotalCount: int64p(1 << 40), ProLimitHit: new(bool)}},
	}
	for i, s := range awkward {
		img := full
		img.ID, img.UserID, img.URL, img.MType, img.Tags, img.FolderID = s, s, s+s, s, []string{s, "", s}, strp(s)
		cases["awkward "+string(rune('a'+i))] = PagedEnvelope[[]Image]{Envelope: Envelope[[]Image]{Payload: []Image{img}},
			Metadata: Pagination{PaginationIndex: s, NextPaginationIndex: strp(s)}}
	}
	rng := rand.New(rand.NewPCG(11, 36))
	for i := range 200 {
		var e PagedEnvelope[[]Image]
		fill(rng, reflect.ValueOf(&e).Elem(), i%2 == 0)
		cases["random "+string(rune('A'+i%26))+string(rune('a'+i/26))] = e
	}
	for name, e := range cases {
		if got, want := ourJSON(t, e), standardJSON(t, e); got != want {
			t.Errorf("%s: %s", name, firstDiff(got, want))
		}
	}
	// Other bodies go through encoding/json as before.
	every := cases["every field"]
	for _, v := range []any{Envelope[[]Image]{Payload: []Image{full}}, &every, Envelope[Image]{Payload: full}} {
		if got, want := ourJSON(t, v), standardJSON(t, v); got != want {
			t.Errorf("%T: %s", v, firstDiff(got, want))
		}
	}
}

// fill sets every field of v at random: strings from awkward or random
// bytes, numbers across their range, pointers and slices present (all set)
// or present at random, so omitted and null fields are covered too.
func fill(rng *rand.Rand, v reflect.Value, all bool) {
	switch v.Kind() {
	case reflect.Struct:
		for i := range v.NumField() {
			fill(rng, v.Field(i), all)
		}
	case reflect.Pointer:
		if all || rng.IntN(2) == 0 {
			v.Set(reflect.New(v.Type().Elem()))
			fill(rng, v.Elem(), all)
		}
	case reflect.Slice:
		if all || rng.IntN(3) > 0 {
			n := rng.IntN(4)
			if all {
				n++
			}
			v.Set(reflect.MakeSlice(v.Type(), n, n))
			for i := range n {
				fill(rng, v.Index(i), all)
			}
		}
	case reflect.String:
		if rng.IntN(2) == 0 {
			v.SetString(awkward[rng.IntN(len(awkward))])
		} else {
			b := make([]byte, rng.IntN(12))
			for i := range b {
				b[i] = byte(rng.UintN(256))
			}
			v.SetString(string(b))
		}
		if all && v.String() == "" {
			v.SetString("set")
		}
	case reflect.Bool:
		v.SetBool(all || rng.IntN(2) == 0)
	case reflect.Int, reflect.Int64:
		switch rng.IntN(4) {
		case 0:
			v.SetInt(0)
		case 1:
			v.SetInt(rng.Int64() - math.MaxInt64/2)
		case 2:
			v.SetInt(math.MinInt64 >> (64 - v.Type().Bits()))
		default:
			v.SetInt(math.MaxInt64 >> (64 - v.Type().Bits()))
		}
		if all && v.Int() == 0 {
			v.SetInt(7)
		}
	default:
		panic("fill: unhandled kind " + v.Kind().String() + "; teach fill (and the encoder) the new field")
	}
}

// FuzzImageJSON: any strings and numbers in an Image and its envelope
// encode to encoding/json's bytes.
func FuzzImageJSON(f *testing.F) {
	for _, s := range awkward {
		f.Add(s, s+"x", "tag "+s, int64(len(s)), true, uint8(0xff))
	}
	f.Fuzz(func(t *testing.T, a, b, tag string, n int64, flag bool, present uint8) {
		img := Image{ID: a, UserID: b, BatchID: a + b, URL: b, ViewCount: n, LikeCount: -n, DislikeCount: n >> 3, MType: tag,
			MediaType: a, Tags: []string{tag, a, b}, IsLiked: flag, IsDisliked: !flag, IsPublic: flag, IsPubliclyVisible: flag}
		opt := func(bit uint8) bool { return present&(1<<bit) != 0 }
		if opt(0) {
			img.CompletedDate, img.CompletedTimestamp = &n, &a
		}
		if opt(1) {
			img.PublicApprovalStatus = &b
		}
		if opt(2) {
			img.FolderID, img.FolderAddedDate, img.FolderAddedTimestamp = &tag, &n, &b
		}
		if opt(3) {
			img.Tags = nil
		}
		e := PagedEnvelope[[]Image]{Envelope: Envelope[[]Image]{Payload: []Image{img, {ID: b, Tags: []string{}}}},
			Metadata: Pagination{PaginationIndex: tag, Limit: int(n), Count: 2}}
		if opt(4) {
			e.ErrorMessage, e.Metadata.NextPaginationIndex, e.Metadata.TotalCount = &a, &b, &n
		}
		if got, want := ourJSON(t, e), standardJSON(t, e); got != want {
			t.Fatal(firstDiff(got, want))
		}
	})
}

// The hand-written path allocates nothing for a page once its buffer is
// pooled (encoding/json's reflection allocated per field).
func BenchmarkImagePageJSON(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	var e PagedEnvelope[[]Image]
	for range 100 {
		var img Image
		fill(rng, reflect.ValueOf(&img).Elem(), true)
		e.Payload = append(e.Payload, img)
	}
	for _, f := range []struct {
		name   string
		format huma.Format
	}{{"encoding-json", huma.DefaultJSONFormat}, {"hand-written", jsonFormats()["application/json"]}} {
		b.Run(f.name, func(b *testing.B) {
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				buf.Reset()
				if err := f.format.Marshal(&buf, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

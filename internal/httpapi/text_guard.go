package httpapi

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/danielgtaylor/huma/v2"

	"aimg/internal/aimg"
)

// textRule is what the surface requires of client text that may reach a
// database: PostgreSQL cannot store a NUL character or bytes that are not
// UTF-8 (SQLSTATE 22021, which was a 500), SQLite would store them. Both now
// answer the same 400, naming where the text was.
const textRule = "must be UTF-8 text without NUL characters"

// storable reports whether s obeys textRule.
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// textHeaders are the headers whose values the AIMG API stores.
var textHeaders = []string{"Idempotency-Key"}

// checkText answers 400 for a query parameter (name or value) or a stored
// header that breaks textRule, before anything is looked up.
func checkText(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if field, ok := queryStorable(r.URL.RawQuery); !ok {
				writeError(w, r, http.StatusBadRequest, field+": "+textRule)
				return
			}
			for _, h := range textHeaders {
				for _, v := range r.Header.Values(h) {
					if !storable(v) {
						writeError(w, r, http.StatusBadRequest, h+": "+textRule)
						return
					}
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// queryStorable checks every name and value of a raw query; on failure it
// returns the parameter's name (quoted and cut when the name is the culprit).
func queryStorable(raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	q, _ := url.ParseQuery(raw) // malformed pairs are left to the operation
	names := make([]string, 0, len(q))
	for k := range q {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !storable(k) {
			return aimg.Quote(k), false
		}
		for _, v := range q[k] {
			if !storable(v) {
				return k, false
			}
		}
	}
	return "", true
}

// guardJSON wraps a huma format so that a JSON body with a NUL character in
// any string (name or value, at any depth) fails huma's validation pass
// with the path of the string. Only `\u0000` can put a NUL in a JSON
// string, and encoding/json turns bytes that are not UTF-8 into U+FFFD, so
// the walk runs only when the escape is in the text.
func guardJSON(f huma.Format) huma.Format {
	unmarshal := f.Unmarshal
	f.Unmarshal = func(data []byte, v any) error {
		if err := unmarshal(data, v); err != nil {
			return err
		}
		if p, ok := v.(*any); ok && bytes.Contains(data, []byte(`\u0000`)) {
			if path, bad := unstorable(*p, ""); bad {
				if path == "" {
					path = "body"
				}
				return fmt.Errorf("%s: %s", path, textRule)
			}
		}
		return nil
	}
	return f
}

// unstorable finds the first string in a decoded JSON value that breaks
// textRule and returns its path (`logs[1].message`).
func unstorable(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, !storable(x)
	case []any:
		for i, e := range x {
			if p, bad := unstorable(e, path+"["+strconv.Itoa(i)+"]"); bad {
				return p, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if !storable(k) {
				return path + aimg.Quote(k), true
			}
			if p, bad := unstorable(x[k], p); bad {
				return p, true
			}
		}
	}
	return "", false
}

// jsonFormats is huma's default formats with guardJSON applied and the
// listings' hand-written encoder (image_json.go) in front of Marshal (a
// copy: huma.DefaultFormats is shared by every API in the process).
func jsonFormats() map[string]huma.Format {
	out := make(map[string]huma.Format, len(huma.DefaultFormats))
	for k, f := range huma.DefaultFormats {
		out[k] = fastJSON(guardJSON(f))
	}
	return out
}

// fastJSON wraps a huma format so that the types with a hand-written
// encoder (marshalFast) skip encoding/json's reflection.
func fastJSON(f huma.Format) huma.Format {
	marshal := f.Marshal
	f.Marshal = func(w io.Writer, v any) error {
		if done, err := marshalFast(w, v); done {
			return err
		}
		return marshal(w, v)
	}
	return f
}

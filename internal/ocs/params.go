package ocs

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"aimg/internal/aimg"
)

// Limits bounds what ParseRequest accepts from one request.
type Limits struct {
	MaxBodyBytes int64 // body size; over it: 413
	MaxKeys      int   // form pairs per source, or JSON members and elements in all; over it: 400
	MaxDepth     int   // nesting below the top-level parameters; over it: 400
}

// DefaultLimits are PHP's max_input_vars (1000) and a nesting depth of 10
// (PHP's max_input_nesting_level is 64; no OCS client nests beyond 3).
var DefaultLimits = Limits{MaxBodyBytes: 1 << 20, MaxKeys: 1000, MaxDepth: 10}

func (l Limits) orDefault() Limits {
	if l.MaxBodyBytes <= 0 {
		l.MaxBodyBytes = DefaultLimits.MaxBodyBytes
	}
	if l.MaxKeys <= 0 {
		l.MaxKeys = DefaultLimits.MaxKeys
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	return l
}

// phpArray is a PHP array: ordered, keys either integers (kept as their
// canonical decimal string) or strings, and a next free integer index.
type phpArray struct {
	keys []string
	vals map[string]any // string or *phpArray
	next int64
}

func newPHPArray() *phpArray { return &phpArray{vals: map[string]any{}} }

func (a *phpArray) get(k string) (any, bool) { v, ok := a.vals[k]; return v, ok }

// set is zend_symtable_update: canonical integer keys move the next index.
func (a *phpArray) set(k string, v any) {
	if n, ok := intKey(k); ok && n >= a.next {
		if n == 1<<63-1 {
			a.next = n
		} else {
			a.next = n + 1
		}
	}
	if _, ok := a.vals[k]; !ok {
		a.keys = append(a.keys, k)
	}
	a.vals[k] = v
}

// appendValue is zend_hash_next_index_insert ($a[] = v); false when the
// next index is exhausted, as PHP then drops the value.
func (a *phpArray) appendValue(v any) bool {
	k := strconv.FormatInt(a.next, 10)
	if _, taken := a.vals[k]; taken {
		return false
	}
	a.set(k, v)
	return true
}

// intKey tells whether k is a canonical decimal integer, which PHP's
// symbol tables store as an integer key ("12", "-3"; not "012", "+1", "-0").
func intKey(k string) (int64, bool) {
	if k == "" || len(k) > 20 {
		return 0, false
	}
	s := k
	if s[0] == '-' {
		s = s[1:]
	}
	if s == "" || (s[0] == '0' && (len(s) > 1 || k[0] == '-')) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(k, 10, 64)
	return n, err == nil
}

// export turns the PHP array into Go values as json_encode would see it:
// a list ([]any) when its keys are 0..n-1 in order, else a map.
func (a *phpArray) export() any {
	list := true
	for i, k := range a.keys {
		if k != strconv.Itoa(i) {
			list = false
			break
		}
	}
	if list && len(a.keys) > 0 {
		out := make([]any, len(a.keys))
		for i, k := range a.keys {
			out[i] = exportValue(a.vals[k])
		}
		return out
	}
	return a.exportMap()
}

func (a *phpArray) exportMap() map[string]any {
	out := make(map[string]any, len(a.keys))
	for _, k := range a.keys {
		out[k] = exportValue(a.vals[k])
	}
	return out
}

func exportValue(v any) any {
	if a, ok := v.(*phpArray); ok {
		return a.export()
	}
	return v
}

var (
	errTooManyKeys = errors.New("too many keys")
	errTooDeep     = errors.New("nested too deeply")
)

// ParseStr parses an application/x-www-form-urlencoded string as PHP's
// parse_str (php_register_variable_ex) does: "a[b][c]=x" nests, "a[]=x"
// appends, later keys override earlier ones, spaces and dots in the name
// before the first "[" become "_", a "[" without its "]" becomes "_",
// anything after a "]" that is not "[" is ignored, pairs without a name are
// ignored. It refuses (instead of PHP's silent truncation) more than
// maxKeys pairs and names nested deeper than maxDepth.
func ParseStr(s string, maxKeys, maxDepth int) (map[string]any, error) {
	a, err := parseStr(s, maxKeys, maxDepth)
	if err != nil {
		return nil, err
	}
	return a.exportMap(), nil
}

func parseStr(s string, maxKeys, maxDepth int) (*phpArray, error) {
	top := newPHPArray()
	count := 0
	for len(s) > 0 {
		var pair string
		pair, s, _ = strings.Cut(s, "&")
		if pair == "" {
			continue
		}
		count++
		if count > maxKeys {
			return nil, errTooManyKeys
		}
		rawName, rawValue, _ := strings.Cut(pair, "=")
		name := phpURLDecode(rawName)
		value := phpURLDecode(rawValue)
		if err := register(top, name, value, maxDepth); err != nil {
			return nil, err
		}
	}
	return top, nil
}

// isCSpace is C's isspace in the "C" locale.
func isCSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// phpURLDecode is PHP's urldecode: "+" is a space, "%XX" a byte, a "%"
// not followed by two hex digits stays as it is.
func phpURLDecode(s string) string {
	if !strings.ContainsAny(s, "+%") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// register is php_register_variable_ex for one name=value pair.
func register(top *phpArray, name, value string, maxDepth int) error {
	// PHP cuts the name at a NUL byte (C strings).
	if i := strings.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	name = strings.TrimLeft(name, " ")
	// The variable name: up to the first "[", with " " and "." as "_".
	var base []byte
	rest := ""
	isArray := false
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c == '[' {
			isArray = true
			rest = name[i+1:] // after the "["
			break
		}
		if c == ' ' || c == '.' {
			c = '_'
		}
		base = append(base, c)
	}
	if len(base) == 0 {
		return nil
	}
	// Discard a name that the mangling made start with __Host- or
	// __Secure- (cookie prefixes PHP protects).
	for _, prefix := range []string{"__Host-", "__Secure-"} {
		if strings.HasPrefix(string(base), prefix) && !strings.HasPrefix(name, prefix) {
			return nil
		}
	}
	index, hasIndex := string(base), true
	table := top
	if isArray {
		level := 0
		for {
			level++
			if level > maxDepth {
				return errTooDeep
			}
			var next string
			nextHas := true
			// One white-space character before "]" still makes "[]".
			if strings.HasPrefix(rest, "]") || (len(rest) > 1 && isCSpace(rest[0]) && rest[1] == ']') {
				nextHas = false
				rest = rest[strings.IndexByte(rest, ']')+1:]
			} else {
				j := strings.IndexByte(rest, ']')
				if j < 0 {
					if level == 1 {
						// Not an index: the "[" becomes "_" and the whole
						// name is a plain variable, with " ", "." and "["
						// of the rest as "_" ("a[b.c" is "a_b_c").
						index = string(base) + "_" + strings.Map(func(r rune) rune {
							if r == ' ' || r == '.' || r == '[' {
								return '_'
							}
							return r
						}, rest)
					}
					// Deeper, PHP keeps the index read so far.
					break
				}
				next = rest[:j]
				rest = rest[j+1:]
			}
			// Descend into table[index] (or a new appended element).
			var child *phpArray
			if !hasIndex {
				child = newPHPArray()
				if !table.appendValue(child) {
					return nil
				}
			} else {
				cur, ok := table.get(index)
				if c, isArr := cur.(*phpArray); ok && isArr {
					child = c
				} else {
					child = newPHPArray()
					table.set(index, child)
				}
			}
			table = child
			index, hasIndex = next, nextHas
			if strings.HasPrefix(rest, "[") {
				rest = rest[1:]
				continue
			}
			break
		}
	}
	if !hasIndex {
		table.appendValue(value)
		return nil
	}
	table.set(index, value)
	return nil
}

// jsonContentType is Nextcloud's IRequest::JSON_CONTENT_TYPE_REGEX.
var jsonContentType = regexp.MustCompile(`^application/(?:[a-z0-9.-]+\+)?json\b`)

// ParseRequest reads the request parameters as Nextcloud's Request merges
// them (array_merge of $_GET, then the body, later sources overriding
// earlier ones key by key at the top level): the query string, then a JSON
// body (any method; Content-Type matching JSON_CONTENT_TYPE_REGEX) or a
// form body (application/x-www-form-urlencoded, any method but GET, as
// $_POST for POST and parse_str for PUT, PATCH, DELETE). Route parameters
// are the caller's. Values are strings, []any and map[string]any from
// forms and the query, JSON values (json.Number for numbers) from JSON.
//
// Errors are *aimg.Error: 413 (CodeTooLarge) over MaxBodyBytes, 400
// (CodeInvalid) for malformed JSON or a budget exceeded.
func ParseRequest(r *http.Request, lim Limits) (map[string]any, error) {
	lim = lim.orDefault()
	params := newPHPArray()
	if r.URL != nil && r.URL.RawQuery != "" {
		q, err := parseStr(r.URL.RawQuery, lim.MaxKeys, lim.MaxDepth)
		if err != nil {
			return nil, budgetError("query", err)
		}
		params = q
	}
	ct := r.Header.Get("Content-Type")
	isJSON := jsonContentType.MatchString(ct)
	isForm := !isJSON && r.Method != http.MethodGet &&
		strings.Contains(strings.ToLower(ct), "application/x-www-form-urlencoded")
	if (isJSON || isForm) && r.Body != nil {
		body, err := io.ReadAll(io.LimitReader(r.Body, lim.MaxBodyBytes+1))
		if err != nil {
			return nil, aimg.Errorf(aimg.CodeInvalid, "Could not read the request body")
		}
		if int64(len(body)) > lim.MaxBodyBytes {
			return nil, aimg.Errorf(aimg.CodeTooLarge, "The request body is larger than %d bytes", lim.MaxBodyBytes)
		}
		var b *phpArray
		if isJSON {
			b, err = parseJSONBody(body, lim)
		} else {
			b, err = parseStr(string(body), lim.MaxKeys, lim.MaxDepth)
		}
		if err != nil {
			return nil, budgetError("body", err)
		}
		if b != nil {
			params = arrayMerge(params, b)
		}
	}
	return params.exportMap(), nil
}

func budgetError(where string, err error) error {
	var e *aimg.Error
	if errors.As(err, &e) {
		return e
	}
	switch err {
	case errTooManyKeys:
		return aimg.Errorf(aimg.CodeInvalid, "The request %s has too many parameters", where)
	case errTooDeep:
		return aimg.Errorf(aimg.CodeInvalid, "The request %s nests parameters too deeply", where)
	}
	return aimg.Errorf(aimg.CodeInvalid, "The request %s is malformed", where)
}

// arrayMerge is PHP's array_merge: string keys of b override a's, integer
// keys are renumbered and appended.
func arrayMerge(a, b *phpArray) *phpArray {
	out := newPHPArray()
	for _, src := range []*phpArray{a, b} {
		for _, k := range src.keys {
			if _, isInt := intKey(k); isInt {
				out.appendValue(src.vals[k])
			} else {
				out.set(k, src.vals[k])
			}
		}
	}
	return out
}

// parseJSONBody is json_decode($body, true) where Nextcloud keeps the result
// only when it is a non-empty array: an object, or a list (integer keys).
// A scalar or empty body gives no parameters; malformed JSON is refused
// (Nextcloud ignores it silently).
func parseJSONBody(body []byte, lim Limits) (*phpArray, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, aimg.Errorf(aimg.CodeInvalid, "The request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, aimg.Errorf(aimg.CodeInvalid, "The request body is not valid JSON")
	}
	keys := 0
	if err := checkJSON(v, 0, &keys, lim); err != nil {
		return nil, err
	}
	out := newPHPArray()
	switch t := v.(type) {
	case map[string]any:
		// Go's decoder loses the member order; keys are sorted for a
		// deterministic result (order matters only for integer keys).
		for _, k := range sortedKeys(t) {
			out.set(k, t[k])
		}
	case []any:
		for _, e := range t {
			out.appendValue(e)
		}
	default:
		return nil, nil
	}
	return out, nil
}

// checkJSON enforces MaxKeys (members and elements in all) and MaxDepth
// (containers below the top-level one).
func checkJSON(v any, depth int, keys *int, lim Limits) error {
	var n int
	var kids []any
	switch t := v.(type) {
	case map[string]any:
		n = len(t)
		for _, c := range t {
			kids = append(kids, c)
		}
	case []any:
		n = len(t)
		kids = t
	default:
		return nil
	}
	if depth > lim.MaxDepth {
		return errTooDeep
	}
	*keys += n
	if *keys > lim.MaxKeys {
		return errTooManyKeys
	}
	for _, c := range kids {
		if err := checkJSON(c, depth+1, keys, lim); err != nil {
			return err
		}
	}
	return nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func sortStrings(s []string) { sort.Strings(s) }

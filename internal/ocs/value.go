package ocs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// value is the ordered tree an envelope is rendered from: PHP arrays keep
// insertion order, so the tree does too (Go maps come out with sorted keys,
// structs in field order, as encoding/json gives them).
type value interface{ isValue() }

type (
	str     string
	number  string // a JSON number literal
	boolean bool
	null    struct{}
	object  struct {
		keys []string
		vals []value
	}
	array struct{ elems []value }
)

func (str) isValue()     {}
func (number) isValue()  {}
func (boolean) isValue() {}
func (null) isValue()    {}
func (*object) isValue() {}
func (*array) isValue()  {}

func (o *object) add(k string, v value) { o.keys = append(o.keys, k); o.vals = append(o.vals, v) }

// toValue converts any value encoding/json accepts (so json.Marshaler plays
// the part of PHP's JsonSerializable) into the ordered tree.
func toValue(v any) (value, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	return decodeValue(dec)
}

var errBadJSON = errors.New("ocs: unexpected JSON token")

func decodeValue(dec *json.Decoder) (value, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			o := &object{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, ok := kt.(string)
				if !ok {
					return nil, errBadJSON
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				o.add(k, v)
			}
			_, err := dec.Token()
			return o, err
		case '[':
			a := &array{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a.elems = append(a.elems, v)
			}
			_, err := dec.Token()
			return a, err
		}
	case string:
		return str(t), nil
	case json.Number:
		return number(t), nil
	case bool:
		return boolean(t), nil
	case nil:
		return null{}, nil
	}
	return nil, errBadJSON
}

// writeJSON writes v as PHP's json_encode($v, JSON_HEX_TAG) does: "/" as
// "\/", non-ASCII as \uXXXX, "<" and ">" as \u003C and \u003E.
func writeJSON(w *bytes.Buffer, v value) {
	switch t := v.(type) {
	case str:
		writeJSONString(w, string(t))
	case number:
		w.WriteString(string(t))
	case boolean:
		if t {
			w.WriteString("true")
		} else {
			w.WriteString("false")
		}
	case null:
		w.WriteString("null")
	case *object:
		w.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSONString(w, k)
			w.WriteByte(':')
			writeJSON(w, t.vals[i])
		}
		w.WriteByte('}')
	case *array:
		w.WriteByte('[')
		for i, e := range t.elems {
			if i > 0 {
				w.WriteByte(',')
			}
			writeJSON(w, e)
		}
		w.WriteByte(']')
	}
}

func writeJSONString(w *bytes.Buffer, s string) {
	w.WriteByte('"')
	for _, r := range s { // invalid UTF-8 becomes U+FFFD
		switch {
		case r == '"':
			w.WriteString(`\"`)
		case r == '\\':
			w.WriteString(`\\`)
		case r == '/':
			w.WriteString(`\/`)
		case r == '<':
			w.WriteString(`\u003C`)
		case r == '>':
			w.WriteString(`\u003E`)
		case r == '\b':
			w.WriteString(`\b`)
		case r == '\f':
			w.WriteString(`\f`)
		case r == '\n':
			w.WriteString(`\n`)
		case r == '\r':
			w.WriteString(`\r`)
		case r == '\t':
			w.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(w, `\u%04x`, r)
		case r < 0x80:
			w.WriteRune(r)
		case r > 0xFFFF:
			r -= 0x10000
			fmt.Fprintf(w, `\u%04x\u%04x`, 0xD800+(r>>10), 0xDC00+(r&0x3FF))
		default:
			fmt.Fprintf(w, `\u%04x`, r)
		}
	}
	w.WriteByte('"')
}

// The XML writer reproduces what BaseResponse::toXML produces through PHP's
// XMLWriter (libxml2's xmlTextWriter) with setIndent(true): one space per
// level, an element with text on one line, an element with neither text nor
// children as <name/>, an element with an empty text as <name></name>.
type xmlWriter struct {
	w     *bytes.Buffer
	depth int
}

func writeXMLDocument(w *bytes.Buffer, root *object) {
	w.WriteString("<?xml version=\"1.0\"?>\n")
	x := &xmlWriter{w: w}
	x.children(root.keys, root.vals)
}

func (x *xmlWriter) indent() {
	for i := 0; i < x.depth; i++ {
		x.w.WriteByte(' ')
	}
}

// children writes the entries of one PHP array (object keys, or list
// indices when keys is nil) inside the current element. It returns the
// attributes to put on the enclosing start tag: toXML writes "@name" keys
// and "@attributes" maps as attributes, which XMLWriter accepts only before
// any child, so callers collect them first.
func (x *xmlWriter) children(keys []string, vals []value) {
	for i, v := range vals {
		name := "element"
		if keys != nil {
			k := keys[i]
			if k == "@attributes" || strings.HasPrefix(k, "@") {
				continue // written by element() as attributes
			}
			if k == "$comment" {
				x.indent()
				x.w.WriteString("<!--")
				x.w.WriteString(strings.ReplaceAll(validXMLChars(scalarText(v)), "--", "- -"))
				x.w.WriteString("-->\n")
				continue
			}
			if !isNumeric(k) {
				name = k
			}
		}
		x.element(name, v)
	}
}

func (x *xmlWriter) element(name string, v value) {
	var attrs [][2]string
	if !validXMLName(name) {
		attrs = append(attrs, [2]string{"key", name})
		name = "element"
	}
	x.indent()
	x.w.WriteByte('<')
	x.w.WriteString(name)
	var keys []string
	var vals []value
	container := false
	switch t := v.(type) {
	case *object:
		container = true
		keys, vals = t.keys, t.vals
		if keys == nil {
			keys = []string{}
		}
		attrs = append(attrs, attributes(t)...)
	case *array:
		container = true
		vals = t.elems
	}
	for _, a := range attrs {
		x.w.WriteByte(' ')
		x.w.WriteString(a[0])
		x.w.WriteString(`="`)
		x.w.WriteString(escapeXML(a[1], true))
		x.w.WriteByte('"')
	}
	if container {
		if !hasChildren(keys, vals) {
			x.w.WriteString("/>\n")
			return
		}
		x.w.WriteString(">\n")
		x.depth++
		if t, ok := v.(*object); ok {
			x.children(t.keys, t.vals)
		} else {
			x.children(nil, vals)
		}
		x.depth--
		x.indent()
		x.w.WriteString("</")
		x.w.WriteString(name)
		x.w.WriteString(">\n")
		return
	}
	if _, ok := v.(null); ok {
		x.w.WriteString("/>\n")
		return
	}
	x.w.WriteByte('>')
	x.w.WriteString(escapeXML(scalarText(v), false))
	x.w.WriteString("</")
	x.w.WriteString(name)
	x.w.WriteString(">\n")
}

// attributes collects the "@attributes" map and "@name" entries of o that
// come before its first child element; XMLWriter refuses (drops) the later
// ones, and names that are not XML names.
func attributes(o *object) [][2]string {
	var out [][2]string
	for i, k := range o.keys {
		switch {
		case k == "@attributes":
			if m, ok := o.vals[i].(*object); ok {
				for j, ak := range m.keys {
					if validXMLName(ak) {
						out = append(out, [2]string{ak, scalarText(m.vals[j])})
					}
				}
			} else if _, ok := o.vals[i].(*array); !ok {
				// "@attributes" with a scalar is an attribute named "attributes".
				out = append(out, [2]string{"attributes", scalarText(o.vals[i])})
			}
		case strings.HasPrefix(k, "@"):
			if validXMLName(k[1:]) {
				out = append(out, [2]string{k[1:], scalarText(o.vals[i])})
			}
		default:
			return out
		}
	}
	return out
}

func hasChildren(keys []string, vals []value) bool {
	if keys == nil {
		return len(vals) > 0
	}
	for _, k := range keys {
		if !strings.HasPrefix(k, "@") {
			return true
		}
	}
	return false
}

// scalarText is PHP's (string) cast of a scalar: true "1", false "",
// null "", numbers as written. Containers (only reachable through
// attributes or comments) give "Array", as PHP's cast does.
func scalarText(v value) string {
	switch t := v.(type) {
	case str:
		return string(t)
	case number:
		return string(t)
	case boolean:
		if t {
			return "1"
		}
		return ""
	case null:
		return ""
	}
	return "Array"
}

// escapeXML escapes text as libxml2 does (xmlEncodeSpecialChars for text,
// attribute escaping for attributes) and replaces characters XML cannot
// carry with U+FFFD, so the output always parses.
func escapeXML(s string, attr bool) string {
	var b strings.Builder
	for _, r := range validXMLChars(s) {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\r':
			b.WriteString("&#13;")
		case '\n':
			if attr {
				b.WriteString("&#10;")
			} else {
				b.WriteRune(r)
			}
		case '\t':
			if attr {
				b.WriteString("&#9;")
			} else {
				b.WriteRune(r)
			}
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func validXMLChars(s string) string {
	ok := true
	for _, r := range s {
		if !isXMLChar(r) || r == utf8.RuneError {
			ok = false
			break
		}
	}
	if ok {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if !isXMLChar(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// validXMLName tells whether s is an ASCII XML name without a colon:
// [A-Za-z_][A-Za-z0-9_.-]*. PHP's XMLWriter refuses names that are not XML
// names, and Nextcloud then fails the request; AIMG writes
// <element key="..."> instead. Non-ASCII names are written that way too:
// XML 1.0 editions and parsers (libxml2's, Go's) disagree on which
// non-ASCII letters a name may hold.
func validXMLName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		if i == 0 && !letter {
			return false
		}
		if !letter && c != '-' && c != '.' && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// isNumeric is PHP 8's is_numeric for strings: optional leading and
// trailing whitespace, a sign, digits with an optional fraction, an
// optional exponent.
func isNumeric(s string) bool {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	s = strings.TrimRight(s, " \t\n\r\v\f")
	if s != "" && (s[0] == '+' || s[0] == '-') {
		s = s[1:]
	}
	digits := 0
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i, digits = i+1, digits+1
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i, digits = i+1, digits+1
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		k := j
		for k < len(s) && s[k] >= '0' && s[k] <= '9' {
			k++
		}
		if k == j {
			return false
		}
		i = k
	}
	return i == len(s)
}

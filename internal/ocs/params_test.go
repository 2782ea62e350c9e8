package ocs

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"aimg/internal/aimg"
)

func TestParseStr(t *testing.T) {
	cases := []struct {
		in   string
		want string // JSON of the result
	}{
		// What NextcloudKit sends to text2image/schedule.
		{"input=a%20red%20fox%20%26%20a+cat&numberOfImages=2&appId=assistant&identifier=ios-1",
			`{"appId":"assistant","identifier":"ios-1","input":"a red fox & a cat","numberOfImages":"2"}`},
		// The bracket form (TaskProcessing input).
		{"input%5Binput%5D=a%20fox&input%5BnumberOfImages%5D=2&type=core%3Atext2image&appId=assistant&customId=c1",
			`{"appId":"assistant","customId":"c1","input":{"input":"a fox","numberOfImages":"2"},"type":"core:text2image"}`},
		{"input[input]=a+fox&input[numberOfImages]=2", `{"input":{"input":"a fox","numberOfImages":"2"}}`},
		// [] appends; numeric keys; lists come out as lists.
		{"a[]=1&a[]=2", `{"a":["1","2"]}`},
		{"a[5]=x&a[]=y", `{"a":{"5":"x","6":"y"}}`},
		{"a[0]=x&a[1]=y", `{"a":["x","y"]}`},
		{"a[1]=x&a[0]=y", `{"a":{"0":"y","1":"x"}}`},
		{"a[-3]=x&a[]=y", `{"a":{"-3":"x","0":"y"}}`},
		{"a[01]=x&a[]=y", `{"a":{"01":"x","0":"y"}}`},
		{"a[][x]=1&a[][x]=2", `{"a":[{"x":"1"},{"x":"2"}]}`},
		// Nesting.
		{"a[b][c]=x&a[b][d]=y", `{"a":{"b":{"c":"x","d":"y"}}}`},
		// Later keys override, a scalar replaced by an array and back.
		{"a=1&a=2", `{"a":"2"}`},
		{"a=1&a[b]=2", `{"a":{"b":"2"}}`},
		{"a[b]=2&a=1", `{"a":"1"}`},
		// Name rules.
		{"a.b=1&c d=2", `{"a_b":"1","c_d":"2"}`},
		{"a[b.c]=1", `{"a":{"b.c":"1"}}`},
		{"a[b=1", `{"a_b":"1"}`},
		{"a[b.c[d e=1", `{"a_b_c_d_e":"1"}`},
		{"a[ ]=1&a[%09]=2&a[ x]=3", `{"a":{"0":"1","1":"2"," x":"3"}}`},
		{"a[  ]=1", `{"a":{"  ":"1"}}`},
		{"..Host-x=1&__Host-y=2&_.Secure-z=3&%20.Secure-z=4", `{"__Host-y":"2","_Secure-z":"4"}`},
		{"a[b][c=1", `{"a":{"b":"1"}}`},
		{"a[b]c=1", `{"a":{"b":"1"}}`},
		{"a[[b]]=1", `{"a":{"[b":"1"}}`},
		{"=1&[x]=2&&a", `{"a":""}`},
		{"  a=1", `{"a":"1"}`},
		{"a%00b=1", `{"a":"1"}`},
		{"a=%zz%4", `{"a":"%zz%4"}`},
		{"", `{}`},
	}
	for _, c := range cases {
		got, err := ParseStr(c.in, 1000, 10)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		var want map[string]any
		if err := json.Unmarshal([]byte(c.want), &want); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			b, _ := json.Marshal(got)
			t.Errorf("%q: got %s, want %s", c.in, b, c.want)
		}
	}
}

func TestParseStrBudgets(t *testing.T) {
	if _, err := ParseStr(strings.Repeat("a[]=1&", 1000), 1000, 10); err != nil {
		t.Errorf("1000 pairs: %v", err)
	}
	if _, err := ParseStr(strings.Repeat("a[]=1&", 1001), 1000, 10); err != errTooManyKeys {
		t.Errorf("1001 pairs: %v", err)
	}
	if _, err := ParseStr("a"+strings.Repeat("[x]", 10)+"=1", 1000, 10); err != nil {
		t.Errorf("depth 10: %v", err)
	}
	if _, err := ParseStr("a"+strings.Repeat("[x]", 11)+"=1", 1000, 10); err != errTooDeep {
		t.Errorf("depth 11: %v", err)
	}
	if _, err := ParseStr("a"+strings.Repeat("[]", 11)+"=1", 1000, 10); err != errTooDeep {
		t.Errorf("depth 11 appends: %v", err)
	}
}

func request(method, target, contentType, body string) *http.Request {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

func TestParseRequest(t *testing.T) {
	cases := []struct {
		name string
		r    *http.Request
		want string
	}{
		{"NextcloudKit form", request("POST", "/ocs/v2.php/text2image/schedule", "application/x-www-form-urlencoded; charset=utf-8",
			"input=fox&numberOfImages=2&appId=assistant&identifier=x"),
			`{"appId":"assistant","identifier":"x","input":"fox","numberOfImages":"2"}`},
		{"android JSON + format=json", request("POST", "/ocs/v2.php/text2image/schedule?format=json", "application/json",
			`{"input":"fox","numberOfImages":2,"appId":"assistant"}`),
			`{"appId":"assistant","format":"json","input":"fox","numberOfImages":2}`},
		{"assistant JSON", request("POST", "/ocs/v2.php/taskprocessing/schedule", "application/json; charset=utf-8",
			`{"input":{"input":"fox","numberOfImages":2},"type":"core:text2image","appId":"assistant","customId":""}`),
			`{"appId":"assistant","customId":"","input":{"input":"fox","numberOfImages":2},"type":"core:text2image"}`},
		{"vendor JSON type", request("POST", "/", "application/vnd.api+json", `{"a":1}`), `{"a":1}`},
		{"query only", request("GET", "/x?appId=a&identifier=b&a[]=1", "", ""), `{"a":["1"],"appId":"a","identifier":"b"}`},
		// Body overrides the query key by key, shallowly (array_merge).
		{"body over query", request("POST", "/x?format=xml&input[a]=1&keep=q", "application/x-www-form-urlencoded", "format=json&input[b]=2"),
			`{"format":"json","input":{"b":"2"},"keep":"q"}`},
		{"JSON over query", request("DELETE", "/x?format=xml", "application/json", `{"format":"json"}`), `{"format":"json"}`},
		// Integer keys are renumbered and appended by array_merge.
		{"numeric keys append", request("POST", "/x?0=q", "application/x-www-form-urlencoded", "0=b"), `{"0":"q","1":"b"}`},
		{"PUT form", request("PUT", "/x", "application/x-www-form-urlencoded", "a[b]=1"), `{"a":{"b":"1"}}`},
		{"GET form body ignored", request("GET", "/x?q=1", "application/x-www-form-urlencoded", "a=1"), `{"q":"1"}`},
		{"other content type ignored", request("POST", "/x", "text/plain", "a=1"), `{}`},
		{"JSON scalar ignored", request("POST", "/x?q=1", "application/json", `"s"`), `{"q":"1"}`},
		{"JSON empty", request("POST", "/x", "application/json", ``), `{}`},
		{"JSON list", request("POST", "/x", "application/json", `["a","b"]`), `{"0":"a","1":"b"}`},
		{"uppercase JSON type is not JSON", request("POST", "/x", "Application/JSON", `{"a":1}`), `{}`},
	}
	for _, c := range cases {
		got, err := ParseRequest(c.r, DefaultLimits)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		b, _ := json.Marshal(got)
		var g, w any
		_ = json.Unmarshal(b, &g)
		_ = json.Unmarshal([]byte(c.want), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: got %s, want %s", c.name, b, c.want)
		}
	}
}

func TestParseRequestErrors(t *testing.T) {
	lim := Limits{MaxBodyBytes: 64, MaxKeys: 5, MaxDepth: 2}
	cases := []struct {
		name string
		r    *http.Request
		code aimg.Code
	}{
		{"body too large", request("POST", "/x", "application/json", `{"a":"`+strings.Repeat("x", 64)+`"}`), aimg.CodeTooLarge},
		{"form too large", request("POST", "/x", "application/x-www-form-urlencoded", strings.Repeat("a", 65)), aimg.CodeTooLarge},
		{"bad JSON", request("POST", "/x", "application/json", `{"a":`), aimg.CodeInvalid},
		{"trailing JSON", request("POST", "/x", "application/json", `{} {}`), aimg.CodeInvalid},
		{"JSON keys", request("POST", "/x", "application/json", `{"a":[1,2,3],"b":1,"c":1}`), aimg.CodeInvalid},
		{"JSON depth", request("POST", "/x", "application/json", `{"a":{"b":{"c":{}}}}`), aimg.CodeInvalid},
		{"form keys", request("POST", "/x", "application/x-www-form-urlencoded", "a=1&b=1&c=1&d=1&e=1&f=1"), aimg.CodeInvalid},
		{"form depth", request("POST", "/x", "application/x-www-form-urlencoded", "a[b][c][d]=1"), aimg.CodeInvalid},
		{"query keys", request("GET", "/x?a=1&b=1&c=1&d=1&e=1&f=1", "", ""), aimg.CodeInvalid},
	}
	for _, c := range cases {
		_, err := ParseRequest(c.r, lim)
		var e *aimg.Error
		if !errors.As(err, &e) || e.Code != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	// At the limits: accepted.
	ok := []*http.Request{
		request("POST", "/x", "application/json", `{"a":{"b":{"c":1}}}`),
		request("POST", "/x", "application/json", `{"a":[1,2,3],"b":1}`),
		request("POST", "/x", "application/x-www-form-urlencoded", "a[b][c]=1&b=1&c=1&d=1&e=1"),
	}
	for i, r := range ok {
		if _, err := ParseRequest(r, lim); err != nil {
			t.Errorf("ok case %d: %v", i, err)
		}
	}
}

func FuzzParseStr(f *testing.F) {
	for _, s := range []string{
		"input[input]=a&input[numberOfImages]=2", "a[]=1&a[]=2", "a[b][c]=x", "a[b=1", "a[b]c=1&&=",
		"a[9223372036854775807]=1&a[]=2&a[]=3", "a%5B%5D=1", "a[-1]=1&a[]=2", "[[[]]]=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const maxKeys, maxDepth = 50, 4
		m, err := ParseStr(s, maxKeys, maxDepth)
		pairs := 0
		for _, p := range strings.Split(s, "&") {
			if p != "" {
				pairs++
			}
		}
		if (err == errTooManyKeys) != (pairs > maxKeys) {
			t.Fatalf("%d pairs, error %v", pairs, err)
		}
		if err != nil {
			if err != errTooDeep {
				t.Fatalf("unexpected error %v", err)
			}
			return
		}
		var depth func(v any, d int)
		depth = func(v any, d int) {
			if d > maxDepth {
				t.Fatalf("depth %d > %d", d, maxDepth)
			}
			switch x := v.(type) {
			case map[string]any:
				for _, c := range x {
					depth(c, d+1)
				}
			case []any:
				for _, c := range x {
					depth(c, d+1)
				}
			case string:
			default:
				t.Fatalf("unexpected type %T", v)
			}
		}
		for _, v := range m {
			depth(v, 0)
		}
		// The result renders in both formats, and the documents parse.
		_, _, body, err := Render(V2, XML, Response{Data: m})
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(bytes.NewReader(body))
		for {
			if _, err := d.Token(); err == io.EOF {
				break
			} else if err != nil {
				t.Fatalf("XML does not parse: %v\n%s", err, body)
			}
		}
		_, _, body, err = Render(V1, JSON, Response{Data: m})
		if err != nil || !json.Valid(body) {
			t.Fatalf("JSON: %v %s", err, body)
		}
	})
}

package ocs

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func intp(n int) *int { return &n }

func TestV2StatusMapping(t *testing.T) {
	// V2Response::getStatus and render's meta.
	cases := []struct {
		status     int
		httpStatus int
		ok         bool
	}{
		{0, 200, true}, {200, 200, true}, {201, 201, true}, {204, 204, true},
		{100, 400, false}, // < 200 becomes 400 (and meta says failure)
		{199, 400, false}, {300, 300, false}, {400, 400, false}, {403, 403, false},
		{404, 404, false}, {412, 412, false}, {429, 429, false}, {500, 500, false},
		{600, 600, false}, {601, 400, false},
		{996, 500, false}, {997, 401, false}, {998, 404, false}, {999, 500, false},
	}
	for _, c := range cases {
		if got := V2.HTTPStatus(Response{Status: c.status}.status()); got != c.httpStatus {
			t.Errorf("v2 status %d: HTTP %d, want %d", c.status, got, c.httpStatus)
		}
		m := V2.meta(Response{Status: c.status, Message: "boom"})
		wantCode := c.status
		if wantCode == 0 {
			wantCode = 200
		}
		got := metaMap(m)
		want := map[string]string{"status": "failure", "statuscode": itoa(wantCode), "message": "boom"}
		if c.ok {
			want["status"], want["message"] = "ok", "OK"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("v2 status %d: meta %v, want %v", c.status, got, want)
		}
	}
}

func TestV1StatusMapping(t *testing.T) {
	cases := []struct {
		status, httpStatus, code int
		ok                       bool
	}{
		{200, 200, 100, true}, {0, 200, 100, true},
		{100, 200, 100, true}, // a controller answering 100 is also success in v1
		{201, 200, 201, false}, {400, 200, 400, false}, {404, 200, 404, false},
		{412, 200, 412, false}, {500, 200, 500, false}, {996, 200, 996, false},
		{997, 401, 997, false}, {998, 200, 998, false}, {999, 200, 999, false},
	}
	for _, c := range cases {
		if got := V1.HTTPStatus(Response{Status: c.status}.status()); got != c.httpStatus {
			t.Errorf("v1 status %d: HTTP %d, want %d", c.status, got, c.httpStatus)
		}
		got := metaMap(V1.meta(Response{Status: c.status, Message: "boom"}))
		want := map[string]string{"status": "failure", "statuscode": itoa(c.code), "message": "boom", "totalitems": "", "itemsperpage": ""}
		if c.ok {
			want["status"], want["message"] = "ok", "OK"
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("v1 status %d: meta %v, want %v", c.status, got, want)
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func metaMap(o *object) map[string]string {
	m := map[string]string{}
	for i, k := range o.keys {
		m[k] = scalarText(o.vals[i])
	}
	return m
}

func TestVersionOf(t *testing.T) {
	for path, want := range map[string]Version{
		"/ocs/v2.php/text2image/schedule": V2, "/ocs/v2.php": V2,
		"/ocs/v1.php/cloud/capabilities": V1,
	} {
		if v, ok := VersionOf(path); !ok || v != want {
			t.Errorf("VersionOf(%q) = %v, %v", path, v, ok)
		}
	}
	for _, path := range []string{"/ocs/v3.php/x", "/ocs/v2.phpx", "/api/ocs/v2.php/x", "/"} {
		if _, ok := VersionOf(path); ok {
			t.Errorf("VersionOf(%q) ok", path)
		}
	}
}

// The golden documents are what Nextcloud's XMLWriter (setIndent(true),
// startDocument()) writes for the same data.
const goldenV2XML = `<?xml version="1.0"?>
<ocs>
 <meta>
  <status>ok</status>
  <statuscode>200</statuscode>
  <message>OK</message>
 </meta>
 <data>
  <task>
   <id>7</id>
   <status>1</status>
   <input>a &lt;b&gt; &amp; &quot;c&quot;</input>
   <numberOfImages>2</numberOfImages>
   <done>1</done>
   <failed></failed>
   <output/>
   <empty/>
   <ids>
    <element>3</element>
    <element>4</element>
   </ids>
   <byNumber>
    <element>x</element>
    <name>y</name>
   </byNumber>
   <ratio>0.5</ratio>
  </task>
 </data>
</ocs>
`

type task struct {
	ID             int            `json:"id"`
	Status         int            `json:"status"`
	Input          string         `json:"input"`
	NumberOfImages int            `json:"numberOfImages"`
	Done           bool           `json:"done"`
	Failed         bool           `json:"failed"`
	Output         *string        `json:"output"`
	Empty          []int          `json:"empty"`
	IDs            []int          `json:"ids"`
	ByNumber       map[string]any `json:"byNumber"`
	Ratio          float64        `json:"ratio"`
}

func sampleTask() map[string]any {
	return map[string]any{"task": task{
		ID: 7, Status: 1, Input: `a <b> & "c"`, NumberOfImages: 2, Done: true,
		Empty: []int{}, IDs: []int{3, 4}, ByNumber: map[string]any{"12": "x", "name": "y"}, Ratio: 0.5,
	}}
}

func TestRenderXMLGolden(t *testing.T) {
	status, ct, body, err := Render(V2, XML, Response{Data: sampleTask()})
	if err != nil {
		t.Fatal(err)
	}
	if status != 200 || ct != "application/xml; charset=utf-8" {
		t.Fatalf("status %d, content type %q", status, ct)
	}
	if string(body) != goldenV2XML {
		t.Errorf("body:\n%s\nwant:\n%s", body, goldenV2XML)
	}
	// And it parses, with the values where clients read them.
	var doc struct {
		Meta struct {
			Status     string `xml:"status"`
			StatusCode int    `xml:"statuscode"`
			Message    string `xml:"message"`
		} `xml:"meta"`
		Data struct {
			Task struct {
				ID    int      `xml:"id"`
				Input string   `xml:"input"`
				Done  string   `xml:"done"`
				IDs   []int    `xml:"ids>element"`
				By    []string `xml:"byNumber>element"`
			} `xml:"task"`
		} `xml:"data"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Meta.Status != "ok" || doc.Meta.StatusCode != 200 || doc.Data.Task.ID != 7 ||
		doc.Data.Task.Input != `a <b> & "c"` || doc.Data.Task.Done != "1" ||
		!reflect.DeepEqual(doc.Data.Task.IDs, []int{3, 4}) || !reflect.DeepEqual(doc.Data.Task.By, []string{"x"}) {
		t.Errorf("parsed %+v", doc)
	}
}

const goldenV1ErrorXML = `<?xml version="1.0"?>
<ocs>
 <meta>
  <status>failure</status>
  <statuscode>997</statuscode>
  <message>Current user is not logged in</message>
  <totalitems></totalitems>
  <itemsperpage></itemsperpage>
 </meta>
 <data/>
</ocs>
`

func TestRenderV1ErrorXML(t *testing.T) {
	status, _, body, err := Render(V1, XML, Response{Status: RespondUnauthorised, Message: "Current user is not logged in"})
	if err != nil {
		t.Fatal(err)
	}
	if status != 401 || string(body) != goldenV1ErrorXML {
		t.Errorf("status %d body:\n%s", status, body)
	}
	var doc struct {
		Meta struct {
			TotalItems   *string `xml:"totalitems"`
			ItemsPerPage *string `xml:"itemsperpage"`
		} `xml:"meta"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil || doc.Meta.TotalItems == nil || doc.Meta.ItemsPerPage == nil {
		t.Errorf("totalitems/itemsperpage missing: %v %+v", err, doc)
	}
}

func TestRenderJSON(t *testing.T) {
	status, ct, body, err := Render(V2, JSON, Response{Data: sampleTask()})
	if err != nil || status != 200 || ct != "application/json; charset=utf-8" {
		t.Fatalf("%v %d %q", err, status, ct)
	}
	var got any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	var want any
	_ = json.Unmarshal([]byte(`{"ocs":{"meta":{"status":"ok","statuscode":200,"message":"OK"},"data":{"task":{
		"id":7,"status":1,"input":"a <b> & \"c\"","numberOfImages":2,"done":true,"failed":false,"output":null,
		"empty":[],"ids":[3,4],"byNumber":{"12":"x","name":"y"},"ratio":0.5}}}}`), &want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %s", body)
	}
	// json_encode(..., JSON_HEX_TAG) escaping; meta first, then data.
	if !bytes.Contains(body, []byte(`"input":"a \u003Cb\u003E & \"c\""`)) || !bytes.HasPrefix(body, []byte(`{"ocs":{"meta":{"status":"ok"`)) {
		t.Errorf("escaping or order: %s", body)
	}
}

func TestRenderJSONEmptyAndPaged(t *testing.T) {
	_, _, body, _ := Render(V2, JSON, Response{Status: 404, Message: "Task not found", TotalItems: intp(3), ItemsPerPage: intp(10)})
	want := `{"ocs":{"meta":{"status":"failure","statuscode":404,"message":"Task not found","totalitems":3,"itemsperpage":10},"data":[]}}`
	if string(body) != want {
		t.Errorf("v2 got %s", body)
	}
	_, _, body, _ = Render(V1, JSON, Response{Data: []string{}, TotalItems: intp(3)})
	want = `{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK","totalitems":"3","itemsperpage":""},"data":[]}}`
	if string(body) != want {
		t.Errorf("v1 got %s", body)
	}
}

func TestJSONStringEscaping(t *testing.T) {
	var b bytes.Buffer
	writeJSONString(&b, "a/b é 😀 <x> \x01\n\"\\")
	want := `"a\/b \u00e9 \ud83d\ude00 \u003Cx\u003E \u0001\n\"\\"`
	if b.String() != want {
		t.Errorf("got %s want %s", b.String(), want)
	}
	var s string
	if err := json.Unmarshal(b.Bytes(), &s); err != nil || s != "a/b é 😀 <x> \x01\n\"\\" {
		t.Errorf("round trip %q %v", s, err)
	}
}

func TestXMLRules(t *testing.T) {
	data := map[string]any{
		"list":    []any{nil, true, false, "", map[string]any{}, []any{}},
		"1.5":     "numeric key",
		"bad key": "x",
		"nested":  map[string]any{"@id": "9", "@attributes": map[string]any{"kind": "k"}, "z": 1},
		// "$comment" sorts first, so the start tag is closed before "@x":
		// XMLWriter then refuses the attribute, and so does this writer.
		"remark": map[string]any{"$comment": "note -- here", "@x": "dropped", "z": 2},
		"ctl":    "a\x01b",
	}
	_, _, body, err := Render(V2, XML, Response{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	want := `<?xml version="1.0"?>
<ocs>
 <meta>
  <status>ok</status>
  <statuscode>200</statuscode>
  <message>OK</message>
 </meta>
 <data>
  <element>numeric key</element>
  <element key="bad key">x</element>
  <ctl>a` + "\uFFFD" + `b</ctl>
  <list>
   <element/>
   <element>1</element>
   <element></element>
   <element></element>
   <element/>
   <element/>
  </list>
  <nested kind="k" id="9">
   <z>1</z>
  </nested>
  <remark>
   <!--note - - here-->
   <z>2</z>
  </remark>
 </data>
</ocs>
`
	if string(body) != want {
		t.Errorf("got:\n%s\nwant:\n%s", body, want)
	}
	d := xml.NewDecoder(bytes.NewReader(body))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("does not parse: %v", err)
		}
	}
}

func TestRenderNoBody(t *testing.T) {
	for _, s := range []int{204, 304} {
		status, _, body, _ := Render(V2, JSON, Response{Status: s, Data: "x"})
		if status != s || len(body) != 0 {
			t.Errorf("%d: %d %q", s, status, body)
		}
	}
}

func TestWrite(t *testing.T) {
	rec := httptest.NewRecorder()
	Write(rec, V2, JSON, Response{Status: RespondNotFound, Message: "Task not found", Header: http.Header{"X-A": {"1"}}})
	if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" || rec.Header().Get("X-A") != "1" ||
		!strings.Contains(rec.Body.String(), `"statuscode":998`) {
		t.Errorf("%d %v %s", rec.Code, rec.Header(), rec.Body)
	}
	rec = httptest.NewRecorder()
	Write(rec, V2, XML, Response{Data: map[string]any{"c": make(chan int)}})
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "<statuscode>996</statuscode>") {
		t.Errorf("unencodable data: %d %s", rec.Code, rec.Body)
	}
}

// The expectations of Nextcloud's own tests/lib/AppFramework/Controller/
// OCSControllerTest.php (testXML, testJSON: DataResponse(['test' => 'hi'])
// through a v1 OCS controller), byte for byte.
func TestNextcloudOCSControllerTestGolden(t *testing.T) {
	data := map[string]any{"test": "hi"}
	_, _, body, _ := Render(V1, XML, Response{Data: data})
	want := "<?xml version=\"1.0\"?>\n" +
		"<ocs>\n" +
		" <meta>\n" +
		"  <status>ok</status>\n" +
		"  <statuscode>100</statuscode>\n" +
		"  <message>OK</message>\n" +
		"  <totalitems></totalitems>\n" +
		"  <itemsperpage></itemsperpage>\n" +
		" </meta>\n" +
		" <data>\n" +
		"  <test>hi</test>\n" +
		" </data>\n" +
		"</ocs>\n"
	if string(body) != want {
		t.Errorf("XML:\n%s", body)
	}
	_, _, body, _ = Render(V1, JSON, Response{Data: data})
	if want := `{"ocs":{"meta":{"status":"ok","statuscode":100,"message":"OK","totalitems":"","itemsperpage":""},"data":{"test":"hi"}}}`; string(body) != want {
		t.Errorf("JSON: %s", body)
	}
}

func TestRespond(t *testing.T) {
	cases := []struct {
		target, accept string
		status         int
		contains       string
	}{
		{"/ocs/v2.php/x", "application/json", 404, `"statuscode":404`},
		{"/ocs/v2.php/x?format=xml", "application/json", 404, `<statuscode>404</statuscode>`},
		{"/ocs/v1.php/x?format=json", "", 200, `"statuscode":404`},
		{"/ocs/v2.php/x?format=yaml", "application/json", 400, `<message>Unsupported format</message>`},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", c.target, nil)
		r.Header.Set("Accept", c.accept)
		params, err := ParseRequest(r, DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		Respond(rec, r, params, Response{Status: 404, Data: map[string]any{"message": "Task not found"}})
		if rec.Code != c.status || !strings.Contains(rec.Body.String(), c.contains) {
			t.Errorf("%s: %d %s", c.target, rec.Code, rec.Body)
		}
	}
}

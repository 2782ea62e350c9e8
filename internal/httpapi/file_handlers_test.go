package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	goimage "image"
	"image/color"
	"image/png"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"aimg/internal/config"
	"aimg/internal/testsupport"
)

type fileMeta struct {
	ID                string `json:"id"`
	PublicURL         string `json:"publicUrl"`
	FileName          string `json:"fileName"`
	ContentType       string `json:"contentType"`
	FileSize          int64  `json:"fileSize"`
	CreatedDate       string `json:"createdDate"`
	Checksum          string `json:"checksum"`
	ChecksumAlgorithm string `json:"checksumAlgorithm"`
	OwnerID           string `json:"ownerId"`
}

// upload posts a multipart uploadFile request; fields are extra form fields.
func upload(t *testing.T, srv *testsupport.Server, adminKey, filename string, content []byte, fields map[string]string) *testsupport.Envelope {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if filename != "" {
		fw, err := mw.CreateFormFile("file", filename)
		if err != nil {
			t.Fatal(err)
		}
		fw.Write(content)
	}
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/api/uploadFile", &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if adminKey != "" {
		req.Header.Set("X-Administration-Key", adminKey)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	env := &testsupport.Envelope{Status: resp.StatusCode, Header: resp.Header, Raw: raw}
	if err := json.Unmarshal(raw, env); err != nil {
		t.Fatalf("uploadFile: status %d, not an envelope: %q", resp.StatusCode, raw)
	}
	return env
}

func mustUpload(t *testing.T, srv *testsupport.Server, filename string, content []byte, fields map[string]string) fileMeta {
	t.Helper()
	env := upload(t, srv, testsupport.AdminKey, filename, content, fields)
	testsupport.ExpectOK(t, env)
	var m fileMeta
	env.Decode(t, &m)
	return m
}

type fileResponse struct {
	status int
	header http.Header
	body   []byte
}

func getFile(t *testing.T, srv *testsupport.Server, query string, header map[string]string) fileResponse {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/api/getFile?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return fileResponse{resp.StatusCode, resp.Header, b}
}

func (r fileResponse) envelope(t *testing.T) *testsupport.Envelope {
	t.Helper()
	env := &testsupport.Envelope{Status: r.status, Header: r.header, Raw: r.body}
	if err := json.Unmarshal(r.body, env); err != nil {
		t.Fatalf("status %d, not an envelope: %q", r.status, r.body)
	}
	return env
}

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := goimage.NewNRGBA(goimage.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(3 * x), uint8(5 * y), 200, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFileServer(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		content := []byte("The quick brown fox jumps over the lazy dog.\n")
		m := mustUpload(t, srv, "fox.txt", content, map[string]string{"customMetadata": `{"source":"test"}`})
		if m.ID == "" || m.FileName != "fox.txt" || m.ContentType != "text/plain; charset=utf-8" || m.FileSize != int64(len(content)) ||
			m.ChecksumAlgorithm != "sha256" || len(m.Checksum) != 64 || m.CreatedDate != "2026-01-02T03:04:05.000Z" ||
			m.PublicURL != srv.App.Config.PublicURL+"/api/getFile?id="+url.QueryEscape(m.ID) {
			t.Fatalf("upload metadata = %+v", m)
		}

		// getFile is public: no session, no key.
		r := getFile(t, srv, "id="+url.QueryEscape(m.ID)+"&fs=true", nil)
		if r.status != 200 || !bytes.Equal(r.body, content) {
			t.Fatalf("getFile = %d %q", r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != m.ContentType {
			t.Fatalf("Content-Type = %q", ct)
		}
		if cd := r.header.Get("Content-Disposition"); cd != `inline; filename=fox.txt` {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		etag := r.header.Get("ETag")
		if etag != `"`+m.Checksum+`"` || r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("headers = %v", r.header)
		}
		// Conditional and range requests.
		if r := getFile(t, srv, "id="+m.ID, map[string]string{"If-None-Match": etag}); r.status != http.StatusNotModified || len(r.body) != 0 {
			t.Fatalf("If-None-Match = %d %q", r.status, r.body)
		}
		r = getFile(t, srv, "id="+m.ID, map[string]string{"Range": "bytes=4-8"})
		if r.status != http.StatusPartialContent || string(r.body) != "quick" ||
			r.header.Get("Content-Range") != "bytes 4-8/"+strconv.Itoa(len(content)) {
			t.Fatalf("Range = %d %q %v", r.status, r.body, r.header)
		}

		// Metadata (admin).
		env := srv.Do(t, testsupport.Req{Method: "GET", Path: "/api/getFileMetadata?id=" + m.ID, AdminKey: testsupport.AdminKey})
		testsupport.ExpectOK(t, env)
		var got fileMeta
		env.Decode(t, &got)
		if got != m {
			t.Fatalf("getFileMetadata = %+v, want %+v", got, m)
		}
		testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: "GET", Path: "/api/getFileMetadata?id=nope", AdminKey: testsupport.AdminKey}), 404, "File not found")

		// Remove (admin), then it is gone.
		env = srv.Do(t, testsupport.Req{Method: "DELETE", Path: "/api/removeFile?id=" + m.ID, AdminKey: testsupport.AdminKey})
		testsupport.ExpectOK(t, env)
		var success struct {
			Success bool `json:"success"`
		}
		env.Decode(t, &success)
		if !success.Success {
			t.Fatalf("removeFile = %s", env.Raw)
		}
		testsupport.ExpectError(t, getFile(t, srv, "id="+m.ID, nil).envelope(t), 404, "File not found")
		env = srv.Do(t, testsupport.Req{Method: "DELETE", Path: "/api/removeFile?id=" + m.ID, AdminKey: testsupport.AdminKey})
		testsupport.ExpectOK(t, env)
		env.Decode(t, &success)
		if success.Success {
			t.Fatalf("second removeFile = %s", env.Raw)
		}
		testsupport.ExpectError(t, getFile(t, srv, "", nil).envelope(t), 400, "id")
	})
}

func TestFileServerAdminOnly(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		m := mustUpload(t, srv, "a.txt", []byte("a"), nil)
		for _, key := range []string{"", "wrong-key-0123456789"} {
			testsupport.ExpectError(t, upload(t, srv, key, "b.txt", []byte("b"), nil), 401, "X-Administration-Key")
			testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: "GET", Path: "/api/getFileMetadata?id=" + m.ID, AdminKey: key}), 401, "X-Administration-Key")
			testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: "DELETE", Path: "/api/removeFile?id=" + m.ID, AdminKey: key}), 401, "X-Administration-Key")
			testsupport.ExpectError(t, srv.Do(t, testsupport.Req{Method: "POST", Path: "/api/pgQuery", AdminKey: key, Body: map[string]any{"queryText": "SELECT 1"}}), 401, "X-Administration-Key")
		}
		// Nothing was removed or added by the refused calls.
		if r := getFile(t, srv, "id="+m.ID, nil); r.status != 200 {
			t.Fatalf("file after refused remove: %d", r.status)
		}
	})
}

func TestUploadValidation(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		srv := testsupport.NewServer(t, dbURL)
		m := mustUpload(t, srv, "a.png", testPNG(t, 4, 4), map[string]string{"id": "logo.v1"})
		if m.ID != "logo.v1" || m.ContentType != "image/png" {
			t.Fatalf("client id upload = %+v", m)
		}
		testsupport.ExpectError(t, upload(t, srv, testsupport.AdminKey, "b.png", []byte("x"), map[string]string{"id": "logo.v1"}), 409, "id")
		testsupport.ExpectError(t, upload(t, srv, testsupport.AdminKey, "b.png", []byte("x"), map[string]string{"id": "../etc"}), 400, "id")
		for _, bad := range []string{"not json", "[1,2]", `"text"`} {
			testsupport.ExpectError(t, upload(t, srv, testsupport.AdminKey, "b.png", []byte("x"), map[string]string{"customMetadata": bad}), 400, "customMetadata")
		}
		testsupport.ExpectError(t, upload(t, srv, testsupport.AdminKey, "", nil, map[string]string{"id": "x"}), 400, "file")
		// The refused uploads left the first file as it was.
		if r := getFile(t, srv, "id=logo.v1", nil); r.status != 200 || !bytes.Equal(r.body, testPNG(t, 4, 4)) {
			t.Fatalf("file after refused uploads: %d", r.status)
		}
	})
}

// blobFiles lists the files under the local blob directory of srv.
func blobFiles(t *testing.T, srv *testsupport.Server) map[string][]byte {
	t.Helper()
	root := filepath.Join(srv.DataDir, "blobs")
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(root, p)
		out[filepath.ToSlash(rel)] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestGetFileResize(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, dbURL string) {
		// Sizes this test asks for; snapping itself: TestGetFileSnapsSizes.
		srv := testsupport.NewServer(t, dbURL, func(c *config.Config) { c.Service.Files.VariantSizes = []int{10, 20, 30} })
		m := mustUpload(t, srv, "pic.png", testPNG(t, 60, 30), nil)
		before := len(blobFiles(t, srv))
		cases := []struct {
			query        string
			wantW, wantH int
		}{
			{"width=30&height=30", 30, 15},
			{"width=30&height=30&mode=fit", 30, 15},
			{"width=30&height=30&mode=fill", 30, 30},
			{"height=10", 20, 10},
		}
		for _, c := range cases {
			r := getFile(t, srv, "id="+m.ID+"&"+c.query, nil)
			if r.status != 200 || r.header.Get("Content-Type") != "image/png" {
				t.Fatalf("%s: %d %s", c.query, r.status, r.body)
			}
			cfg, err := png.DecodeConfig(bytes.NewReader(r.body))
			if err != nil || cfg.Width != c.wantW || cfg.Height != c.wantH {
				t.Fatalf("%s: %dx%d %v, want %dx%d", c.query, cfg.Width, cfg.Height, err, c.wantW, c.wantH)
			}
		}
		// "fit" is the default mode, so the first two share one variant.
		blobs := blobFiles(t, srv)
		if len(blobs) != before+3 {
			t.Fatalf("blobs after resizing = %d, want %d (original + 3 variants)", len(blobs), before+3)
		}
		// The second request is served from the cache: replace the cached
		// variant's bytes and see them come back.
		marker := testPNG(t, 7, 7)
		for key := range blobs {
			if strings.HasSuffix(key, "30x30-fill") { // after "/" or "_": files.variantKey
				if err := srv.App.Blobs.Put(context.Background(), key, bytes.NewReader(marker), int64(len(marker)), "image/png"); err != nil {
					t.Fatal(err)
				}
			}
		}
		r := getFile(t, srv, "id="+m.ID+"&width=30&height=30&mode=fill", nil)
		if !bytes.Equal(r.body, marker) {
			t.Fatal("the second request did not use the cached variant")
		}
		if r := getFile(t, srv, "id="+m.ID+"&width=30&height=30&mode=fill", map[string]string{"If-None-Match": r.header.Get("ETag")}); r.status != 304 {
			t.Fatalf("variant If-None-Match = %d", r.status)
		}

		testsupport.ExpectError(t, getFile(t, srv, "id="+m.ID+"&width=10&mode=stretch", nil).envelope(t), 400, "mode")
		testsupport.ExpectError(t, getFile(t, srv, "id="+m.ID+"&width=-10", nil).envelope(t), 400, "width")
		testsupport.ExpectError(t, getFile(t, srv, "id="+m.ID+"&width=abc", nil).envelope(t), 400, "width")
		txt := mustUpload(t, srv, "a.txt", []byte("text"), nil)
		testsupport.ExpectError(t, getFile(t, srv, "id="+txt.ID+"&width=10", nil).envelope(t), 400, "width")

		// Removing the file removes its variants too.
		testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: "DELETE", Path: "/api/removeFile?id=" + m.ID, AdminKey: testsupport.AdminKey}))
		for key := range blobFiles(t, srv) {
			if strings.Contains(key, "/"+m.ID+"/") {
				t.Fatalf("blob %s left after removeFile", key)
			}
		}
	})
}

func TestFileServerOnS3(t *testing.T) {
	s3URL := testsupport.ServiceURL(t, "AIMG_TEST_S3_URL", "see scripts/s3-test-server.sh")
	prefix := "aimg-files-test/" + uuid.NewString()
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.BlobURL = s3URL + "&prefix=" + prefix
		c.Service.Files.VariantSizes = []int{10} // the size asked for below
	})
	content := testPNG(t, 40, 20)
	m := mustUpload(t, srv, "s3.png", content, nil)
	if r := getFile(t, srv, "id="+m.ID, nil); r.status != 200 || !bytes.Equal(r.body, content) {
		t.Fatalf("getFile from S3 = %d", r.status)
	}
	if r := getFile(t, srv, "id="+m.ID, map[string]string{"Range": "bytes=1-3"}); r.status != 206 || !bytes.Equal(r.body, content[1:4]) {
		t.Fatalf("range from S3 = %d %q", r.status, r.body)
	}
	r := getFile(t, srv, "id="+m.ID+"&width=10", nil)
	if cfg, err := png.DecodeConfig(bytes.NewReader(r.body)); err != nil || cfg.Width != 10 || cfg.Height != 5 {
		t.Fatalf("resize on S3: %v %+v", err, cfg)
	}
	testsupport.ExpectOK(t, srv.Do(t, testsupport.Req{Method: "DELETE", Path: "/api/removeFile?id=" + m.ID, AdminKey: testsupport.AdminKey}))
	testsupport.ExpectError(t, getFile(t, srv, "id="+m.ID, nil).envelope(t), 404, "File not found")
}

func TestFileOperationsInOpenAPI(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	doc := srv.App.API.API().OpenAPI()
	up := doc.Paths["/api/uploadFile"]
	if up == nil || up.Post == nil || up.Post.RequestBody == nil {
		t.Fatal("uploadFile is not in the OpenAPI document")
	}
	form := up.Post.RequestBody.Content["multipart/form-data"]
	if form == nil || form.Schema == nil || form.Schema.Properties["file"] == nil || form.Schema.Properties["customMetadata"] == nil {
		t.Fatalf("uploadFile form = %+v", form)
	}
	for path, method := range map[string]string{"/api/getFile": "GET", "/api/getFileMetadata": "GET", "/api/removeFile": "DELETE", "/api/pgQuery": "POST"} {
		item := doc.Paths[path]
		if item == nil || (method == "GET" && item.Get == nil) || (method == "DELETE" && item.Delete == nil) || (method == "POST" && item.Post == nil) {
			t.Errorf("%s %s is not in the OpenAPI document", method, path)
		}
	}
}

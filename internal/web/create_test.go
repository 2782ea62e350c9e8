package web_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"hash/crc32"
	"html"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/testsupport"
	"aimg/internal/web"
)

// postMultipart submits fields and an optional file (inputImage) as the
// video form does, with the last page's CSRF token.
func (v *visitor) postMultipart(path string, fields url.Values, file []byte) page {
	v.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if fields.Get(web.CSRFField) == "" {
		fields.Set(web.CSRFField, v.csrf)
	}
	for k, vs := range fields {
		for _, val := range vs {
			if err := mw.WriteField(k, val); err != nil {
				v.t.Fatal(err)
			}
		}
	}
	if file != nil {
		fw, err := mw.CreateFormFile("inputImage", "source.png")
		if err != nil {
			v.t.Fatal(err)
		}
		if _, err := fw.Write(file); err != nil {
			v.t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		v.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, v.srv.URL+path, &body)
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	return v.do(req)
}

// pngOf is a small PNG of one colour.
func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range w * h {
		img.Set(i%w, i/w, color.NRGBA{R: uint8(i), G: 120, B: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// pngHeader is a PNG's signature and header chunk alone: a w x h image
// that the decode budget refuses from its header, without pixels.
func pngHeader(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk := append([]byte("IHDR"), ihdr...)
	_ = binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	b.Write(chunk)
	_ = binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// waitItem waits (bounded) until the Item is no longer queued or processing.
func waitItem(t *testing.T, srv *testsupport.Server, id string) *aimg.Item {
	t.Helper()
	for range 1200 {
		it, err := srv.App.Store.ItemByID(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if it.Status == aimg.StatusCompleted || it.Status == aimg.StatusFailed {
			return it
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("Item %s did not finish", id)
	return nil
}

// fileBytes is a stored file's content.
func fileBytes(t *testing.T, srv *testsupport.Server, id string) []byte {
	t.Helper()
	resp, err := http.Get(srv.URL + "/api/getFile?id=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(resp.Body); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("getFile %s: %d %v", id, resp.StatusCode, err)
	}
	return b.Bytes()
}

// The picker lists the video Model; its form posts to the upload route
// with its own fields, and the sample prompts are offered.
func TestCreateOffersVideoModelsAndSamplePrompts(t *testing.T) {
	srv := newServer(t)
	v := newVisitor(t, srv)
	p := v.get("/create")
	for _, want := range []string{`value="model3"`, `data-kind="video"`, `action="/create"`,
		`placeholder="a red sun over a calm ocean at dusk"`, `data-prompt="purple crystals in a cave, glowing"`,
		`id="samples" hidden`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("/create lacks %s", want)
		}
	}
	p = v.get("/create?model=model3")
	body := html.UnescapeString(p.Body)
	for _, want := range []string{`action="/create/video"`, `enctype="multipart/form-data"`, `id="inputImage" name="inputImage" type="file"`,
		"16 frames at 8 fps (a 2 s loop)", `<option>orbit</option>`, `id="image-fields" class="kind" disabled hidden`} {
		if !strings.Contains(body, want) {
			t.Errorf("/create?model=model3 lacks %s", want)
		}
	}
	if strings.Contains(body, `id="video-fields" class="kind" disabled`) {
		t.Error("the video fields are disabled for a video Model")
	}
}

// A video from an uploaded image, on the embedded worker: the Item
// completes and its file is a (GIF) video; the Job's input is the upload,
// fitted to the Model's size.
func TestCreateVideoFromAnUploadCompletes(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.EmbeddedWorker = true })
	v := newVisitor(t, srv)
	v.signUpWithCode("video@example.com")
	p := v.postMultipart("/create/video", url.Values{"modelName": {"model3"}, "prompt": {"a drifting moon"}, "steps": {"1"},
		"controlNetPreset": {"drift"}}, pngOf(t, 300, 200))
	ids := p.URL.Query()["watch"]
	if p.Status != http.StatusOK || p.URL.Path != "/create" || len(ids) != 1 || !strings.Contains(p.Body, "Your new video") {
		t.Fatalf("video submit: %d %s %s", p.Status, p.URL, p.Body)
	}
	it := waitItem(t, srv, ids[0])
	if it.Status != aimg.StatusCompleted || it.MType != aimg.MTypeVideo {
		t.Fatalf("video Item %+v", it)
	}
	if b := fileBytes(t, srv, it.FileID); !bytes.HasPrefix(b, []byte("GIF8")) {
		t.Fatalf("the video's file is not a GIF: %q", b[:min(8, len(b))])
	}
	// Its page shows the moving original, not a first-frame variant.
	if page := v.get("/items/" + it.ID); !strings.Contains(page.Body, `<img src="/api/getFile?id=`+it.FileID+`"`) {
		t.Fatalf("the video's Item page does not show the original:\n%s", page.Body)
	}
	job, err := srv.App.Store.JobByID(context.Background(), it.JobID)
	if err != nil {
		t.Fatal(err)
	}
	in := regexp.MustCompile(`"inputFileID":"([^"]+)"`).FindSubmatch(job.Payload)
	if in == nil {
		t.Fatalf("the Job has no input file: %s", job.Payload)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(fileBytes(t, srv, string(in[1]))))
	if err != nil || cfg.Width != 256 || cfg.Height != 171 {
		t.Fatalf("input file %+v %v, want 256x171 (fitted)", cfg, err)
	}

	// Animating one of the user's own images instead: it is offered in the picker.
	p = v.get("/create?model=model3")
	if !strings.Contains(p.Body, `id="input" name="input"`) {
		t.Fatalf("no source picker: %s", p.Body)
	}
	p = v.postMultipart("/create/video", url.Values{"modelName": {"model3"}, "prompt": {"x"}, "input": {it.ID}}, nil)
	if p.Status != http.StatusBadRequest || !strings.Contains(html.UnescapeString(p.Body), `id="input-error" role="alert">input: Item "`+it.ID+`" is not a completed image`) {
		t.Fatalf("a video as the source: %d %s", p.Status, p.Body)
	}
}

// An upload over the route's budget is a 413 that says so; one over the
// decode budget, or no image at all, is refused at its field; not a 500.
func TestCreateVideoRefusesTooLargeInputs(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.Service.HTTP.MaxImageBodyBytes = 1 << 20 })
	v := newVisitor(t, srv)
	v.get("/create?model=model3")
	fields := func() url.Values { return url.Values{"modelName": {"model3"}, "prompt": {"a moon"}} }
	p := v.postMultipart("/create/video", fields(), bytes.Repeat([]byte{0x89}, 1<<20+2048))
	if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(p.Body, "The upload (the image and the form) is larger than the upload budget of 1 MiB") {
		t.Fatalf("over the body budget: %d %s", p.Status, p.Body)
	}
	// Far over it, the surface's outer bound answers first.
	if p := v.postMultipart("/create/video", fields(), bytes.Repeat([]byte{0x89}, 3<<20)); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("far over the body budget: %d %s", p.Status, p.Body)
	}
	p = v.postMultipart("/create/video", fields(), pngHeader(20000, 20000))
	body := html.UnescapeString(p.Body)
	if p.Status != http.StatusRequestEntityTooLarge || !strings.Contains(body, `id="inputImage-error" role="alert">inputImage: image too large`) {
		t.Fatalf("over the pixel budget: %d %s", p.Status, body)
	}
	p = v.postMultipart("/create/video", fields(), []byte("not an image"))
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="inputImage-error"`) {
		t.Fatalf("not an image: %d %s", p.Status, p.Body)
	}
	// The image budget is the upload route's only: other forms keep theirs.
	if p := v.post("/create", url.Values{"prompt": {strings.Repeat("x", 70<<10)}}); p.Status != http.StatusRequestEntityTooLarge {
		t.Fatalf("a form over its budget: %d", p.Status)
	}
}

// A multi-image submit links to its batch page; the owner sees its Items
// there, another user and a visitor get the service's "Batch not found".
func TestBatchPageIsTheOwners(t *testing.T) {
	srv := newServer(t)
	owner := newVisitor(t, srv)
	owner.signUpWithCode("batch@example.com")
	p := owner.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"two foxes"}, "width": {"128"}, "height": {"128"}, "count": {"2"}})
	link := regexp.MustCompile(`href="(/batches/[^"]+)" id="batch-link"`).FindStringSubmatch(p.Body)
	if link == nil {
		t.Fatalf("no batch link after a 2-image submit: %s", p.Body)
	}
	p = owner.get(link[1])
	if p.Status != http.StatusOK || strings.Count(p.Body, `class="card"`) != 2 || !strings.Contains(p.Body, "two foxes") {
		t.Fatalf("owner's batch page: %d %s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, `/static/progress.js`) {
		t.Fatal("the batch page does not follow its cards")
	}
	other := newVisitor(t, srv)
	other.signUpWithCode("other@example.com")
	for who, v := range map[string]*visitor{"another user": other, "a visitor": newVisitor(t, srv)} {
		p := v.get(link[1])
		if p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Batch not found") || strings.Contains(p.Body, "two foxes") {
			t.Fatalf("%s's batch page: %d %s", who, p.Status, p.Body)
		}
	}
	// A single image has no batch link.
	p = owner.post("/create", url.Values{"modelName": {"sketch"}, "prompt": {"one fox"}, "width": {"128"}, "height": {"128"}})
	if strings.Contains(p.Body, `id="batch-link"`) {
		t.Fatal("a batch link for one image")
	}
	if web.BatchPath("b1") != "/batches/b1" || web.BatchPath("") != "" {
		t.Fatal("BatchPath")
	}
}

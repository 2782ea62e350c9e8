package a1111

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"unicode/utf8"

	"aimg/internal/aimg"
)

// The server's error bodies are untrusted: any status and body gives an
// error with a bounded, valid-UTF-8 message.
func FuzzStatusError(f *testing.F) {
	f.Add(422, []byte(`{"detail":[{"loc":["body","steps"],"msg":"value is not a valid integer","type":"type_error.integer"}]}`))
	f.Add(422, []byte(`{"detail":[{"loc":["body","init_images",0],"msg":"str type expected","type":"type_error.str"}]}`))
	f.Add(400, []byte(`{"error":"HTTPException","detail":"Sampler not found","body":"","errors":"400: Sampler not found"}`))
	f.Add(500, []byte(`{"error":"OutOfMemoryError","detail":"","body":"","errors":"CUDA out of memory"}`))
	f.Add(401, []byte(`{"detail":"Incorrect username or password"}`))
	f.Add(404, []byte(`{"detail":"Not Found"}`))
	f.Add(502, []byte("<html>\xff\xfe</html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		err := statusError("txt2img", status, body)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		if len(msg) > 4*maxReasonLen+400 || !utf8.ValidString(msg) {
			t.Fatalf("message %d bytes, valid UTF-8 %v: %q", len(msg), utf8.ValidString(msg), msg)
		}
		if aimg.ErrorCode(err) == aimg.CodeInvalid && (status >= 500 || status == 401 || status == 429) && !strings.Contains(msg, "init image") {
			t.Fatalf("status %d is retryable, got invalid: %v", status, err)
		}
	})
}

// Any 200 answer either fails or yields images within the budgets.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"images":["iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg=="],"parameters":{},"info":"{}"}`))
	f.Add([]byte(`{"images":[],"parameters":{},"info":"{}"}`))
	f.Add([]byte(`{"images":["data:image/png;base64,AAAA"],"info":""}`))
	f.Add([]byte(`null`))
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/sdapi/v1/txt2img" {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		_, _ = w.Write(body.Load().([]byte))
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL, MaxImagePixels: 64 * 64, MaxImages: 4})
	if err != nil {
		f.Fatal(err)
	}
	defer c.Close()
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(b)
		res, err := c.Txt2Img(context.Background(), Txt2ImgRequest{Prompt: "x"}, nil)
		if err != nil {
			return
		}
		if len(res.Images) == 0 || len(res.Images) > 4 {
			t.Fatalf("%d images", len(res.Images))
		}
		for _, img := range res.Images {
			if img.Width*img.Height > 64*64 || !strings.HasPrefix(img.ContentType, "image/") {
				t.Fatalf("image %dx%d %s", img.Width, img.Height, img.ContentType)
			}
		}
	})
}

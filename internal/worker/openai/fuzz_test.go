package openai

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
	f.Add(400, []byte(`{"error":{"message":"Invalid size","type":"invalid_request_error","param":"size","code":null}}`))
	f.Add(500, []byte(`{"error":{"code":500,"message":"could not load model","type":""}}`))
	f.Add(429, []byte(`{"error":{"message":"Rate limit","type":"requests","param":null,"code":"rate_limit_exceeded"}}`))
	f.Add(401, []byte(`{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`))
	f.Add(502, []byte("<html>\xff</html>"))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {"3"}}}
		err := statusError(resp, body)
		if err == nil {
			t.Fatal("no error")
		}
		msg := err.Error()
		if len(msg) > 4*maxReasonLen+400 || !utf8.ValidString(msg) {
			t.Fatalf("message %d bytes: %q", len(msg), msg)
		}
		if aimg.ErrorCode(err) == aimg.CodeInvalid && (status >= 500 || status == 401 || status == 429) {
			t.Fatalf("status %d is retryable, got invalid: %v", status, err)
		}
	})
}

// Any 200 answer either fails or yields images within the budgets.
func FuzzAnswer(f *testing.F) {
	f.Add([]byte(`{"created":1,"data":[{"b64_json":"iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNoAAAAggCBd81ytgAAAABJRU5ErkJggg=="}]}`))
	f.Add([]byte(`{"created":1,"data":[{"url":"http://127.0.0.1:1/x.png"}]}`))
	f.Add([]byte(`{"data":[{}]}`))
	var body atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(body.Load().([]byte))
	}))
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/v1", MaxImagePixels: 64 * 64, MaxImages: 4, MaxImageBytes: 1 << 16})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		body.Store(b)
		res, err := c.Generate(context.Background(), GenerateRequest{Prompt: "x"})
		if err != nil {
			return
		}
		if len(res.Images) == 0 || len(res.Images) > 4 {
			t.Fatalf("%d images", len(res.Images))
		}
		for _, img := range res.Images {
			if img.Width*img.Height > 64*64 || len(img.Data) > 1<<16 || !strings.HasPrefix(img.ContentType, "image/") {
				t.Fatalf("image %dx%d %d bytes %s", img.Width, img.Height, len(img.Data), img.ContentType)
			}
		}
	})
}

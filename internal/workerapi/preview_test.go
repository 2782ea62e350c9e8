package workerapi_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
	"aimg/internal/workerapi"
)

func encodePNG(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// getPreview fetches the web UI's preview route with a session cookie.
func getPreview(t *testing.T, srv *testsupport.Server, session, id string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/items/"+id+"/preview?v=1", nil)
	req.AddCookie(&http.Cookie{Name: "aimg_session", Value: session})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// A remote worker's preview reaches the Item's preview route (its owner
// only, not stored, not sniffed), its status says which version it is,
// previews that break a budget are refused with the reason, and the
// preview is gone when the Job completes.
func TestRemoteWorkerPreview(t *testing.T) {
	testsupport.ForEachDatabase(t, func(t *testing.T, url string) {
		srv := testsupport.NewServer(t, url, testsupport.WithoutRateLimits)
		ctx := t.Context()
		_, key := newKey(t, srv, map[string]any{"name": "gpu"})
		owner := testsupport.SignUp(t, srv, "owner@previews.example")
		other := testsupport.SignUp(t, srv, "other@previews.example")
		id := generate(t, srv, owner.SessionID)
		c := workerapi.NewClient(srv.URL, key, nil)
		c.Wait = time.Second
		job, err := c.Claim(ctx, "gpu/0", nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp, _ := getPreview(t, srv, owner.SessionID, id); resp.StatusCode != 404 {
			t.Fatalf("before any preview: %d, want 404", resp.StatusCode)
		}

		var gifData bytes.Buffer
		_ = gif.Encode(&gifData, image.NewPaletted(image.Rect(0, 0, 8, 8), []color.Color{color.Black}), nil)
		for _, bad := range []struct {
			name string
			data []byte
			want string
		}{
			{"too big", append(encodePNG(t, 8, 8), make([]byte, 300<<10)...), "more than the 262144 allowed"},
			{"a GIF", gifData.Bytes(), "not a PNG, JPEG or WebP"},
			{"not an image", []byte("<svg onload=alert(1)>"), "not a PNG, JPEG or WebP"},
			{"too many pixels", encodePNG(t, 2000, 2000), "2000×2000 pixels, more than"},
		} {
			err := c.Preview(ctx, job.Lease(), 0, bad.data)
			if aimg.ErrorCode(err) != aimg.CodeInvalid || !strings.Contains(err.Error(), bad.want) {
				t.Errorf("%s: %v, want an invalid error saying %q", bad.name, err, bad.want)
			}
		}
		if err := c.Preview(ctx, job.Lease(), 1, encodePNG(t, 8, 8)); aimg.ErrorCode(err) != aimg.CodeInvalid {
			t.Errorf("a preview of an Item the Job does not have: %v", err)
		}

		first := encodePNG(t, 64, 64)
		if err := c.Preview(ctx, job.Lease(), 0, first); err != nil {
			t.Fatal(err)
		}
		resp, body := getPreview(t, srv, owner.SessionID, id)
		if resp.StatusCode != 200 || !bytes.Equal(body, first) || resp.Header.Get("Content-Type") != "image/png" ||
			resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("the owner's preview: %d %v, %d bytes", resp.StatusCode, resp.Header, len(body))
		}
		if resp, _ := getPreview(t, srv, other.SessionID, id); resp.StatusCode != 404 {
			t.Fatalf("another user's view of the preview: %d, want 404", resp.StatusCode)
		}
		env := srv.Get(t, "/api/getItemStatus?imageID="+id, owner.SessionID)
		if !strings.Contains(string(env.Payload), `"previewVersion":1`) {
			t.Fatalf("status with a preview: %s", env.Payload)
		}
		// Within a second of the last: dropped. After it: replaces it.
		if err := c.Preview(ctx, job.Lease(), 0, encodePNG(t, 32, 32)); err != nil {
			t.Fatal(err)
		}
		if _, body := getPreview(t, srv, owner.SessionID, id); !bytes.Equal(body, first) {
			t.Fatal("a preview sent too soon replaced the last one")
		}
		srv.Clock.Advance(2 * time.Second)
		second := encodePNG(t, 32, 32)
		if err := c.Preview(ctx, job.Lease(), 0, second); err != nil {
			t.Fatal(err)
		}
		if _, body := getPreview(t, srv, owner.SessionID, id); !bytes.Equal(body, second) {
			t.Fatal("the later preview did not replace the first")
		}
		if err := c.Complete(ctx, job.Lease(), []aimg.ItemOutput{{ItemID: id, Files: []aimg.OutputFile{{
			Name: "image.png", ContentType: "image/png", Role: aimg.OutputImage, Data: encodePNG(t, 64, 64)}}}}); err != nil {
			t.Fatal(err)
		}
		if resp, _ := getPreview(t, srv, owner.SessionID, id); resp.StatusCode != 404 {
			t.Fatalf("after completion: %d, want 404", resp.StatusCode)
		}
		if err := c.Preview(ctx, job.Lease(), 0, second); err == nil {
			t.Fatal("a preview after completion was taken")
		}
	})
}

// A pool of the builtin renderer behind the worker API sends its previews:
// a slow render's preview is at the Item's route before it completes.
func TestRemoteBuiltinPoolSendsPreviews(t *testing.T) {
	srv := testsupport.NewServer(t, "sqlite:"+filepath.Join(t.TempDir(), "aimg.db"), testsupport.WithoutRateLimits)
	_, key := newKey(t, srv, map[string]any{"name": "cpu"})
	owner := testsupport.SignUp(t, srv, "pool@previews.example")
	client := workerapi.NewClient(srv.URL, key, nil)
	models, err := client.Models(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	backend := heldBackend{inner: builtin.Backend{}, block: block}
	testsupport.StartPool(t, client, backend, worker.Config{Name: "cpu", Concurrency: 1, ModelIDs: models,
		PollInterval: 10 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond})
	env := srv.Post(t, "/api/generateImage", owner.SessionID, map[string]any{"prompt": "a lighthouse at dusk", "steps": 20, "width": 256, "height": 256})
	testsupport.ExpectOK(t, env)
	var out struct{ ImageID string }
	env.Decode(t, &out)
	for {
		resp, body := getPreview(t, srv, owner.SessionID, out.ImageID)
		if resp.StatusCode == 200 {
			if _, err := png.DecodeConfig(bytes.NewReader(body)); err != nil {
				t.Fatalf("the preview is not a PNG: %v", err)
			}
			break
		}
		if t.Context().Err() != nil {
			t.Fatal("no preview reached the route")
		}
		time.Sleep(20 * time.Millisecond)
	}
	close(block)
	waitStatus(t, srv, owner.SessionID, out.ImageID, "completed")
	if resp, _ := getPreview(t, srv, owner.SessionID, out.ImageID); resp.StatusCode != 404 {
		t.Fatalf("after completion: %d, want 404", resp.StatusCode)
	}
}

// heldBackend renders with inner, then waits for block before it
// hands the outputs over: the Job stays processing with its previews sent.
type heldBackend struct {
	inner worker.Backend
	block chan struct{}
}

func (b heldBackend) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	out, err := b.inner.Render(ctx, job, progress)
	select {
	case <-b.block:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return out, err
}

package httpapi_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"hash/crc32"
	goimage "image"
	"image/png"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"aimg/internal/config"
	"aimg/internal/media"
	"aimg/internal/ratelimit"
	"aimg/internal/testsupport"
)

// png16Header returns a small PNG whose header claims a w x h picture of
// 16-bit RGBA with alpha (8 bytes a pixel once decoded): a real 16x16 image
// with its dimensions patched, as an attacker would send it.
func png16Header(t *testing.T, w, h int) []byte {
	t.Helper()
	img := goimage.NewNRGBA64(goimage.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i) // not opaque: the encoder keeps the alpha channel
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	if data[24] != 16 || data[25] != 6 {
		t.Fatalf("encoder wrote bit depth %d, colour type %d; want 16-bit RGBA", data[24], data[25])
	}
	binary.BigEndian.PutUint32(data[16:], uint32(w))
	binary.BigEndian.PutUint32(data[20:], uint32(h))
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// Hole 3: a 16-bit 6300x6300 PNG is under the 40 megapixel limit, but
// decoding it takes 317 MB. The decoded-bytes budget refuses it from its
// header, as too large, naming the field and the memory it would take.
func TestProfilePictureDecodedBytesBudget(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits)
	a := testsupport.SignUp(t, srv, "deep@example.com")
	uri := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png16Header(t, 6300, 6300))
	env := srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": uri})
	testsupport.ExpectError(t, env, 413, "profilePicture")
	if !strings.Contains(env.ErrorMessage, "bytes of memory") {
		t.Fatalf("message %q does not say the image needs too much memory", env.ErrorMessage)
	}
	// An 8-bit image of the same size is within the budget: it is refused
	// only because its pixel data is missing (400, corrupt), not for size.
	env = srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID,
		map[string]any{"profilePicture": "data:image/png;base64," + base64.StdEncoding.EncodeToString(pngHeader8(t, 6300, 6300))})
	testsupport.ExpectError(t, env, 400, "profilePicture")
}

// pngHeader8 is png16Header for 8-bit RGBA (4 bytes a pixel).
func pngHeader8(t *testing.T, w, h int) []byte {
	t.Helper()
	img := goimage.NewNRGBA(goimage.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = byte(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	binary.BigEndian.PutUint32(data[16:], uint32(w))
	binary.BigEndian.PutUint32(data[20:], uint32(h))
	binary.BigEndian.PutUint32(data[29:], crc32.ChecksumIEEE(data[12:29]))
	return data
}

// Hole 3: setSelfUserProfilePicture is rate limited per account.
func TestProfilePictureRateLimit(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits = map[string]ratelimit.Rule{
			"setSelfUserProfilePicture:user": {Requests: 1, Per: time.Hour, Burst: 3},
		}
	})
	a := testsupport.SignUp(t, srv, "often@example.com")
	b := testsupport.SignUp(t, srv, "other@example.com")
	pic := map[string]any{"profilePicture": acctPNG(t, 32, 32)}
	for range 3 {
		testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, pic))
	}
	env := srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, pic)
	testsupport.ExpectError(t, env, 429, "")
	if env.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	// The bucket is the account's: another account is not affected, and
	// removing the picture (no decode) is never limited.
	testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProfilePicture", b.SessionID, pic))
	testsupport.ExpectOK(t, srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": ""}))
}

// Hole 1: sizes snap to the configured set (default 64, 128, 256, 512,
// 1024 on the long side), so a client cannot make a new variant per pixel.
func TestGetFileSnapsSizes(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	m := mustUpload(t, srv, "wide.png", testPNG(t, 2000, 1000), nil)
	before := len(blobFiles(t, srv))
	cases := []struct {
		query        string
		wantW, wantH int
	}{
		{"width=300&height=300", 512, 256},          // box 300x300 -> 512x512, fitted
		{"width=257&height=257", 512, 256},          // the same variant
		{"width=512&height=512&mode=fit", 512, 256}, // and again
		{"width=100", 128, 64},                      // one side: that side snaps
		{"height=100", 256, 128},
		{"width=300&height=200&mode=fill", 512, 341}, // fill keeps the box's shape
		{"width=64&height=64&mode=fill", 64, 64},
	}
	for _, c := range cases {
		r := getFile(t, srv, "id="+m.ID+"&"+c.query, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", c.query, r.status, r.body)
		}
		cfg, err := png.DecodeConfig(bytes.NewReader(r.body))
		if err != nil || cfg.Width != c.wantW || cfg.Height != c.wantH {
			t.Fatalf("%s: %dx%d %v, want %dx%d", c.query, cfg.Width, cfg.Height, err, c.wantW, c.wantH)
		}
	}
	if n := len(blobFiles(t, srv)) - before; n != 5 {
		t.Fatalf("%d variants stored, want 5 (512 fit, 128 wide, 256 tall, 512x341 and 64x64 fill)", n)
	}
	// Past the largest size a fit request gets the original: no resize.
	orig := getFile(t, srv, "id="+m.ID, nil)
	r := getFile(t, srv, "id="+m.ID+"&width=4096&height=4096", nil)
	if r.status != 200 || !bytes.Equal(r.body, orig.body) {
		t.Fatalf("4096x4096: %d, original bytes = %v", r.status, bytes.Equal(r.body, orig.body))
	}
	// A fill past the largest size is made at the largest size, and never
	// scaled up: the 1000x1000 crop of this image stays 1000x1000.
	r = getFile(t, srv, "id="+m.ID+"&width=4000&height=4000&mode=fill", nil)
	if cfg, err := png.DecodeConfig(bytes.NewReader(r.body)); err != nil || cfg.Width != 1000 || cfg.Height != 1000 {
		t.Fatalf("fill 4000x4000: %v %v", cfg, err)
	}
	r = getFile(t, srv, "id="+m.ID+"&width=4000&height=1000&mode=fill", nil)
	if cfg, err := png.DecodeConfig(bytes.NewReader(r.body)); err != nil || cfg.Width != 1024 || cfg.Height != 256 {
		t.Fatalf("fill 4000x1000: %v %v", cfg, err)
	}
	// Never scaled up: a small image asked for a larger size is sent as it is.
	small := mustUpload(t, srv, "small.png", testPNG(t, 60, 30), nil)
	before = len(blobFiles(t, srv))
	r = getFile(t, srv, "id="+small.ID+"&width=50", nil)
	if origSmall := getFile(t, srv, "id="+small.ID, nil); r.status != 200 || !bytes.Equal(r.body, origSmall.body) {
		t.Fatalf("small image: %d, original bytes = %v", r.status, bytes.Equal(r.body, origSmall.body))
	}
	if len(blobFiles(t, srv)) != before {
		t.Fatal("a variant the size of the original was stored")
	}
}

// Hole 1: making a variant is rate limited per client address; serving a
// stored one, or the original, is not.
func TestGetFileResizeRateLimit(t *testing.T) {
	srv := testsupport.NewServer(t, "", func(c *config.Config) {
		c.Service.RateLimits["getFile.resize:ip"] = ratelimit.Rule{Requests: 1, Per: time.Hour, Burst: 3}
	})
	m := mustUpload(t, srv, "pic.png", testPNG(t, 600, 600), nil)
	for _, w := range []int{64, 128, 256} {
		if r := getFile(t, srv, "id="+m.ID+"&width="+strconv.Itoa(w), nil); r.status != 200 {
			t.Fatalf("width %d: %d %s", w, r.status, r.body)
		}
	}
	r := getFile(t, srv, "id="+m.ID+"&width=512", nil)
	env := r.envelope(t)
	testsupport.ExpectError(t, env, 429, "")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	for _, q := range []string{"&width=64", "&width=100", "&width=200", ""} {
		if r := getFile(t, srv, "id="+url.QueryEscape(m.ID)+q, nil); r.status != 200 {
			t.Fatalf("stored variant or original %q: %d %s", q, r.status, r.body)
		}
	}
}

// Hole 3 on the resize path: an admin-uploaded 16-bit 10000x10000 PNG (800 MB
// decoded) resized by a guest is refused from its header.
// holdDecodes takes every turn of the server's decode budget until the
// returned func is called.
func holdDecodes(t *testing.T, srv *testsupport.Server, n int) (release func()) {
	t.Helper()
	data := testPNG(t, 4, 4)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range n {
		held := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := srv.App.Decoder.Decode(context.Background(), data, media.Limits{}, func(goimage.Image, string) error {
				close(held)
				<-done
				return nil
			})
			if err != nil {
				t.Errorf("holding decode: %v", err)
				close(held)
			}
		}()
		<-held
	}
	return func() { close(done); wg.Wait() }
}

// Holes 1 and 3: with every decode turn taken, a resize and a profile
// picture wait at most media.decodeWait, then get 503 with Retry-After
// (before, a resize waited for a slot without end). Stored variants and
// originals are still served meanwhile.
func TestDecodeBudgetBusyIs503(t *testing.T) {
	srv := testsupport.NewServer(t, "", testsupport.WithoutRateLimits, func(c *config.Config) {
		c.Service.Media.MaxConcurrentDecodes = 2
		c.Service.Media.DecodeWait = 20 * time.Millisecond
	})
	a := testsupport.SignUp(t, srv, "busy@example.com")
	m := mustUpload(t, srv, "pic.png", testPNG(t, 600, 600), nil)
	if r := getFile(t, srv, "id="+m.ID+"&width=64", nil); r.status != 200 {
		t.Fatalf("resize: %d %s", r.status, r.body)
	}
	release := holdDecodes(t, srv, 2)
	r := getFile(t, srv, "id="+m.ID+"&width=128", nil)
	testsupport.ExpectError(t, r.envelope(t), 503, "try again")
	if r.header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	env := srv.Post(t, "/api/setSelfUserProfilePicture", a.SessionID, map[string]any{"profilePicture": acctPNG(t, 32, 32)})
	testsupport.ExpectError(t, env, 503, "try again")
	if env.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	for _, q := range []string{"&width=64", ""} {
		if r := getFile(t, srv, "id="+m.ID+q, nil); r.status != 200 {
			t.Fatalf("while busy, %q: %d %s", q, r.status, r.body)
		}
	}
	release()
	if r := getFile(t, srv, "id="+m.ID+"&width=128", nil); r.status != 200 {
		t.Fatalf("after the turns are free: %d %s", r.status, r.body)
	}
}

func TestGetFileResizeDecodedBytesBudget(t *testing.T) {
	srv := testsupport.NewServer(t, "")
	m := mustUpload(t, srv, "deep.png", png16Header(t, 10000, 10000), nil)
	env := getFile(t, srv, "id="+m.ID+"&width=256", nil).envelope(t)
	testsupport.ExpectError(t, env, 400, "width")
	if !strings.Contains(env.ErrorMessage, "bytes of memory") {
		t.Fatalf("message %q does not say the image needs too much memory", env.ErrorMessage)
	}
}

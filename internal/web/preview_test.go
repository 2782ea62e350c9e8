package web_test

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"net/http"
	"testing"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
)

func smallPNG(t *testing.T, side int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewNRGBA(image.Rect(0, 0, side, side))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The preview route answers the Item's owner while it generates, with its
// stored type, no-store and nosniff; another user, a visitor and anyone
// after the Item completed get 404.
func TestItemPreviewRoute(t *testing.T) {
	srv := newServer(t)
	ctx := context.Background()
	owner, other, anon := newVisitor(t, srv), newVisitor(t, srv), newVisitor(t, srv)
	owner.signUpWithCode("owner@preview.example")
	other.signUpWithCode("other@preview.example")
	env := srv.Post(t, "/api/generateImage", owner.session(), map[string]any{"prompt": "a red fox", "width": 256, "height": 256})
	testsupport.ExpectOK(t, env)
	var item struct{ ImageID string }
	env.Decode(t, &item)
	path := "/items/" + item.ImageID + "/preview?v=1"

	var models []string
	for _, m := range srv.App.Generation.Models(nil) {
		models = append(models, m.ModelID)
	}
	job, err := srv.App.Generation.Claim(ctx, "preview-test/0", models)
	if err != nil {
		t.Fatal(err)
	}
	if p := owner.get(path); p.Status != http.StatusNotFound {
		t.Fatalf("before any preview: %d", p.Status)
	}
	img := smallPNG(t, 32)
	if err := srv.App.Generation.Preview(ctx, job.Lease(), 0, img); err != nil {
		t.Fatal(err)
	}
	p := owner.get(path)
	if p.Status != http.StatusOK || p.Body != string(img) || p.Header.Get("Content-Type") != "image/png" ||
		p.Header.Get("Cache-Control") != "no-store" || p.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("owner: %d %v", p.Status, p.Header)
	}
	for who, v := range map[string]*visitor{"another user": other, "a visitor": anon} {
		if p := v.get(path); p.Status != http.StatusNotFound || bytes.Contains([]byte(p.Body), img[:8]) {
			t.Errorf("%s: %d, want 404", who, p.Status)
		}
	}
	if p := owner.get("/items/no-such-item/preview"); p.Status != http.StatusNotFound {
		t.Errorf("an unknown Item: %d", p.Status)
	}
	err = srv.App.Generation.Complete(ctx, job.Lease(), []aimg.ItemOutput{{ItemID: item.ImageID, Files: []aimg.OutputFile{{
		Name: "image.png", ContentType: "image/png", Role: aimg.OutputImage, Data: smallPNG(t, 64)}}}})
	if err != nil {
		t.Fatal(err)
	}
	if p := owner.get(path); p.Status != http.StatusNotFound {
		t.Fatalf("after completion: %d, want 404", p.Status)
	}
}

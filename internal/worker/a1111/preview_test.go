package a1111_test

import (
	"bytes"
	"context"
	"image/png"
	"testing"

	"aimg/internal/worker/a1111"
	"aimg/internal/worker/a1111/a1111fake"
)

// /internal/progress's live previews (data URIs) reach the progress
// reports as images, each one once: the client asks for newer ones only.
func TestLivePreviews(t *testing.T) {
	fake := newFake(t, a1111fake.Options{Manual: true})
	c := newClient(t, fake, nil)
	done, prog := start(context.Background(), c, a1111.Txt2ImgRequest{Prompt: "p", Width: 16, Height: 16, Steps: 4, ForceTaskID: "live"})
	waitTask(t, fake, "live", a1111fake.Active)
	fake.Step(1)
	waitStep(t, fake, "live", 1)
	first := await(t, prog, "a preview at step 1", func(p a1111.Progress) bool { return p.Preview != nil })
	if first.PreviewType != "image/png" {
		t.Fatalf("preview type %q", first.PreviewType)
	}
	if _, err := png.DecodeConfig(bytes.NewReader(first.Preview)); err != nil {
		t.Fatalf("the preview is not a PNG: %v", err)
	}
	fake.Step(2)
	waitStep(t, fake, "live", 2)
	second := await(t, prog, "a preview at step 2", func(p a1111.Progress) bool { return p.Preview != nil })
	if bytes.Equal(first.Preview, second.Preview) {
		t.Fatal("the same preview was reported twice")
	}
	fake.Resume()
	if r := <-done; r.err != nil {
		t.Fatal(r.err)
	}
	asked := false
	for _, r := range fake.Requests("/internal/progress") {
		if m := r.JSON(); m["live_preview"] == true && m["id_live_preview"] == 1.0 {
			asked = true // after the first preview, only newer ones
		}
	}
	if !asked {
		t.Error("the client never asked for a preview newer than the first")
	}
}

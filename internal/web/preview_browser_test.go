package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"aimg/internal/aimg"
	"aimg/internal/testsupport"
	"aimg/internal/worker"
	"aimg/internal/worker/builtin"
)

// heldRender renders on the built-in renderer, then holds the outputs
// until release is closed: the Item stays generating, its previews sent.
type heldRender struct {
	release chan struct{}
}

func (h heldRender) Render(ctx context.Context, job worker.RenderJob, progress func(float64)) ([]aimg.ItemOutput, error) {
	out, err := builtin.Backend{}.Render(ctx, job, progress)
	select {
	case <-h.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return out, err
}

// A built-in generation shows its live preview on the Create page's card
// while it generates (progress.js, /items/{id}/preview), then its image
// when done.
func TestBrowserLivePreview(t *testing.T) {
	srv := newServer(t) // the test's own in-process pool renders, held before it completes
	var ids []string
	for _, m := range srv.App.Generation.Models(nil) {
		if m.Backend == "" || m.Backend == aimg.BackendBuiltin {
			ids = append(ids, m.ModelID)
		}
	}
	release := make(chan struct{})
	testsupport.StartPool(t, srv.App.Generation, heldRender{release}, worker.Config{Name: "preview-test", Concurrency: 1,
		ModelIDs: ids, PollInterval: 10 * time.Millisecond, HeartbeatInterval: 50 * time.Millisecond})
	b := newBrowser(t)
	preview := css(`#watch [data-status="processing"] .thumb img.preview`)
	b.run("generate",
		chromedp.Navigate(srv.URL+"/create?model=sketch"),
		chromedp.SetValue(id("width"), "256"),
		chromedp.SetValue(id("height"), "256"),
		chromedp.SetValue(id("steps"), "20"),
		chromedp.SendKeys(id("prompt"), "a lighthouse at dusk"),
		chromedp.Click(id("generate")),
		chromedp.WaitVisible(preview),
	)
	// Loaded (the CSP allows it, the type is right), and named for assistive tech.
	loaded := `(() => { const i = document.querySelector('#watch .thumb img.preview');
		return i.complete && i.naturalWidth > 0 && /\/items\/[^/]+\/preview\?v=\d+$/.test(i.src) && i.alt.startsWith('Preview'); })()`
	b.run("the preview loads", chromedp.Poll[chromedp.Void](loaded))
	close(release)
	b.run("done", chromedp.WaitVisible(css(`#watch [data-status="completed"] img`)))
	if n := value(b, "previews left", chromedp.Evaluate[int](`document.querySelectorAll('#watch img.preview').length`)); n != 0 {
		t.Fatalf("%d preview images on the done card, want the result only", n)
	}
}

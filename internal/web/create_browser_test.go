package web_test

import (
	"testing"

	"github.com/chromedp/chromedp"

	"aimg/internal/config"
)

// Two images at once: the Create page links to their batch, whose page
// follows both cards to done without a reload. A sample prompt fills the
// prompt.
func TestBrowserBatchOfTwoReachesDone(t *testing.T) {
	srv := newServer(t, func(c *config.Config) { c.EmbeddedWorker = true })
	b := newBrowser(t)
	b.run("fill from a sample prompt",
		chromedp.Navigate(srv.URL+"/create?model=sketch"),
		chromedp.WaitVisible(css("#samples .sample")),
		chromedp.Click(css("#samples .sample")),
	)
	prompt := value(b, "prompt", chromedp.Evaluate[string](`document.getElementById('prompt').value`))
	if prompt != "a red sun over a calm ocean at dusk" {
		t.Fatalf("prompt after the sample: %q", prompt)
	}
	b.run("generate two",
		chromedp.SetValue(id("width"), "128"),
		chromedp.SetValue(id("height"), "128"),
		chromedp.SetValue(id("steps"), "2"),
		chromedp.SetValue(id("count"), "2"),
		chromedp.Click(id("generate")),
		chromedp.WaitVisible(id("batch-link")),
		chromedp.Click(id("batch-link")),
		chromedp.WaitVisible(css("#batch [data-item]")),
		chromedp.Evaluate[chromedp.Void](`window.aimgMark = 1, undefined`),
	)
	if n := value(b, "cards", chromedp.Evaluate[int](`document.querySelectorAll('#batch [data-item]').length`)); n != 2 {
		t.Fatalf("%d cards on the batch page", n)
	}
	b.run("both reach done", chromedp.WaitVisible(css(`#batch [data-status="completed"]:nth-child(1) img`)),
		chromedp.WaitVisible(css(`#batch [data-status="completed"]:nth-child(2) img`)))
	states := value(b, "states", chromedp.Evaluate[string](`[...document.querySelectorAll('#batch .state')].map(e => e.textContent).join(',')`))
	same := value(b, "mark", chromedp.Evaluate[bool](`window.aimgMark === 1`))
	if states != "Done,Done" || !same {
		t.Fatalf("batch states %q, same document %v", states, same)
	}
}

// The picker's video Model switches the form to the video fields and the
// upload route, and back.
func TestBrowserVideoModelSwitchesTheForm(t *testing.T) {
	srv := newServer(t)
	b := newBrowser(t)
	b.run("choose the video Model",
		chromedp.Navigate(srv.URL+"/create"),
		chromedp.SetValue(id("modelName"), "model3"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('modelName').dispatchEvent(new Event('change')), undefined`),
		chromedp.WaitVisible(id("inputImage")),
	)
	got := value(b, "form", chromedp.Evaluate[string](`[new URL(document.getElementById('create-form').action).pathname,
		document.getElementById('create-form').enctype, document.getElementById('image-fields').disabled,
		[...document.querySelectorAll('#controlNetPreset option')].map(o => o.value).join('|')].join(' ')`))
	if got != "/create/video multipart/form-data true |orbit|drift" {
		t.Fatalf("video form: %q", got)
	}
	b.run("back to an image Model",
		chromedp.SetValue(id("modelName"), "sketch"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById('modelName').dispatchEvent(new Event('change')), undefined`),
		chromedp.WaitVisible(id("width")),
	)
	got = value(b, "form", chromedp.Evaluate[string](`new URL(document.getElementById('create-form').action).pathname + ' ' + document.getElementById('video-fields').disabled`))
	if got != "/create true" {
		t.Fatalf("image form: %q", got)
	}
}

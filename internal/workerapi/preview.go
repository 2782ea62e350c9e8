package workerapi

import (
	"context"
	"net/http"

	"aimg/internal/aimg"
	"aimg/internal/generation"
	"aimg/internal/worker"
)

// PreviewRequest is POST preview: the latest live preview of the Job's
// item-th Item (0-based), a PNG, JPEG or WebP image of at most
// generation.MaxPreviewBytes (base64 in JSON).
type PreviewRequest struct {
	Lease Lease  `json:"lease"`
	Item  int    `json:"item"`
	Image []byte `json:"image"`
}

// previewBodyLimit bounds a preview call's body: twice the largest image,
// in base64, and room for the rest, so that an image a little too big is
// told so by the budget check (generation.CheckPreview).
const previewBodyLimit = 2*generation.MaxPreviewBytes*4/3 + 4<<10

func (s *Server) preview(ctx context.Context, k *aimg.WorkerKey, w http.ResponseWriter, r *http.Request) error {
	sink, ok := s.opts.Jobs.(worker.PreviewSink)
	if !ok {
		return aimg.Errorf(aimg.CodeNotFound, "This server takes no previews")
	}
	r.Body = http.MaxBytesReader(w, r.Body, previewBodyLimit)
	return leaseCall(k, w, r, func(in *PreviewRequest) Lease { return in.Lease }, func(in *PreviewRequest, l aimg.Lease) (any, error) {
		return ok, sink.Preview(ctx, l, in.Item, in.Image)
	})
}

// Preview sends the latest live preview of the Job's item-th Item. It is
// not retried: a lost preview is replaced by the next.
func (c *Client) Preview(ctx context.Context, l aimg.Lease, item int, image []byte) error {
	ct, body := jsonBody(PreviewRequest{Lease: wireLease(l), Item: item, Image: image})
	return closeBody(c.do(ctx, "preview", false, ct, body, nil))
}

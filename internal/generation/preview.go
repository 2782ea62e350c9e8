package generation

import (
	"bytes"
	"context"
	"image"
	"image/jpeg"
	"image/png"
	"time"

	"golang.org/x/image/webp"

	"aimg/internal/aimg"
	"aimg/internal/media"
)

// Live previews (docs/decisions.md "Live previews"): a worker may send, while
// it renders, a small image of where an Item is going. The latest one per
// Item is stored (any replica serves it), the Item's status carries its
// version, and it is dropped when the Job ends.

// Preview budgets: what a worker may send and the server stores.
const (
	// MaxPreviewBytes bounds one preview image.
	MaxPreviewBytes = 256 << 10
	// MaxPreviewPixels bounds its width × height, read from its header.
	MaxPreviewPixels = 1024 * 1024
	// PreviewInterval is the least time between two stored previews of a
	// Job; those that come sooner are dropped.
	PreviewInterval = time.Second
)

// previewDecoders read the header of each accepted preview type.
var previewDecoders = map[string]func([]byte) (image.Config, error){
	"image/png":  func(b []byte) (image.Config, error) { return png.DecodeConfig(bytes.NewReader(b)) },
	"image/jpeg": func(b []byte) (image.Config, error) { return jpeg.DecodeConfig(bytes.NewReader(b)) },
	"image/webp": func(b []byte) (image.Config, error) { return webp.DecodeConfig(bytes.NewReader(b)) },
}

// CheckPreview returns the sniffed content type of a preview image, or an
// invalid error when it breaks a budget: too big, not PNG/JPEG/WebP, an
// unreadable header, too many pixels.
func CheckPreview(data []byte) (string, error) {
	if len(data) == 0 {
		return "", aimg.Invalid("preview", "is empty")
	}
	if len(data) > MaxPreviewBytes {
		return "", aimg.Invalid("preview", "is %d bytes, more than the %d allowed", len(data), MaxPreviewBytes)
	}
	format := media.Sniff(data) // the bytes say what it is; nothing declared is trusted
	ct := "image/" + format
	decode, ok := previewDecoders[ct]
	if !ok {
		if format == "" {
			return "", aimg.Invalid("preview", "is not a PNG, JPEG or WebP image")
		}
		return "", aimg.Invalid("preview", "is %s, not a PNG, JPEG or WebP image", ct)
	}
	cfg, err := decode(data)
	if err != nil {
		return "", aimg.Invalid("preview", "is not a readable %s image: %v", ct, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > MaxPreviewPixels {
		return "", aimg.Invalid("preview", "is %d×%d pixels, more than the %d allowed", cfg.Width, cfg.Height, MaxPreviewPixels)
	}
	return ct, nil
}

// Preview stores data as the preview of the Job's item-th Item (0-based,
// the Job's order), replacing the earlier one. Only the lease holder may
// send one (else aimg.ErrLeaseLost, or aimg.ErrJobCancelled); one sent
// sooner than PreviewInterval after the Job's last is dropped without an
// error. A preview that breaks a budget is an invalid error (CheckPreview).
func (s *Service) Preview(ctx context.Context, l aimg.Lease, item int, data []byte) error {
	ct, err := CheckPreview(data)
	if err != nil {
		return err
	}
	job, err := s.leasedJob(ctx, l)
	if err != nil {
		return s.cancelledOr(ctx, l, err)
	}
	if item < 0 || item >= len(job.ItemIDs) {
		return aimg.Invalid("item", "must be from 0 to %d", len(job.ItemIDs)-1)
	}
	_, stored, err := s.store.PutItemPreview(ctx, l, aimg.ItemPreview{ItemID: job.ItemIDs[item], ContentType: ct, Data: data},
		s.now(), PreviewInterval)
	if err != nil {
		return s.cancelledOr(ctx, l, err)
	}
	if stored {
		s.changed(l.JobID)
	}
	return nil
}

// ItemPreview returns the latest preview of a processing Item for its
// owner (the access rule of ItemStatus); anyone else, and an Item without
// one, gets not found.
func (s *Service) ItemPreview(ctx context.Context, c aimg.Caller, itemID string) (*aimg.ItemPreview, error) {
	it, err := s.store.ItemByID(ctx, itemID)
	if err != nil {
		return nil, err
	}
	if c.User == nil || it.UserID != c.User.ID || it.DeletedAt != nil || it.Status != aimg.StatusProcessing {
		return nil, aimg.Errorf(aimg.CodeNotFound, "No preview")
	}
	return s.store.ItemPreview(ctx, itemID)
}

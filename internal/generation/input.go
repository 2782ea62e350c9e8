package generation

import (
	"bytes"
	"context"
	"errors"
	"image"
	"strings"

	"aimg/internal/aimg"
	"aimg/internal/files"
	"aimg/internal/media"
)

// Uploaded input images (image-to-video from the web's Create form): the
// same Job input as generateVideo's `input` Item, but the source is an
// image the user uploads. It is decoded under the server's decode budget
// (media.Decoder, as profile pictures and resized files are), fitted
// inside the Model's size, stored as a PNG file and named by the Job's
// payload (inputFileID), which the worker opens (OpenInput).

// InputFiles stores the uploaded input images; *files.Service has it.
type InputFiles interface {
	Put(ctx context.Context, in files.PutInput) (*aimg.File, error)
	Remove(ctx context.Context, id string) (bool, error)
}

// Uploads enables uploaded input images; the app sets Service.Uploads.
type Uploads struct {
	Files   InputFiles
	Decoder *media.Decoder
	// Limits bound one upload (its bytes and pixels); the decoder adds the
	// server-wide decoded-bytes budget.
	Limits media.Limits
}

// InputImageField is the field an uploaded input image's error names.
const InputImageField = "inputImage"

// MaxInputImagePixels bounds an uploaded input image (as profile pictures).
const MaxInputImagePixels = media.ProfilePictureMaxPixels

// storeInputImage decodes data, fits it inside the Model's size and stores
// it as a PNG: the new file's id.
func (s *Service) storeInputImage(ctx context.Context, c aimg.Caller, m *aimg.Model, data []byte) (string, error) {
	u := s.Uploads
	if u == nil || u.Files == nil || u.Decoder == nil {
		return "", aimg.Errorf(aimg.CodeUnavailable, "Uploaded input images are not enabled on this server")
	}
	if len(data) == 0 {
		return "", aimg.Invalid(InputImageField, "is empty")
	}
	var png bytes.Buffer
	err := u.Decoder.Decode(ctx, data, u.Limits, func(img image.Image, _ string) error {
		fit, err := media.Resize(img, m.DefaultResolution[0], m.DefaultResolution[1], media.ModeFit)
		if err != nil {
			return err
		}
		return media.Encode(&png, fit, media.FormatPNG)
	})
	if err != nil {
		return "", s.inputImageError(err, u.Decoder)
	}
	owner := ""
	if c.User != nil {
		owner = c.User.ID
	}
	f, err := u.Files.Put(ctx, files.PutInput{Name: "input.png", ContentType: "image/png", OwnerID: owner, Body: &png})
	if err != nil {
		return "", err
	}
	return f.ID, nil
}

// inputImageError maps media's refusals to the field (413 for size, 400
// for what is no image), or the decode budget in use (503, try again).
func (s *Service) inputImageError(err error, d *media.Decoder) error {
	msg := InputImageField + ": " + err.Error()
	switch {
	case errors.Is(err, media.ErrBusy):
		return &aimg.Error{Code: aimg.CodeUnavailable, RetryAfter: d.RetryAfter(),
			Message: "Too many images are being processed; try again shortly", Err: err}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, media.ErrTooLarge):
		return &aimg.Error{Code: aimg.CodeTooLarge, Field: InputImageField, Message: msg, Err: err}
	case errors.Is(err, media.ErrUnsupported), errors.Is(err, media.ErrCorrupt):
		return &aimg.Error{Code: aimg.CodeInvalid, Field: InputImageField, Message: msg, Err: err}
	}
	return err
}

// enqueueWithUpload queues the video with the uploaded image as its input.
func (s *Service) enqueueWithUpload(ctx context.Context, c aimg.Caller, m *aimg.Model, pend pending, r VideoRequest) (*Status, error) {
	if r.Input != "" {
		return nil, aimg.Invalid(InputImageField, "give a source Item (input) or an uploaded image, not both")
	}
	if strings.TrimSpace(pend.prompt) == "" { // before the decode it would waste
		return nil, aimg.Invalid("prompt", "is required")
	}
	id, err := s.storeInputImage(ctx, c, m, r.InputImage)
	if err != nil {
		return nil, err
	}
	pend.inputFileID = id
	st, err := s.enqueue(ctx, c, m, pend)
	if err != nil {
		s.dropInputImage(ctx, id)
	}
	return st, err
}

// dropInputImage removes an uploaded input whose Job was not queued.
func (s *Service) dropInputImage(ctx context.Context, id string) {
	if _, err := s.Uploads.Files.Remove(context.WithoutCancel(ctx), id); err != nil {
		s.log.WarnContext(ctx, "removing an unused input image", "file", id, "err", err)
	}
}

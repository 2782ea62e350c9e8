package media

import (
	"context"
	"errors"
	"fmt"
	"image"
	"time"

	"golang.org/x/sync/semaphore"
)

// ErrBusy is returned by a Decoder that could not start a decode within its
// wait: the server is at its concurrent-decode budget. It is temporary; the
// caller answers "try again later" (503 with Retry-After).
var ErrBusy = errors.New("too many images are being decoded at once")

// DecoderConfig is the server's decode budget. Every field must be positive.
type DecoderConfig struct {
	// MaxDecodedBytes bounds one decode: Info.DecodedBytes, the pixels at
	// their decoded bytes per pixel (16-bit channels and alpha counted).
	MaxDecodedBytes int64
	// MaxInFlightBytes bounds the DecodedBytes of all decodes under way at
	// once, server-wide; a decode waits until its bytes fit.
	MaxInFlightBytes int64
	// MaxConcurrent bounds the number of decodes (and the resizing and
	// encoding done while one is held) under way at once.
	MaxConcurrent int
	// MaxWait is how long a decode waits for its turn before ErrBusy.
	MaxWait time.Duration
}

// Validate names the first bad field.
func (c DecoderConfig) Validate() error {
	switch {
	case c.MaxDecodedBytes <= 0:
		return fmt.Errorf("maxDecodedBytes must be positive, got %d", c.MaxDecodedBytes)
	case c.MaxInFlightBytes < c.MaxDecodedBytes:
		return fmt.Errorf("maxInFlightBytes must be at least maxDecodedBytes (%d), got %d", c.MaxDecodedBytes, c.MaxInFlightBytes)
	case c.MaxConcurrent <= 0:
		return fmt.Errorf("maxConcurrentDecodes must be positive, got %d", c.MaxConcurrent)
	case c.MaxWait <= 0:
		return fmt.Errorf("decodeWait must be positive, got %s", c.MaxWait)
	}
	return nil
}

// Decoder decodes untrusted images under one server-wide budget: a bound on
// each image's decoded bytes, on the bytes and the number of decodes in
// flight, and on the time a decode waits for its turn. Build one per process
// and share it (files, account, generation); it is safe for concurrent use.
type Decoder struct {
	cfg   DecoderConfig
	slots chan struct{}
	bytes *semaphore.Weighted
}

// NewDecoder returns a Decoder with the budget cfg.
func NewDecoder(cfg DecoderConfig) (*Decoder, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("media decoder: %w", err)
	}
	return &Decoder{
		cfg:   cfg,
		slots: make(chan struct{}, cfg.MaxConcurrent),
		bytes: semaphore.NewWeighted(cfg.MaxInFlightBytes),
	}, nil
}

// RetryAfter is the wait to suggest to a client refused with ErrBusy.
func (d *Decoder) RetryAfter() time.Duration { return max(d.cfg.MaxWait, time.Second) }

// Limits returns lim with the decoder's per-image byte budget applied.
func (d *Decoder) Limits(lim Limits) Limits {
	if lim.MaxDecodedBytes <= 0 || lim.MaxDecodedBytes > d.cfg.MaxDecodedBytes {
		lim.MaxDecodedBytes = d.cfg.MaxDecodedBytes
	}
	return lim
}

// Decode checks data against lim and the budget from its header alone, waits
// at most MaxWait for a turn (ErrBusy after that; ctx's error if ctx ends),
// decodes it and calls use with the image. The turn, and the image's bytes in
// the budget, are held until use returns: do the resizing and encoding there,
// and keep no reference to img afterwards. Decode returns use's error.
// Refusals wrap ErrTooLarge, ErrUnsupported, ErrCorrupt or ErrBusy.
func (d *Decoder) Decode(ctx context.Context, data []byte, lim Limits, use func(img image.Image, format string) error) error {
	if _, err := d.check(data, lim); err != nil {
		return err // refused from the header, without waiting
	}
	t, err := d.Turn(ctx)
	if err != nil {
		return err
	}
	defer t.Release()
	img, format, err := t.Decode(ctx, data, lim)
	if err != nil {
		return err
	}
	return use(img, format)
}

// check compares data's header with lim and the per-image budget.
func (d *Decoder) check(data []byte, lim Limits) (Info, error) {
	lim = d.Limits(lim)
	if lim.MaxBytes > 0 && int64(len(data)) > lim.MaxBytes {
		return Info{}, fmt.Errorf("%w: %d bytes, at most %d allowed", ErrTooLarge, len(data), lim.MaxBytes)
	}
	info, err := Inspect(data)
	if err != nil {
		return Info{}, err
	}
	return info, lim.check(info)
}

// Turn is one of the decoder's MaxConcurrent turns, taken before work that
// holds an image's bytes in memory (reading the encoded image, decoding,
// resizing, encoding). Release it when done.
type Turn struct {
	d        *Decoder
	reserved int64
	released bool
}

// Turn waits at most MaxWait for a turn: ErrBusy after that, ctx's error
// if ctx ends first.
func (d *Decoder) Turn(ctx context.Context) (*Turn, error) {
	wait, cancel := context.WithTimeout(ctx, d.cfg.MaxWait)
	defer cancel()
	select {
	case d.slots <- struct{}{}:
		return &Turn{d: d}, nil
	case <-wait.Done():
		return nil, d.busy(ctx)
	}
}

// busy is the error of a wait that ended: ctx's when the caller went away
// (not the server's load), else ErrBusy.
func (d *Decoder) busy(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return fmt.Errorf("%w; waited %s", ErrBusy, d.cfg.MaxWait)
}

// Decode decodes data under the turn: its header is checked against lim and
// the budget, then its decoded bytes are reserved in the in-flight budget
// (waiting at most MaxWait) until Release. One decode per turn.
func (t *Turn) Decode(ctx context.Context, data []byte, lim Limits) (image.Image, string, error) {
	if t.reserved != 0 || t.released {
		panic("media: one decode per Turn")
	}
	info, err := t.d.check(data, lim)
	if err != nil {
		return nil, "", err
	}
	wait, cancel := context.WithTimeout(ctx, t.d.cfg.MaxWait)
	defer cancel()
	if err := t.d.bytes.Acquire(wait, info.DecodedBytes); err != nil {
		return nil, "", t.d.busy(ctx)
	}
	t.reserved = info.DecodedBytes
	return decodeInspected(data, info)
}

// Release gives the turn and its reserved bytes back. It may be called more
// than once.
func (t *Turn) Release() {
	if t.released {
		return
	}
	t.released = true
	if t.reserved > 0 {
		t.d.bytes.Release(t.reserved)
	}
	<-t.d.slots
}

// ProfilePicture turns an uploaded profile picture, a base64 data URI of a
// PNG, JPEG, GIF (first frame) or WebP image within lim and the decoder's
// budget, into the stored form: a ProfilePictureSize-square, centre-cropped,
// lossless WebP data URI ("data:image/webp;base64,..."). The declared media
// type is ignored; the bytes decide. Errors wrap ErrInvalidDataURI,
// ErrUnsupported, ErrTooLarge or ErrCorrupt (the client's fault) or ErrBusy.
func (d *Decoder) ProfilePicture(ctx context.Context, dataURI string, lim Limits) (string, error) {
	_, data, err := ParseDataURI(dataURI, lim.MaxBytes)
	if err != nil {
		return "", fmt.Errorf("profile picture: %w", err)
	}
	var webp []byte
	err = d.Decode(ctx, data, lim, func(img image.Image, _ string) error {
		var err error
		// A 128x128 image always encodes; an error is a bug, not bad input.
		webp, err = EncodeWebP(SquareCrop(img, ProfilePictureSize))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("profile picture: %w", err)
	}
	return DataURI("image/"+FormatWebP, webp), nil
}

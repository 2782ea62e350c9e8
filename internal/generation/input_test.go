package generation_test

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"io"
	"testing"
	"time"

	"aimg/internal/aimg"
	"aimg/internal/config"
	"aimg/internal/files"
	"aimg/internal/generation"
	"aimg/internal/media"
)

// inputFiles records what the service stores and removes.
type inputFiles struct {
	put, removed []string
	data         []byte
}

func (f *inputFiles) Put(_ context.Context, in files.PutInput) (*aimg.File, error) {
	b, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.data = b
	id := "file" + string(rune('a'+len(f.put)))
	f.put = append(f.put, id)
	return &aimg.File{ID: id}, nil
}

func (f *inputFiles) Remove(_ context.Context, id string) (bool, error) {
	f.removed = append(f.removed, id)
	return true, nil
}

// An uploaded input image is decoded under the budget, fitted inside the
// Model's size and stored as a PNG; one the Job is not queued for is
// removed again; without Uploads the server says it has none.
func TestGenerateVideoWithAnUploadedImage(t *testing.T) {
	cfg, err := config.FromEnv(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	s := generation.New(nil, nil, nil, cfg.Service, nil, time.Now)
	var src bytes.Buffer
	if err := png.Encode(&src, image.NewGray(image.Rect(0, 0, 512, 128))); err != nil {
		t.Fatal(err)
	}
	guest := aimg.Caller{}
	req := generation.VideoRequest{Prompt: "child", InputImage: src.Bytes()} // banned words only: not queued
	if _, err := s.GenerateVideo(context.Background(), guest, req); aimg.ErrorCode(err) != aimg.CodeUnavailable {
		t.Fatalf("without Uploads: %v", err)
	}

	dec, err := media.NewDecoder(media.DecoderConfig{MaxDecodedBytes: 64 << 20, MaxInFlightBytes: 64 << 20, MaxConcurrent: 1, MaxWait: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	fs := &inputFiles{}
	s.Uploads = &generation.Uploads{Files: fs, Decoder: dec, Limits: media.Limits{MaxBytes: 1 << 20, MaxPixels: 1 << 20}}
	_, err = s.GenerateVideo(context.Background(), guest, req)
	if aimg.ErrorCode(err) != aimg.CodeInvalid || len(fs.put) != 1 || len(fs.removed) != 1 || fs.removed[0] != fs.put[0] {
		t.Fatalf("not queued: %v, put %v, removed %v", err, fs.put, fs.removed)
	}
	if c, err := png.DecodeConfig(bytes.NewReader(fs.data)); err != nil || c.Width != 256 || c.Height != 64 {
		t.Fatalf("stored input %+v %v, want 256x64", c, err)
	}

	for name, r := range map[string]generation.VideoRequest{
		"both":      {Prompt: "a moon", Input: "some-item", InputImage: src.Bytes()},
		"no image":  {Prompt: "a moon", InputImage: []byte("hello")},
		"too large": {Prompt: "a moon", InputImage: bytes.Repeat(src.Bytes(), 1+(1<<20)/src.Len())},
	} {
		_, err := s.GenerateVideo(context.Background(), aimg.Caller{User: &aimg.User{ID: "u1"}}, r)
		var e *aimg.Error
		if !errors.As(err, &e) || e.Field != generation.InputImageField {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(fs.put) != 1 {
		t.Fatalf("refused uploads were stored: %v", fs.put)
	}
}

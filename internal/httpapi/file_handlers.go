package httpapi

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"aimg/internal/aimg"
	"aimg/internal/files"
	"aimg/internal/server"
)

// FileMetadata is the spec's FileMetadata.
type FileMetadata struct {
	ID                string `json:"id"`
	PublicURL         string `json:"publicUrl"`
	FileName          string `json:"fileName"`
	ContentType       string `json:"contentType"`
	FileSize          int64  `json:"fileSize"`
	CreatedDate       string `json:"createdDate" doc:"ISO 8601."`
	Checksum          string `json:"checksum"`
	ChecksumAlgorithm string `json:"checksumAlgorithm"`
	OwnerID           string `json:"ownerId,omitempty"`
}

func (s *Server) fileMetadata(f *aimg.File) FileMetadata {
	return FileMetadata{
		ID:                f.ID,
		PublicURL:         s.Files.URL(f.ID),
		FileName:          f.Name,
		ContentType:       f.ContentType,
		FileSize:          f.Size,
		CreatedDate:       isoTime(f.CreatedAt),
		Checksum:          f.Checksum,
		ChecksumAlgorithm: f.ChecksumAlgorithm,
		OwnerID:           f.OwnerID,
	}
}

type uploadFileForm struct {
	File           huma.FormFile `form:"file" required:"true" doc:"The file; the part's filename is the file's name."`
	ID             string        `form:"id" doc:"A client-defined id: 1-128 of A-Z a-z 0-9 . _ -, not starting with '.'. Generated when absent."`
	CustomMetadata string        `form:"customMetadata" doc:"A JSON object kept with the file."`
	FileName       string        `form:"filename" doc:"Overrides the part's filename."`
}

type uploadFileInput struct {
	Auth
	RawBody huma.MultipartFormFiles[uploadFileForm]
}

type fileIDInput struct {
	Auth
	ID string `query:"id" required:"true" doc:"The file's id."`
}

type getFileInput struct {
	ID           string `query:"id" required:"true" doc:"The file's id."`
	SkipChecksum bool   `query:"skipChecksum" doc:"Serve the original without verifying its checksum."`
	Width        int    `query:"width" doc:"Resize (PNG, JPEG, GIF): the width in pixels; 0 = from height."`
	Height       int    `query:"height" doc:"Resize (PNG, JPEG, GIF): the height in pixels; 0 = from width."`
	Mode         string `query:"mode" enum:"fit,fill," doc:"fit (default): inside width x height; fill: cover it, centre-cropped."`
	FS           bool   `query:"fs" doc:"Accepted for compatibility and ignored: there is no old file server."`
	IfNoneMatch  string `header:"If-None-Match" doc:"ETags the client holds; a match is answered 304 without reading the file."`
}

// etagListMatches compares an If-None-Match list with etag the weak way
// (RFC 9110 13.1.2): W/ prefixes are ignored, "*" matches anything.
func etagListMatches(list, etag string) bool {
	bare := strings.TrimPrefix(etag, "W/")
	for _, t := range strings.Split(list, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || strings.TrimPrefix(t, "W/") == bare {
			return true
		}
	}
	return false
}

func (s *Server) uploadFile(ctx context.Context, c aimg.Caller, in *uploadFileInput) (*Response[FileMetadata], error) {
	form := in.RawBody.Data()
	if err := files.ValidateCustomMetadata([]byte(form.CustomMetadata)); err != nil {
		return nil, err
	}
	defer form.File.Close()
	name := form.File.Filename
	if form.FileName != "" {
		name = form.FileName
	}
	owner := ""
	if c.User != nil {
		owner = c.User.ID
	}
	f, err := s.Files.Put(ctx, files.PutInput{
		ID:             form.ID,
		Name:           name,
		ContentType:    form.File.ContentType,
		OwnerID:        owner,
		CustomMetadata: []byte(form.CustomMetadata),
		Body:           form.File,
	})
	if err != nil {
		return nil, err
	}
	return reply(s.fileMetadata(f))
}

func (s *Server) getFileMetadata(ctx context.Context, _ aimg.Caller, in *fileIDInput) (*Response[FileMetadata], error) {
	f, err := s.Files.Metadata(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return reply(s.fileMetadata(f))
}

func (s *Server) removeFile(ctx context.Context, _ aimg.Caller, in *fileIDInput) (*Response[Success], error) {
	ok, err := s.Files.Remove(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return reply(Success{Success: false, Message: "File not found"})
	}
	return reply(Success{Success: true})
}

const getFileDoc = "Serves the file inline with its Content-Type, ETag (If-None-Match gives 304) and Range support. " +
	"The original is verified against its SHA-256 unless skipChecksum=true; a file that fails the check is " +
	"answered 500 with an error envelope, never with its bytes. PNG, JPEG and GIF files can be resized: the " +
	"longer requested side is rounded up to the next of the server's sizes (default 64, 128, 256, 512, 1024), the " +
	"other scaled with it; past the largest, fit serves the original. Images are never scaled up. Making a new " +
	"size is rate limited per client (429) and waits for a decode turn (503 with Retry-After when busy)."

func (s *Server) getFile(ctx context.Context, _ aimg.Caller, in *getFileInput) (*huma.StreamResponse, error) {
	opts := files.OpenOptions{SkipChecksum: in.SkipChecksum, Width: in.Width, Height: in.Height, Mode: in.Mode,
		ClientIP: server.Info(ctx).ClientIP}
	if in.IfNoneMatch != "" {
		// Browsers revalidate on every use (no-cache): answer from the
		// metadata instead of reading and hashing the whole file again.
		etag, ok, err := s.Files.VerifiedETag(ctx, in.ID, opts)
		if err != nil {
			return nil, err
		}
		if ok && etagListMatches(in.IfNoneMatch, etag) {
			return &huma.StreamResponse{Body: func(hctx huma.Context) {
				_, w := humago.Unwrap(hctx)
				w.Header().Set("ETag", etag)
				w.Header().Set("Cache-Control", "public, no-cache")
				w.WriteHeader(http.StatusNotModified)
			}}, nil
		}
	}
	content, err := s.Files.Open(ctx, in.ID, opts)
	if errors.Is(err, files.ErrCorrupted) {
		// A server-side data error, stated plainly: the client may retry
		// with skipChecksum=true to get the bytes as stored.
		return nil, newErrorBody(http.StatusInternalServerError,
			"The file failed its integrity check (its stored bytes do not match its checksum) and was not served")
	}
	if err != nil {
		return nil, err
	}
	return &huma.StreamResponse{Body: func(hctx huma.Context) {
		defer content.Close()
		r, w := humago.Unwrap(hctx)
		// A download may take longer than the server's write timeout.
		w = server.MovingWriteDeadline(w, s.Config.Service.HTTP.WriteTimeout, time.Now)
		h := w.Header()
		h.Set("Content-Type", content.ContentType)
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": content.Name}))
		h.Set("ETag", content.ETag)
		h.Set("Cache-Control", "public, no-cache")
		// A stored file never runs as a page on the API's origin.
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		http.ServeContent(w, r, "", content.ModTime, content)
	}}, nil
}

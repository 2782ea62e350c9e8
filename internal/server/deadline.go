package server

import (
	"io"
	"net/http"
	"time"
)

// MovingWriteDeadline is for responses that may be larger than any fixed
// write timeout allows (file downloads): it replaces the server's
// WriteTimeout with a deadline that moves with progress, writeTimeout from
// now before each write. A large download that keeps moving is never cut; a
// client that stops reading is dropped after writeTimeout, as on every other
// route. now is the wall clock (deadlines are about the network).
func MovingWriteDeadline(w http.ResponseWriter, writeTimeout time.Duration, now func() time.Time) http.ResponseWriter {
	if writeTimeout <= 0 {
		return w
	}
	return &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: writeTimeout, now: now}
}

// progressWriter sets a fresh write deadline before each write.
type progressWriter struct {
	http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	now     func() time.Time
}

func (p *progressWriter) extend() {
	// An error means the writer cannot set deadlines (a test recorder): the
	// server's WriteTimeout stays in force.
	_ = p.rc.SetWriteDeadline(p.now().Add(p.timeout))
}

func (p *progressWriter) WriteHeader(code int) {
	p.extend()
	p.ResponseWriter.WriteHeader(code)
}

func (p *progressWriter) Write(b []byte) (int, error) {
	// Large writes go out in pieces so that each has its own deadline.
	const chunk = 64 << 10
	var n int
	for len(b) > 0 {
		piece := b[:min(len(b), chunk)]
		p.extend()
		m, err := p.ResponseWriter.Write(piece)
		n += m
		if err != nil {
			return n, err
		}
		b = b[m:]
	}
	return n, nil
}

// ReadFrom keeps io.Copy (http.ServeContent) on the chunked Write path
// above instead of the underlying writer's sendfile, which would run under
// a single deadline.
func (p *progressWriter) ReadFrom(r io.Reader) (int64, error) {
	return io.CopyBuffer(writerOnly{p}, r, make([]byte, 32<<10))
}

type writerOnly struct{ io.Writer }

// Unwrap lets http.ResponseController reach the connection (Flush, deadlines).
func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }

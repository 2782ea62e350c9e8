package app

import (
	"io"
	"net/http"
	"time"
)

// streamingPaths are the routes whose responses may be larger than any
// fixed write timeout allows: file downloads.
var streamingPaths = map[string]bool{"/api/getFile": true}

// streamDeadlines lifts the server's WriteTimeout on streaming routes and
// replaces it with a deadline that moves with progress: before each write
// the connection gets writeTimeout from now. A large download that keeps
// moving is never cut; a client that stops reading is dropped after
// writeTimeout, as on every other route.
//
// It belongs to the route table's "streaming" flag once routes have one;
// until then it matches the path.
func streamDeadlines(next http.Handler, writeTimeout time.Duration, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if streamingPaths[r.URL.Path] {
			w = &progressWriter{ResponseWriter: w, rc: http.NewResponseController(w), timeout: writeTimeout, now: now}
		}
		next.ServeHTTP(w, r)
	})
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

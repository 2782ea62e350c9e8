package testsupport

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy is a TCP proxy on 127.0.0.1 in front of a server (PostgreSQL, S3)
// that a test cuts and restores, as if the server went down and came
// back: Cut closes every connection through it and refuses new ones
// (they are accepted and closed at once, as a restarting server's port
// would answer), Restore lets connections through again.
type Proxy struct {
	Addr   string // host:port to connect to instead of the server
	target string
	ln     net.Listener

	mu      sync.Mutex
	cut     bool
	refused int
	conns   map[net.Conn]bool
	wg      sync.WaitGroup
}

// NewProxy starts a proxy to target (host:port), stopped at the test's end.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Cut drops every connection and refuses new ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Refused counts the connections refused while cut: a test sees that the
// app tried the server meanwhile.
func (p *Proxy) Refused() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.refused
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed at the test's end
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

// track registers conns unless the proxy is cut (then it closes them).
func (p *Proxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		p.refused++
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	for _, c := range conns {
		p.conns[c] = true
	}
	return true
}

func (p *Proxy) untrack(conns ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *Proxy) serve(client net.Conn) {
	if !p.track(client) {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		p.untrack(client)
		return
	}
	if !p.track(server) {
		p.untrack(client)
		return
	}
	var copies sync.WaitGroup
	copies.Go(func() {
		_, _ = io.Copy(server, client)
		p.untrack(client, server)
	})
	copies.Go(func() {
		_, _ = io.Copy(client, server)
		p.untrack(client, server)
	})
	copies.Wait()
}

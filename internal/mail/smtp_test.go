package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is what the fake SMTP server saw of one transaction.
type received struct {
	from, user, password string
	rcpts                []string
	data                 []byte
	tls                  bool
}

// smtpServer is a real SMTP server (go-smtp) that records what it receives.
type smtpServer struct {
	addr       string
	rejectRcpt bool

	mu       sync.Mutex
	messages []received
}

// startSMTP serves on 127.0.0.1:0; with serverTLS it offers STARTTLS, and
// with implicitTLS it speaks TLS from the first byte.
func startSMTP(t *testing.T, serverTLS *tls.Config, implicitTLS bool) *smtpServer {
	t.Helper()
	fake := &smtpServer{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &smtpSession{server: fake, cur: received{tls: isTLS}, conn: c}, nil
	}))
	srv.Domain = "fake.example"
	srv.AllowInsecureAuth = true
	srv.ErrorLog = log.New(io.Discard, "", 0) // expected TLS failures are asserted on the client side
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	var l net.Listener
	var err error
	if implicitTLS {
		l, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	} else {
		srv.TLSConfig = serverTLS // nil: no STARTTLS offered
		l, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		t.Fatal(err)
	}
	fake.addr = l.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(l)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return fake
}

func (s *smtpServer) received() []received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]received(nil), s.messages...)
}

type smtpSession struct {
	server *smtpServer
	conn   *smtp.Conn
	cur    received
}

func (s *smtpSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *smtpSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnsupported
	}
	return sasl.NewPlainServer(func(identity, user, password string) error {
		s.cur.user, s.cur.password = user, password
		return nil
	}), nil
}

func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.from = from
	_, s.cur.tls = s.conn.TLSConnectionState() // after STARTTLS, if any
	return nil
}

func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.server.rejectRcpt {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *smtpSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = data
	s.server.mu.Lock()
	s.server.messages = append(s.server.messages, s.cur)
	s.server.mu.Unlock()
	return nil
}

func (s *smtpSession) Reset() {
	s.cur = received{user: s.cur.user, password: s.cur.password, tls: s.cur.tls}
}
func (s *smtpSession) Logout() error { return nil }

// selfSignedTLS is a server certificate for 127.0.0.1 that no client trusts.
func selfSignedTLS(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "fake smtp"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func sendTimeout(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// checkDelivered asserts the server got exactly m, from testFrom, once.
func checkDelivered(t *testing.T, server *smtpServer, m Message, wantTLS bool) received {
	t.Helper()
	got := server.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	r := got[0]
	if r.from != "noreply@aimg.example" {
		t.Errorf("MAIL FROM %q, want noreply@aimg.example", r.from)
	}
	if len(r.rcpts) != 1 || r.rcpts[0] != "juergen@example.org" {
		t.Errorf("RCPT TO %q, want [juergen@example.org]", r.rcpts)
	}
	if r.tls != wantTLS {
		t.Errorf("transaction over TLS = %v, want %v", r.tls, wantTLS)
	}
	parsed, err := ParseEML(r.data)
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, r.data)
	}
	want := m
	want.To = "juergen@example.org"
	if parsed != want {
		t.Errorf("received message\n got %+v\nwant %+v", parsed, want)
	}
	if !strings.Contains(string(r.data), "Ihr Code lautet: 123456") {
		t.Errorf("received body lacks the code in plain sight:\n%s", r.data)
	}
	return r
}

func TestSMTPSendWithAuth(t *testing.T) {
	server := startSMTP(t, nil, false)
	clock := newFakeClock()
	s, err := Open("smtp://mailer:p%40ss%20word@"+server.addr, t.TempDir(), testFrom, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(sendTimeout(t), otpMessage); err != nil {
		t.Fatal(err)
	}
	r := checkDelivered(t, server, otpMessage, false)
	if r.user != "mailer" || r.password != "p@ss word" {
		t.Errorf("AUTH PLAIN got user %q password %q, want mailer / p@ss word", r.user, r.password)
	}
	if !strings.Contains(string(r.data), "Date: Tue, 04 Mar 2025 05:06:07 +0000") {
		t.Errorf("Date header does not use the injected clock:\n%s", r.data)
	}
}

func TestSMTPSendWithoutAuth(t *testing.T) {
	server := startSMTP(t, nil, false)
	s, err := NewSMTP("smtp://"+server.addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(sendTimeout(t), otpMessage); err != nil {
		t.Fatal(err)
	}
	if r := checkDelivered(t, server, otpMessage, false); r.user != "" {
		t.Errorf("authenticated as %q without a user in the URL", r.user)
	}
}

func TestSMTPStartTLS(t *testing.T) {
	server := startSMTP(t, selfSignedTLS(t), false)
	for _, query := range []string{"", "?starttls=required&insecure_skip_verify=true"} {
		t.Run("starttls "+query, func(t *testing.T) {
			s, err := NewSMTP("smtp://u:p@"+server.addr+query, testFrom)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(sendTimeout(t), otpMessage)
			if query == "" {
				// Offered STARTTLS is used, and the self-signed certificate fails verification.
				var certErr *tls.CertificateVerificationError
				if !errors.As(err, &certErr) {
					t.Fatalf("STARTTLS to a self-signed server without insecure_skip_verify: error = %v, want a certificate error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			checkDelivered(t, server, otpMessage, true)
		})
	}
}

func TestSMTPStartTLSRequiredButNotOffered(t *testing.T) {
	server := startSMTP(t, nil, false)
	s, err := NewSMTP("smtp://"+server.addr+"?starttls=required", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(sendTimeout(t), otpMessage)
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("error = %v, want one about STARTTLS", err)
	}
	if n := len(server.received()); n != 0 {
		t.Fatalf("%d messages sent in plain text despite starttls=required", n)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	server := startSMTP(t, selfSignedTLS(t), true)
	s, err := NewSMTP("smtps://u:p@"+server.addr+"?insecure_skip_verify=true", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(sendTimeout(t), otpMessage); err != nil {
		t.Fatal(err)
	}
	if r := checkDelivered(t, server, otpMessage, true); r.user != "u" || r.password != "p" {
		t.Errorf("AUTH PLAIN over TLS got %q / %q, want u / p", r.user, r.password)
	}

	verifying, err := NewSMTP("smtps://"+server.addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	var certErr *tls.CertificateVerificationError
	if err := verifying.Send(sendTimeout(t), otpMessage); !errors.As(err, &certErr) {
		t.Fatalf("smtps to a self-signed server without insecure_skip_verify: error = %v, want a certificate error", err)
	}
}

func TestSMTPRecipientRejected(t *testing.T) {
	server := startSMTP(t, nil, false)
	server.rejectRcpt = true
	s, err := NewSMTP("smtp://"+server.addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(sendTimeout(t), otpMessage)
	if err == nil || !strings.Contains(err.Error(), "juergen@example.org") {
		t.Fatalf("error = %v, want a send error naming the recipient", err)
	}
}

func TestSMTPUnreachable(t *testing.T) {
	// A port nobody listens on: the connection is refused.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := l.Addr().String()
	l.Close()
	s, err := NewSMTP("smtp://u:secret@"+closedAddr+"?timeout=2s", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Send(sendTimeout(t), otpMessage)
	if err == nil {
		t.Fatal("Send to a closed port: no error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}

	// A server that accepts connections and never greets: the timeout ends it.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c) // held open, never written to
		}
	}()
	defer func() {
		silent.Close()
		<-accepting
	}()
	s, err = NewSMTP("smtp://"+silent.Addr().String()+"?timeout=300ms", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(sendTimeout(t), otpMessage); err == nil {
		t.Fatal("Send to a server that never greets: no error")
	}

	// The caller's deadline is honoured even when shorter than the URL's timeout.
	s, err = NewSMTP("smtp://"+silent.Addr().String(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := s.Send(ctx, otpMessage); err == nil {
		t.Fatal("Send with a short context deadline to a silent server: no error")
	}
}

func TestNewSMTPRejectsBadURLs(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"http://mail.example", "scheme"},
		{"mail.example:25", "scheme"},
		{"smtp://", "no host"},
		{"smtp://:25", "no host"},
		{"smtp://mail.example:0", "port"},
		{"smtp://mail.example:70000", "port"},
		{"smtp://mail.example/inbox", "path"},
		{"smtp://mail.example?starttls=maybe", "starttls"},
		{"smtps://mail.example?starttls=required", "starttls"},
		{"smtp://mail.example?insecure_skip_verify=perhaps", "insecure_skip_verify"},
		{"smtp://mail.example?timeout=-1s", "timeout"},
		{"smtp://mail.example?timeout=soon", "timeout"},
		{"smtp://mail.example?tls=on", "unknown parameter"},
		{"smtp://mail.example?starttls=none&starttls=required", "2 times"},
		{"smtp://u:secret@mail.example:port", "cannot be parsed"},
		{"smtp://u:secret@mail.example:25\x7f", "cannot be parsed"},
	} {
		_, err := NewSMTP(tc.url, testFrom)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("NewSMTP(%q) error = %v, want one mentioning %q", tc.url, err, tc.want)
			continue
		}
		if !strings.Contains(err.Error(), "AIMG_SMTP_URL") || strings.Contains(err.Error(), "secret") {
			t.Errorf("NewSMTP(%q) error = %q: should name AIMG_SMTP_URL and never the password", tc.url, err)
		}
	}
	if _, err := NewSMTP("smtp://mail.example", "nobody"); err == nil || !strings.Contains(err.Error(), "From") {
		t.Errorf("bad From address: error = %v", err)
	}
	for _, ok := range []string{
		"smtp://mail.example",
		"smtp://u:p@mail.example:2525?starttls=none",
		"smtps://mail.example?insecure_skip_verify=false&timeout=5s",
		"smtp://[::1]:25/",
	} {
		if _, err := NewSMTP(ok, testFrom); err != nil {
			t.Errorf("NewSMTP(%q): %v", ok, err)
		}
	}
}

func TestSMTPAddrHasNoPassword(t *testing.T) {
	s, err := NewSMTP("smtp://u:secret@mail.example", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Addr(), "smtp://mail.example:587"; got != want {
		t.Errorf("Addr = %q, want %q", got, want)
	}
	s, err = NewSMTP("smtps://mail.example", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Addr(), "smtps://mail.example:465"; got != want {
		t.Errorf("Addr = %q, want %q", got, want)
	}
}

package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	netmail "net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// defaultSMTPTimeout bounds connecting and each SMTP exchange.
const defaultSMTPTimeout = 15 * time.Second

// SMTP sends emails through an SMTP server, one connection per email.
type SMTP struct {
	host     string
	port     int
	implicit bool // smtps://: TLS from the first byte
	starttls gomail.TLSPolicy
	tls      *tls.Config
	user     string
	password string
	timeout  time.Duration
	from     *netmail.Address
	now      func() time.Time
}

// NewSMTP configures an SMTP sender from a URL:
//
//	smtp://user:pass@host:port   STARTTLS when offered (default port 587)
//	smtps://user:pass@host:port  implicit TLS (default port 465)
//
// Query parameters: starttls=opportunistic|required|none (smtp:// only),
// insecure_skip_verify=true (self-signed test servers), timeout=10s.
// With a user, AUTH PLAIN is used; it is refused over an unencrypted
// connection to another host unless starttls=none says so explicitly.
func NewSMTP(rawURL, from string) (*SMTP, error) {
	fromAddr, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		// url errors quote the whole URL, password included: say less.
		return nil, errors.New("mail: invalid SMTP URL (AIMG_SMTP_URL): cannot be parsed")
	}
	s := &SMTP{host: u.Hostname(), timeout: defaultSMTPTimeout, from: fromAddr, now: time.Now, starttls: gomail.TLSOpportunistic}
	switch u.Scheme {
	case "smtp":
		s.port = gomail.DefaultPortTLS
	case "smtps":
		s.port, s.implicit = gomail.DefaultPortSSL, true
	default:
		return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): scheme %q, want smtp or smtps", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("mail: invalid SMTP URL (AIMG_SMTP_URL): no host")
	}
	if p := u.Port(); p != "" {
		s.port, err = strconv.Atoi(p)
		if err != nil || s.port < 1 || s.port > 65535 {
			return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): port %q", p)
		}
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): unexpected path %q", u.Path)
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.password, _ = u.User.Password()
	}

	s.tls = &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	query := u.Query()
	for key, values := range query {
		if len(values) != 1 {
			return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): %s given %d times", key, len(values))
		}
		value := values[0]
		switch key {
		case "starttls":
			if s.implicit {
				return nil, errors.New("mail: invalid SMTP URL (AIMG_SMTP_URL): starttls does not apply to smtps://, which is TLS throughout")
			}
			switch value {
			case "opportunistic":
				s.starttls = gomail.TLSOpportunistic
			case "required":
				s.starttls = gomail.TLSMandatory
			case "none":
				s.starttls = gomail.NoTLS
			default:
				return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): starttls=%q, want opportunistic, required or none", value)
			}
		case "insecure_skip_verify":
			skip, err := strconv.ParseBool(value)
			if err != nil {
				return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): insecure_skip_verify=%q, want true or false", value)
			}
			s.tls.InsecureSkipVerify = skip
		case "timeout":
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): timeout=%q, want a positive duration such as 10s", value)
			}
			s.timeout = d
		default:
			return nil, fmt.Errorf("mail: invalid SMTP URL (AIMG_SMTP_URL): unknown parameter %q (known: starttls, insecure_skip_verify, timeout)", key)
		}
	}
	// Build one client now so that option errors surface at start.
	if _, err := s.client(s.timeout); err != nil {
		return nil, fmt.Errorf("mail: SMTP client: %w", err)
	}
	return s, nil
}

// Addr is the server address, without credentials, for logs.
func (s *SMTP) Addr() string {
	scheme := "smtp"
	if s.implicit {
		scheme = "smtps"
	}
	return fmt.Sprintf("%s://%s:%d", scheme, s.host, s.port)
}

func (s *SMTP) client(timeout time.Duration) (*gomail.Client, error) {
	opts := []gomail.Option{
		gomail.WithPort(s.port),
		gomail.WithTimeout(timeout),
		gomail.WithTLSConfig(s.tls.Clone()),
	}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.starttls))
	}
	if s.user != "" {
		auth := gomail.SMTPAuthPlain
		if s.starttls == gomail.NoTLS && !s.implicit {
			auth = gomail.SMTPAuthPlainNoEnc // the operator chose plain text
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.user), gomail.WithPassword(s.password))
	}
	return gomail.NewClient(s.host, opts...)
}

// Send delivers m. The connection attempt and each SMTP exchange are bounded
// by the URL's timeout, shortened to ctx's deadline when that comes first.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	msg, err := build(m, s.from, s.now())
	if err != nil {
		return err
	}
	timeout := s.timeout
	if deadline, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(deadline))
		if timeout <= 0 {
			return context.DeadlineExceeded
		}
	}
	c, err := s.client(timeout)
	if err != nil {
		return fmt.Errorf("mail: SMTP client: %w", err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send to %s via %s: %w", m.To, s.Addr(), err)
	}
	return nil
}

// Package mail sends AIMG's emails (one-time passwords, magic links): over
// SMTP when configured, and otherwise into an outbox directory of .eml files
// that a fresh install, an operator or a test can read.
package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
	"time"

	"github.com/google/uuid"
	gomail "github.com/wneessen/go-mail"

	"aimg/internal/aimg"
)

// Message is one email to one recipient: aimg.Email, which the services
// hand to a Sender without importing this package.
type Message = aimg.Email

// Sender delivers Messages.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// Open returns an SMTP sender when smtpURL is set and an outbox in outboxDir
// otherwise. from is the From address, e.g. "AIMG <noreply@example.com>".
func Open(smtpURL, outboxDir, from string, now func() time.Time, log *slog.Logger) (Sender, error) {
	if smtpURL == "" {
		return NewOutbox(outboxDir, from, now, log)
	}
	s, err := NewSMTP(smtpURL, from)
	if err != nil {
		return nil, err
	}
	if now != nil {
		s.now = now
	}
	return s, nil
}

// parseFrom checks the From address once, at construction.
func parseFrom(from string) (*netmail.Address, error) {
	if from == "" {
		return nil, errors.New("mail: the From address is empty")
	}
	addr, err := netmail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid From address %q: %w", from, err)
	}
	return addr, nil
}

// build turns m into the exact message that is sent or stored: UTF-8,
// quoted-printable, with Date and Message-ID.
func build(m Message, from *netmail.Address, now time.Time) (*gomail.Msg, error) {
	to, err := netmail.ParseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid recipient %q: %w", m.To, err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("mail: the subject contains a line break")
	}
	if m.Text == "" {
		return nil, errors.New("mail: the text body is empty")
	}

	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.Subject(m.Subject)
	msg.SetDateWithValue(now)
	msg.SetMessageIDWithValue(uuid.NewString() + "@" + domainOf(from.Address))
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

func domainOf(address string) string {
	if i := strings.LastIndexByte(address, '@'); i >= 0 && i < len(address)-1 {
		return address[i+1:]
	}
	return "localhost"
}

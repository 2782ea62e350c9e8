package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Outbox writes each email as an RFC 5322 file <unix ms>-<uuid>.eml in a
// directory instead of sending it.
type Outbox struct {
	dir  string
	from *netmail.Address
	now  func() time.Time
	log  *slog.Logger
}

// NewOutbox creates dir if needed and returns an Outbox writing into it.
func NewOutbox(dir, from string, now func() time.Time, log *slog.Logger) (*Outbox, error) {
	if dir == "" {
		return nil, errors.New("mail: the outbox directory is empty")
	}
	fromAddr, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail: create outbox: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{dir: dir, from: fromAddr, now: now, log: log}, nil
}

// Dir is the directory the Outbox writes into.
func (o *Outbox) Dir() string { return o.dir }

// Send writes m into the outbox. The file appears complete or not at all:
// it is written under a temporary name and renamed.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	now := o.now()
	msg, err := build(m, o.from, now)
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%d-%s.eml", now.UnixMilli(), uuid.NewString())
	path := filepath.Join(o.dir, name)
	if err := writeFileAtomic(path, func(w io.Writer) error {
		_, err := msg.WriteTo(w)
		return err
	}); err != nil {
		return fmt.Errorf("mail: write outbox: %w", err)
	}
	// The body is left out of the log: it holds one-time passwords.
	o.log.InfoContext(ctx, "email written to outbox (no SMTP configured)",
		"to", m.To, "subject", m.Subject, "file", path)
	return nil
}

func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	// The temporary name does not end in .eml, so readers never see it.
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// ReadOutbox parses every .eml file in dir, oldest first, back into Messages.
func ReadOutbox(dir string) ([]Message, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("mail: read outbox: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".eml") && !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := compareInt64(millisPrefix(a), millisPrefix(b)); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	messages := make([]Message, 0, len(names))
	for _, name := range names {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("mail: read outbox: %w", err)
		}
		m, err := ParseEML(data)
		if err != nil {
			return nil, fmt.Errorf("mail: %s: %w", name, err)
		}
		messages = append(messages, m)
	}
	return messages, nil
}

// millisPrefix is the Unix-millisecond prefix of an outbox file name, or
// -1 for names the outbox did not write (they sort first, by name).
func millisPrefix(name string) int64 {
	prefix, _, ok := strings.Cut(name, "-")
	if !ok {
		return -1
	}
	ms, err := strconv.ParseInt(prefix, 10, 64)
	if err != nil {
		return -1
	}
	return ms
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// maxPartDepth bounds multipart nesting, which a hostile file could make deep.
const maxPartDepth = 8

// ParseEML parses one RFC 5322 message into a Message: the first To address,
// the decoded Subject, and the text/plain and text/html bodies (with line
// breaks as "\n").
func ParseEML(data []byte) (Message, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return Message{}, fmt.Errorf("parse message: %w", err)
	}
	var m Message
	if to := msg.Header.Get("To"); to != "" {
		addrs, err := msg.Header.AddressList("To")
		if err != nil {
			return Message{}, fmt.Errorf("parse To: %w", err)
		}
		m.To = addrs[0].Address
	}
	dec := mime.WordDecoder{CharsetReader: charsetReader}
	m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		return Message{}, fmt.Errorf("decode Subject: %w", err)
	}
	err = readPart(&m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if err != nil {
		return Message{}, err
	}
	return m, nil
}

// readPart fills m.Text and m.HTML from the first text/plain and text/html
// parts found, depth first.
func readPart(m *Message, contentType, transferEncoding string, body io.Reader, depth int) error {
	if depth > maxPartDepth {
		return errors.New("multipart nesting too deep")
	}
	mediaType, params := "text/plain", map[string]string{}
	if contentType != "" {
		var err error
		mediaType, params, err = mime.ParseMediaType(contentType)
		if err != nil {
			return fmt.Errorf("parse Content-Type: %w", err)
		}
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		if params["boundary"] == "" {
			return errors.New("multipart message without boundary")
		}
		r := multipart.NewReader(body, params["boundary"])
		for {
			// NextRawPart: the raw bytes are decoded below, by their own headers.
			p, err := r.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("read multipart: %w", err)
			}
			err = readPart(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
			if err != nil {
				return err
			}
		}
	}
	var target *string
	switch mediaType {
	case "text/plain":
		target = &m.Text
	case "text/html":
		target = &m.HTML
	default:
		return nil // attachments and the like are not part of Message
	}
	if *target != "" {
		return nil
	}
	if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
		return fmt.Errorf("unsupported charset %q", params["charset"])
	}
	decoded, err := io.ReadAll(decodeTransfer(transferEncoding, body))
	if err != nil {
		return fmt.Errorf("decode %s body: %w", mediaType, err)
	}
	*target = strings.ReplaceAll(string(decoded), "\r\n", "\n")
	return nil
}

func decodeTransfer(encoding string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, r) // skips the line breaks
	default: // 7bit, 8bit, binary
		return r
	}
}

// charsetReader accepts the charsets this package writes; go-mail uses UTF-8.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "utf-8", "us-ascii":
		return input, nil
	}
	return nil, fmt.Errorf("unsupported charset %q", charset)
}

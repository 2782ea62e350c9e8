// Package tasks is the task engine behind the Nextcloud-compatible surface:
// one store of tasks for TaskProcessing and the legacy text2image and
// textprocessing APIs. Text tasks are queued, leased and retried by the
// task runner (RunTasks); a text-to-image task is a batch of Items on the
// default image Model, followed by FollowImages. Webhooks are delivered
// by DeliverWebhooks; tasks expire a week after their last update.
package tasks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"aimg/internal/aimg"
	"aimg/internal/generation"
)

// Store is the persistence tasks need; *store.Store has it.
type Store interface {
	CreateTask(ctx context.Context, t *aimg.Task) error
	Task(ctx context.Context, id int64) (*aimg.Task, error)
	Tasks(ctx context.Context, f aimg.TaskFilter) ([]aimg.Task, error)
	ClaimTask(ctx context.Context, c aimg.TaskClaim) (*aimg.Task, error)
	HeartbeatTask(ctx context.Context, l aimg.TaskLease, progress float64, now, expires time.Time) error
	FinishTask(ctx context.Context, l aimg.TaskLease, status aimg.TaskStatus, output json.RawMessage, reason string, now time.Time) error
	RetryTask(ctx context.Context, l aimg.TaskLease, reason string, now time.Time) (failed bool, err error)
	FollowedTasks(ctx context.Context, afterID int64, limit int) ([]aimg.Task, error)
	UpdateFollowedTask(ctx context.Context, id int64, u aimg.TaskUpdate) (bool, error)
	CancelTask(ctx context.Context, id int64, now time.Time) (bool, error)
	DeleteTask(ctx context.Context, id int64) error
	DeleteTasksUpdatedBefore(ctx context.Context, t time.Time, limit int) (int64, error)
	TaskFile(ctx context.Context, taskID, id int64) (*aimg.TaskFile, error)
	ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]aimg.Task, error)
	WebhookDelivered(ctx context.Context, taskID int64, done bool, retryAt *time.Time) error
}

// TextProvider runs text tasks (internal/textproc). An *aimg.Error with
// code invalid means the task can never succeed; other errors are retried.
type TextProvider interface {
	Types() []string
	Process(ctx context.Context, taskType, input string) (string, error)
}

// LanguagePair is one translation direction, ISO 639-1 codes and labels.
type LanguagePair struct {
	From, FromLabel, To, ToLabel string
}

// Translator translates (internal/translate). Detect answers an invalid
// error when it cannot tell the language.
type Translator interface {
	Languages(ctx context.Context) ([]LanguagePair, error)
	Detect(ctx context.Context, text string) (string, error)
	Translate(ctx context.Context, text, from, to string) (string, error)
}

// Images is the generation side of text-to-image tasks.
type Images interface {
	GenerateImages(ctx context.Context, c aimg.Caller, r generation.ImageRequest, n int) (*generation.Batch, error)
	Batch(ctx context.Context, jobID string) (*generation.BatchState, error)
	Cancel(ctx context.Context, c aimg.Caller, ids []string, batchID string) ([]generation.CancelResult, error)
	BatchAllowance(c aimg.Caller) int
}

// Guests gives a caller without an account record its guest record.
type Guests interface {
	GuestUser(ctx context.Context, c aimg.Caller) (*aimg.User, error)
}

// WebhookSender calls an ended task's webhook (t.WebhookMethod to
// t.WebhookURI, with the task as the surface renders it).
type WebhookSender interface {
	Send(ctx context.Context, t *aimg.Task) error
}

// Config are the engine's settings and budgets.
type Config struct {
	DefaultImages int           // numberOfImages when not given (Nextcloud: 8)
	MaxImages     int           // the most numberOfImages one task may ask
	MaxInputBytes int           // a text input's size
	MaxIDLength   int           // appId, customId
	TTL           time.Duration // tasks are removed this long after their last update
	ExpireEvery   time.Duration // how often Expire looks (one replica of several)
	ListLimit     int           // the most tasks one listing returns

	Runners     int           // text tasks run at once in this process
	Lease       time.Duration // a text task's lease; heartbeats renew it
	MaxAttempts int           // a text task's tries
	RunTimeout  time.Duration // one try's time
	Poll        time.Duration // how often idle loops look for work

	WebhookAttempts int
	WebhookBackoff  time.Duration // doubled after each failed delivery
	WebhookLease    time.Duration // a claimed delivery's time, before another replica may retry it
}

func (c Config) withDefaults() Config {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.DefaultImages, 8)
	def(&c.MaxImages, 8)
	c.DefaultImages = min(c.DefaultImages, c.MaxImages)
	def(&c.MaxInputBytes, 64<<10)
	def(&c.MaxIDLength, 255)
	defDur(&c.TTL, 7*24*time.Hour)
	def(&c.ListLimit, 1000)
	def(&c.Runners, 2)
	defDur(&c.Lease, time.Minute)
	def(&c.MaxAttempts, 3)
	defDur(&c.RunTimeout, 2*time.Minute)
	defDur(&c.Poll, 2*time.Second)
	def(&c.WebhookAttempts, 5)
	defDur(&c.WebhookBackoff, 10*time.Second)
	defDur(&c.WebhookLease, time.Minute)
	return c
}

// Service is the task engine.
type Service struct {
	store   Store
	images  Images
	guests  Guests
	text    TextProvider // nil: no text tasks
	trans   Translator   // nil: no translation
	webhook WebhookSender
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	wake    chan struct{}
}

// Deps are what New needs.
type Deps struct {
	Store      Store
	Images     Images
	Guests     Guests
	Text       TextProvider
	Translator Translator
	Webhooks   WebhookSender
	Config     Config
	Logger     *slog.Logger
	Now        func() time.Time
}

// New builds the engine.
func New(d Deps) *Service {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{store: d.Store, images: d.Images, guests: d.Guests, text: d.Text, trans: d.Translator,
		webhook: d.Webhooks, cfg: d.Config.withDefaults(), log: d.Logger, now: d.Now, wake: make(chan struct{}, 1)}
}

// Config is the engine's effective configuration.
func (s *Service) Config() Config { return s.cfg }

// ErrNoProvider: no provider serves the task type (Nextcloud's
// PreConditionNotMetException, HTTP 412).
var ErrNoProvider = errors.New("no provider serves this task type")

// ErrNoTranslator: no translation provider is configured (HTTP 412).
var ErrNoTranslator = errors.New("no translation provider")

// Types lists the task types the configured providers serve, catalogue
// order, with the translation enums filled in.
func (s *Service) Types(ctx context.Context) ([]TaskType, error) {
	var out []TaskType
	for _, t := range catalogue {
		if !s.serves(t.ID) {
			continue
		}
		if t.ID == aimg.TaskTypeTranslate {
			pairs, err := s.trans.Languages(ctx)
			if err != nil {
				// As Nextcloud's manager skips a provider that fails to set
				// up: the other types stay usable while the server is down.
				s.log.WarnContext(ctx, "translation languages unavailable; translate type not listed", "err", err)
				continue
			}
			t.Enums = translateEnums(pairs)
		}
		out = append(out, t)
	}
	return out, nil
}

func (s *Service) serves(typ string) bool {
	switch {
	case typ == aimg.TaskTypeText2Image:
		return s.images != nil
	case typ == aimg.TaskTypeTranslate:
		return s.trans != nil
	case isTextType(typ):
		return s.text != nil && slices.Contains(s.text.Types(), typ)
	}
	return false
}

// translateEnums are the origin and target language choices of pairs.
func translateEnums(pairs []LanguagePair) map[string][]EnumValue {
	from := []EnumValue{{Name: "Detect language", Value: DetectLanguage}}
	var to []EnumValue
	seenFrom, seenTo := map[string]bool{}, map[string]bool{}
	for _, p := range pairs {
		if !seenFrom[p.From] {
			seenFrom[p.From] = true
			from = append(from, EnumValue{Name: p.FromLabel, Value: p.From})
		}
		if !seenTo[p.To] {
			seenTo[p.To] = true
			to = append(to, EnumValue{Name: p.ToLabel, Value: p.To})
		}
	}
	if to == nil {
		to = []EnumValue{}
	}
	return map[string][]EnumValue{"origin_language": from, "target_language": to}
}

// NewTask is a schedule call.
type NewTask struct {
	Type     string
	Input    map[string]any // strings, json.Number or numbers, as the surface decoded them
	AppID    string
	CustomID string
	// WebhookURI and WebhookMethod (HTTP:GET|POST|PUT|DELETE) are called
	// when the task ends; the surface has checked the URI.
	WebhookURI, WebhookMethod string
}

// Schedule validates and queues a task for the caller (a guest record is
// made for an anonymous session).
func (s *Service) Schedule(ctx context.Context, c aimg.Caller, in NewTask) (*aimg.Task, error) {
	if !s.serves(in.Type) {
		return nil, ErrNoProvider
	}
	if err := s.checkID("appId", in.AppID); err != nil {
		return nil, err
	}
	if err := s.checkID("customId", in.CustomID); err != nil {
		return nil, err
	}
	input, err := s.checkInput(ctx, c, in.Type, in.Input)
	if err != nil {
		return nil, err
	}
	user, err := s.guests.GuestUser(ctx, c)
	if err != nil {
		return nil, err
	}
	now := s.now()
	t := &aimg.Task{
		Type: in.Type, UserID: user.ID, AppID: in.AppID, CustomID: in.CustomID, Status: aimg.TaskScheduled,
		WebhookURI: in.WebhookURI, WebhookMethod: in.WebhookMethod, MaxAttempts: s.cfg.MaxAttempts,
		ScheduledAt: now, LastUpdated: now,
	}
	if t.Input, err = json.Marshal(input); err != nil {
		return nil, err
	}
	if in.Type == aimg.TaskTypeText2Image {
		c.User = user
		b, err := s.images.GenerateImages(ctx, c, generation.ImageRequest{Prompt: input["input"].(string)}, int(input["numberOfImages"].(int64)))
		if err != nil {
			return nil, renameField(err, "prompt", "input")
		}
		t.JobID, t.CompletionExpectedAt, t.MaxAttempts = b.Job.ID, &b.ETA, 1
	} else {
		eta := now.Add(s.cfg.RunTimeout / 4)
		t.CompletionExpectedAt = &eta
	}
	if err := s.store.CreateTask(ctx, t); err != nil {
		return nil, err
	}
	if t.JobID == "" {
		s.notify()
	}
	s.log.InfoContext(ctx, "task scheduled", "task", t.ID, "type", t.Type, "user", t.UserID, "app", t.AppID)
	return t, nil
}

// renameField makes generation's field names the task input's.
func renameField(err error, from, to string) error {
	var e *aimg.Error
	if errors.As(err, &e) && e.Field == from {
		c := *e
		c.Field = to
		c.Message = to + strings.TrimPrefix(e.Message, from)
		return &c
	}
	return err
}

func (s *Service) checkID(field, v string) error {
	if utf8.RuneCountInString(v) > s.cfg.MaxIDLength {
		return aimg.Invalid(field, "is longer than %d characters", s.cfg.MaxIDLength)
	}
	if !storableText(v) {
		return aimg.Invalid(field, "is not valid UTF-8 text (NUL characters included)")
	}
	return nil
}

// storableText tells whether v can be stored and compared as text by
// both databases: valid UTF-8 without NUL (PostgreSQL refuses both).
func storableText(v string) bool { return utf8.ValidString(v) && !strings.ContainsRune(v, 0) }

// checkInput validates a task's input against its type and returns the
// normalised input object.
func (s *Service) checkInput(ctx context.Context, c aimg.Caller, typ string, in map[string]any) (map[string]any, error) {
	prompt, err := s.textSlot(in, "input")
	if err != nil {
		return nil, err
	}
	out := map[string]any{"input": prompt}
	switch typ {
	case aimg.TaskTypeText2Image:
		// Not given: Nextcloud's 8, but no more than the caller may have
		// generating at once, so that the default request is not refused.
		n := int64(max(min(s.cfg.DefaultImages, s.images.BatchAllowance(c)), 1))
		if v, ok := in["numberOfImages"]; ok && v != nil && v != "" {
			if n, err = wholeNumber(v); err != nil || n < 1 || n > int64(s.cfg.MaxImages) {
				return nil, aimg.Invalid("numberOfImages", "must be a whole number from 1 to %d", s.cfg.MaxImages)
			}
		}
		out["numberOfImages"] = n
	case aimg.TaskTypeTranslate:
		pairs, err := s.trans.Languages(ctx)
		if err != nil {
			// Types does not list the type then; scheduling it is the
			// same "no provider" answer (412), the cause logged.
			s.log.WarnContext(ctx, "translation languages unavailable; translate task refused", "err", err)
			return nil, ErrNoProvider
		}
		enums := translateEnums(pairs)
		for _, key := range []string{"origin_language", "target_language"} {
			v, _ := in[key].(string)
			if v == "" && key == "origin_language" {
				v = DetectLanguage
			}
			if !slices.ContainsFunc(enums[key], func(e EnumValue) bool { return e.Value == v }) {
				return nil, aimg.Invalid(key, "%s is not one of the offered languages", aimg.Quote(v))
			}
			out[key] = v
		}
	}
	return out, nil
}

func (s *Service) textSlot(in map[string]any, key string) (string, error) {
	v, ok := in[key].(string)
	if !ok {
		return "", aimg.Invalid(key, "must be a text")
	}
	if strings.TrimSpace(v) == "" {
		return "", aimg.Invalid(key, "is required")
	}
	if len(v) > s.cfg.MaxInputBytes {
		return "", aimg.Invalid(key, "is %d bytes; at most %d", len(v), s.cfg.MaxInputBytes)
	}
	if !storableText(v) {
		return "", aimg.Invalid(key, "is not valid UTF-8 text (NUL characters included)")
	}
	return v, nil
}

// wholeNumber reads a Number slot: a JSON number, a Go number, or a
// decimal string (form bodies carry only strings).
func wholeNumber(v any) (int64, error) {
	var f float64
	switch n := v.(type) {
	case json.Number:
		x, err := n.Float64()
		if err != nil {
			return 0, err
		}
		f = x
	case float64:
		f = n
	case int:
		return int64(n), nil
	case int64:
		return n, nil
	case string:
		var x float64
		if _, err := fmt.Sscan(strings.TrimSpace(n), &x); err != nil {
			return 0, err
		}
		f = x
	default:
		return 0, fmt.Errorf("not a number")
	}
	if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not a whole number")
	}
	return int64(f), nil
}

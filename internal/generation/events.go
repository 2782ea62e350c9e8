package generation

import (
	"context"
	"sync"
	"time"

	"aimg/internal/aimg"
)

// Live progress (getItemEvents): a stream watches up to MaxItems of the
// caller's Items and is told whenever their Job changes (queued, claimed,
// heartbeat progress, completed, failed, cancelled, released). The Events
// hub fans "these Jobs changed" out to the streams of this process; the
// service publishes every change it makes to it and to OnJobsChanged, which
// the app sends to the other replicas (PostgreSQL NOTIFY) and whose
// notifications it delivers back here (Deliver). A stream then reads its
// Items again and sends only what changed, so a duplicate or spurious
// notification costs a read, never a wrong event.

// EventLimits are the budgets of the item event streams.
type EventLimits struct {
	MaxItems      int           // Items one stream may watch
	MaxPerUser    int           // streams open at once per user
	MaxStreams    int           // streams open at once in this process
	KeepAlive     time.Duration // a comment line this often (proxies, dead clients)
	MaxDuration   time.Duration // a stream ends after this long (the client reconnects)
	RecheckOnIdle bool          // re-read every Item at each keep-alive (missed notifications)
}

// Events is the in-process fan-out of Job changes to item streams, with
// the stream budgets.
type Events struct {
	limits EventLimits

	mu      sync.Mutex
	byJob   map[string]map[*watcher]struct{}
	all     map[*watcher]struct{}
	perUser map[string]int
	closed  chan struct{} // closed by Close: every stream ends
	once    sync.Once
}

// NewEvents builds a hub with limits.
func NewEvents(l EventLimits) *Events {
	return &Events{limits: l, byJob: map[string]map[*watcher]struct{}{}, all: map[*watcher]struct{}{},
		perUser: map[string]int{}, closed: make(chan struct{})}
}

// watcher is one stream's subscription.
type watcher struct {
	user string
	jobs []string
	wake chan struct{} // capacity 1: "look at dirty"

	mu    sync.Mutex
	dirty map[string]bool
	any   bool // every Job may have changed
}

func (w *watcher) mark(jobID string) {
	w.mu.Lock()
	if jobID == "" {
		w.any = true
	} else {
		w.dirty[jobID] = true
	}
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// take returns the Jobs marked since the last take (all: every Job).
func (w *watcher) take() (jobs map[string]bool, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	jobs, all = w.dirty, w.any
	w.dirty, w.any = map[string]bool{}, false
	return jobs, all
}

// Publish tells the streams watching Items of jobIDs that they changed;
// no ids: every stream looks at all of its Items.
func (e *Events) Publish(jobIDs ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(jobIDs) == 0 {
		for w := range e.all {
			w.mark("")
		}
		return
	}
	for _, id := range jobIDs {
		for w := range e.byJob[id] {
			w.mark(id)
		}
	}
}

// Open streams: how many this process holds now (tests, metrics).
func (e *Events) Open() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.all)
}

// Close ends every stream (the server is shutting down: clients reconnect
// to another replica) and refuses new ones.
func (e *Events) Close() { e.once.Do(func() { close(e.closed) }) }

var errTooManyStreams = &aimg.Error{Code: aimg.CodeRateLimited, RetryAfter: 5 * time.Second,
	Message: "Too many event streams are open: close one, or poll getItemStatus"}

// subscribe registers a watcher for jobs within the budgets.
func (e *Events) subscribe(user string, jobs []string) (*watcher, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.closed:
		return nil, aimg.Errorf(aimg.CodeUnavailable, "The server is shutting down: reconnect")
	default:
	}
	if len(e.all) >= e.limits.MaxStreams || e.perUser[user] >= e.limits.MaxPerUser {
		return nil, errTooManyStreams
	}
	w := &watcher{user: user, jobs: jobs, wake: make(chan struct{}, 1), dirty: map[string]bool{}}
	e.all[w] = struct{}{}
	e.perUser[user]++
	for _, j := range jobs {
		if e.byJob[j] == nil {
			e.byJob[j] = map[*watcher]struct{}{}
		}
		e.byJob[j][w] = struct{}{}
	}
	return w, nil
}

func (e *Events) unsubscribe(w *watcher) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.all[w]; !ok {
		return
	}
	delete(e.all, w)
	if e.perUser[w.user]--; e.perUser[w.user] <= 0 {
		delete(e.perUser, w.user)
	}
	for _, j := range w.jobs {
		delete(e.byJob[j], w)
		if len(e.byJob[j]) == 0 {
			delete(e.byJob, j)
		}
	}
}

// ItemEvent is one event of a stream: the Item's status as getItemStatus
// shows it, with the failure reason.
type ItemEvent struct {
	Status
	// Reason is why a failed Item failed ("cancelled" when it was).
	Reason string `json:"reason,omitempty"`
}

// final tells whether the Item will not change any more.
func (ev ItemEvent) final() bool {
	return ev.Status.Status == aimg.StatusCompleted || ev.Status.Status == aimg.StatusFailed
}

// same tells whether a would show the client nothing new over b.
func same(a, b ItemEvent) bool {
	pos := func(p *int64) int64 {
		if p == nil {
			return -1
		}
		return *p
	}
	prog := func(p *float64) float64 {
		if p == nil {
			return -1
		}
		return *p
	}
	return a.Status.Status == b.Status.Status && a.URL == b.URL && a.Reason == b.Reason &&
		pos(a.QueuePosition) == pos(b.QueuePosition) && prog(a.Progress) == prog(b.Progress) &&
		pos(a.PreviewVersion) == pos(b.PreviewVersion) &&
		len(a.Frames) == len(b.Frames) && a.FolderID == b.FolderID
}

// StreamEnd is why a stream ended.
type StreamEnd string

const (
	EndFinal    StreamEnd = "final"    // every Item is completed or failed
	EndTimeout  StreamEnd = "timeout"  // MaxDuration: reconnect to go on
	EndShutdown StreamEnd = "shutdown" // the server is stopping: reconnect
	EndGone     StreamEnd = "gone"     // the Items were deleted
)

// ItemSink receives a stream's output; an error ends the stream (the
// client is gone).
type ItemSink interface {
	Event(ev ItemEvent) error
	KeepAlive() error
	End(why StreamEnd) error
}

// EventWriter writes Server-Sent Events (server.EventStream has it).
type EventWriter interface {
	Data(v any) error
	Named(event string, v any) error
	Comment(text string) error
}

// EventSink is the ItemSink of a Server-Sent Events stream, as
// getItemEvents documents it: "data: <ItemEvent>" per event, a
// ": keep-alive" comment, and "event: end" with {"reason"} last.
func EventSink(w EventWriter) ItemSink { return eventSink{w} }

type eventSink struct{ w EventWriter }

func (k eventSink) Event(ev ItemEvent) error { return k.w.Data(ev) }
func (k eventSink) KeepAlive() error         { return k.w.Comment("keep-alive") }
func (k eventSink) End(why StreamEnd) error {
	return k.w.Named("end", map[string]string{"reason": string(why)})
}

// ItemStream is an open getItemEvents stream: the Items are the caller's,
// the budget slot is taken. Run it, or Close it.
type ItemStream struct {
	s      *Service
	w      *watcher
	ids    []string
	jobOf  map[string]string
	last   map[string]ItemEvent
	closed sync.Once
}

// OpenItemStream checks ids (1..MaxItems of the caller's live Items; any
// other id is "not found", whoever owns it) and takes a stream slot
// (per user and in this process: else rate limited).
func (s *Service) OpenItemStream(ctx context.Context, c aimg.Caller, ids []string) (*ItemStream, error) {
	l := s.events.limits
	if len(ids) == 0 {
		return nil, aimg.Invalid("imageIDs", "is required: one or more Item ids, comma-separated")
	}
	seen := map[string]bool{}
	var distinct []string
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			distinct = append(distinct, id)
		}
	}
	if len(distinct) > l.MaxItems {
		return nil, aimg.Invalid("imageIDs", "at most %d Items per stream, got %d", l.MaxItems, len(distinct))
	}
	if c.User == nil {
		return nil, aimg.Errorf(aimg.CodeNotFound, "Item not found: %s", aimg.Quote(distinct[0]))
	}
	jobOf := map[string]string{}
	var jobs []string
	for _, id := range distinct {
		if len(id) > 200 {
			return nil, aimg.Errorf(aimg.CodeNotFound, "Item not found")
		}
		it, err := s.store.ItemByID(ctx, id)
		if aimg.IsNotFound(err) || err == nil && (it.UserID != c.User.ID || it.DeletedAt != nil) {
			return nil, aimg.Errorf(aimg.CodeNotFound, "Item not found: %s", aimg.Quote(id))
		}
		if err != nil {
			return nil, err
		}
		jobOf[id] = it.JobID
		if it.JobID != "" && !contains(jobs, it.JobID) {
			jobs = append(jobs, it.JobID)
		}
	}
	// Subscribed before the first read: no change after it is missed.
	w, err := s.events.subscribe(c.User.ID, jobs)
	if err != nil {
		return nil, err
	}
	return &ItemStream{s: s, w: w, ids: distinct, jobOf: jobOf, last: map[string]ItemEvent{}}, nil
}

// Close gives the stream's slot back; Run calls it too.
func (st *ItemStream) Close() { st.closed.Do(func() { st.s.events.unsubscribe(st.w) }) }

// Run sends every Item's state, then each change, with a keep-alive every
// KeepAlive, until every Item is final, MaxDuration passes, the server
// shuts down, ctx ends or the sink fails. Its timers are the wall clock's
// (they are about the connection, like write deadlines).
func (st *ItemStream) Run(ctx context.Context, sink ItemSink) error {
	defer st.Close()
	l := st.s.events.limits
	keep := time.NewTicker(l.KeepAlive)
	defer keep.Stop()
	limit := time.NewTimer(l.MaxDuration)
	defer limit.Stop()
	check := func(only map[string]bool) (done bool, err error) {
		final := 0
		for _, id := range st.ids {
			prev, seen := st.last[id]
			if seen && prev.final() {
				final++
				continue
			}
			if seen && only != nil && !only[st.jobOf[id]] {
				continue
			}
			ev, err := st.s.itemEvent(ctx, id)
			if aimg.IsNotFound(err) {
				return true, sink.End(EndGone)
			}
			if err != nil {
				return true, err
			}
			if !seen || !same(prev, ev) {
				if err := sink.Event(ev); err != nil {
					return true, err
				}
				st.last[id] = ev
			}
			if ev.final() {
				final++
			}
		}
		if final == len(st.ids) {
			return true, sink.End(EndFinal)
		}
		return false, nil
	}
	if done, err := check(nil); done || err != nil {
		return err
	}
	for {
		var only map[string]bool
		select {
		case <-ctx.Done():
			return nil
		case <-st.s.events.closed:
			return sink.End(EndShutdown)
		case <-limit.C:
			return sink.End(EndTimeout)
		case <-keep.C:
			if err := sink.KeepAlive(); err != nil {
				return err
			}
			if !l.RecheckOnIdle {
				continue
			}
		case <-st.w.wake:
			jobs, all := st.w.take()
			if !all {
				only = jobs
			}
		}
		if done, err := check(only); done || err != nil {
			return err
		}
	}
}

// itemEvent reads one Item's state as a stream shows it.
func (s *Service) itemEvent(ctx context.Context, id string) (ItemEvent, error) {
	it, err := s.store.ItemByID(ctx, id)
	if err != nil {
		return ItemEvent{}, err
	}
	if it.DeletedAt != nil {
		return ItemEvent{}, aimg.Errorf(aimg.CodeNotFound, "Item not found")
	}
	st, err := s.statusOf(ctx, it)
	if err != nil {
		return ItemEvent{}, err
	}
	ev := ItemEvent{Status: *st}
	if it.Status == aimg.StatusFailed {
		ev.Reason = it.Error
	}
	return ev, nil
}

// Deliver hands this process's streams the changes another replica
// published (the app's listener); no ids: anything may have changed.
func (s *Service) Deliver(jobIDs []string) { s.events.Publish(jobIDs...) }

// Events is the hub of this service's item streams.
func (s *Service) Events() *Events { return s.events }

// changed publishes that the Items of jobIDs changed (none: any may
// have), here and, through OnJobsChanged, to the other replicas.
func (s *Service) changed(jobIDs ...string) {
	s.events.Publish(jobIDs...)
	if s.OnJobsChanged != nil {
		s.OnJobsChanged(jobIDs)
	}
}

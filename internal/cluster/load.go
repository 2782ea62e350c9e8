package cluster

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"
)

// Password is the password of every user the harness signs up.
const Password = "Cluster-Passw0rd!"

// User is a signed-up user and its session.
type User struct {
	Email, UserID, SessionID string
}

// NewUser signs up a user with a fresh email through a random replica.
func (c *Cluster) NewUser(ctx context.Context) (*User, error) {
	email := "cluster-" + uuid.NewString()[:12] + "@example.com"
	env, err := c.Do(ctx, Req{Path: "/api/createUser", Body: map[string]any{"email": email, "password": Password}})
	if err != nil {
		return nil, err
	}
	var u struct {
		SessionID, UserID string
		IsAuthenticated   bool
	}
	if err := env.Decode(&u); err != nil {
		return nil, fmt.Errorf("createUser %s: %w", email, err)
	}
	if !u.IsAuthenticated || u.SessionID == "" {
		return nil, fmt.Errorf("createUser %s: not signed in: %s", email, env.Raw)
	}
	return &User{Email: email, UserID: u.UserID, SessionID: u.SessionID}, nil
}

// Generation is one generateImage call of a load run and what became of it.
type Generation struct {
	User           *User
	IdempotencyKey string
	Body           map[string]any // the request body, to send again
	ImageID        string
	Final          Event // the Item's last event (status completed, its url)
}

// GenerateRequest sends generateImage with its Idempotency-Key through
// random replicas (again on another one after a cut connection) and
// returns the Item's id.
func (c *Cluster) GenerateRequest(ctx context.Context, session, key string, body map[string]any) (string, error) {
	env, err := c.Do(ctx, Req{Path: "/api/generateImage", Body: body, Session: session,
		Header: map[string]string{"Idempotency-Key": key}})
	if err != nil {
		return "", err
	}
	var st struct{ ImageID string }
	if err := env.Decode(&st); err != nil {
		return "", err
	}
	return st.ImageID, nil
}

// LoadOptions shape a load run.
type LoadOptions struct {
	Users int // default 50 (or the Users given)
	// Existing users to generate for instead of new ones.
	Existing []*User
	Items    int // generations in all (default 5,000)
	// Window is how many Items one user has generating at once (default
	// 4: the tier-0 concurrency of sketch); the next window starts when
	// the user's event stream says the last one is final.
	Window int
	Model  string // default sketch (128x128, 1 step)
	// Done, when set, is called with the number of Items completed so far
	// (from many goroutines).
	Done func(n int64)
	// WindowTimeout bounds the wait for one window's Items (default 5 min).
	WindowTimeout time.Duration
}

// LoadResult is what a load run did.
type LoadResult struct {
	Users       []*User
	Generations []*Generation
	Duration    time.Duration // from the first generateImage to the last Item final
	Streams     int           // event streams opened (more than the windows: reconnects)
}

// Generate runs a load: users in parallel, each generating its share of
// Items a window at once through random replicas and following each
// window on one event stream of a random replica. It fails on the first
// Item that does not end completed.
func (c *Cluster) Generate(ctx context.Context, o LoadOptions) (*LoadResult, error) {
	if o.Items == 0 {
		o.Items = 5000
	}
	if o.Window == 0 {
		o.Window = 4
	}
	if o.Model == "" {
		o.Model = "sketch"
	}
	if o.WindowTimeout == 0 {
		o.WindowTimeout = 5 * time.Minute
	}
	res := &LoadResult{Users: o.Existing}
	if len(res.Users) == 0 {
		if o.Users == 0 {
			o.Users = 50
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(8)
		users := make([]*User, o.Users)
		for i := range users {
			g.Go(func() (err error) {
				users[i], err = c.NewUser(gctx)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		res.Users = users
	}
	var (
		mu      sync.Mutex
		done    atomic.Int64
		streams atomic.Int64
	)
	start := time.Now()
	g, gctx := errgroup.WithContext(ctx)
	for ui, u := range res.Users {
		n := o.Items / len(res.Users)
		if ui < o.Items%len(res.Users) {
			n++
		}
		g.Go(func() error {
			for first := 0; first < n; first += o.Window {
				var window []*Generation
				for j := first; j < min(first+o.Window, n); j++ {
					gen := &Generation{User: u, IdempotencyKey: uuid.NewString(), Body: map[string]any{
						"prompt": fmt.Sprintf("cluster item %d of user %d", j, ui), "modelName": o.Model,
						"width": 128, "height": 128, "steps": 1,
					}}
					id, err := c.GenerateRequest(gctx, u.SessionID, gen.IdempotencyKey, gen.Body)
					if err != nil {
						return fmt.Errorf("user %s, generation %d: %w", u.Email, j, err)
					}
					gen.ImageID = id
					window = append(window, gen)
				}
				ids := make([]string, len(window))
				for k, gen := range window {
					ids[k] = gen.ImageID
				}
				wctx, cancel := context.WithTimeout(gctx, o.WindowTimeout)
				last, nstreams, err := c.WaitItems(wctx, u.SessionID, ids)
				cancel()
				streams.Add(int64(nstreams))
				if err != nil {
					return fmt.Errorf("user %s: wait for %v: %w (last events %v)", u.Email, ids, err, last)
				}
				for _, gen := range window {
					gen.Final = last[gen.ImageID]
					if gen.Final.Status != "completed" {
						return fmt.Errorf("user %s: Item %s ended %q (reason %q), not completed", u.Email, gen.ImageID, gen.Final.Status, gen.Final.Reason)
					}
				}
				mu.Lock()
				res.Generations = append(res.Generations, window...)
				mu.Unlock()
				if d := done.Add(int64(len(window))); o.Done != nil {
					o.Done(d)
				}
			}
			return nil
		})
	}
	err := g.Wait()
	res.Duration = time.Since(start)
	res.Streams = int(streams.Load())
	return res, err
}

// Creations reads a user's whole getMyCreations listing from replica i,
// page by page (1,000 Items a page), and returns each page's raw payload.
func (c *Cluster) Creations(ctx context.Context, i int, session string) ([][]byte, error) {
	var pages [][]byte
	index := ""
	for {
		path := "/api/getMyCreations?limit=1000"
		if index != "" {
			path += "&paginationIndex=" + index
		}
		env, err := c.DoOn(ctx, i, Req{Method: http.MethodGet, Path: path, Session: session})
		if err != nil {
			return nil, err
		}
		if err := env.Err(); err != nil {
			return nil, err
		}
		pages = append(pages, env.Payload)
		var meta struct {
			NextPaginationIndex *string `json:"nextPaginationIndex"`
			Count               int     `json:"count"`
		}
		if err := jsonUnmarshal(env.Metadata, &meta); err != nil {
			return nil, err
		}
		if meta.NextPaginationIndex == nil || meta.Count == 0 {
			return pages, nil
		}
		index = *meta.NextPaginationIndex
		if len(pages) > 10000 {
			return nil, fmt.Errorf("getMyCreations: more than 10,000 pages")
		}
	}
}

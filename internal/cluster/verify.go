package cluster

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// CheckOptions say what CheckGenerations tolerates.
type CheckOptions struct {
	// MaxAttempts is the most attempts a Job may have taken (1 in a run
	// without faults: every Job claimed once).
	MaxAttempts int
}

// Problems collects what a check found wrong, for t.Error.
type Problems []string

func (p *Problems) add(format string, args ...any) {
	if len(*p) < 50 { // enough to see the pattern; the rest is counted
		*p = append(*p, fmt.Sprintf(format, args...))
	} else if len(*p) == 50 {
		*p = append(*p, "(more problems not shown)")
	}
}

// CheckGenerations proves that nothing was lost or done twice: the
// database holds exactly the Items of gens for their users (a retried
// generateImage made no second Item), each completed once (its one Job
// completed within o.MaxAttempts, one file per Item, no other file of
// these users except outputs a crash left pending for the orphan sweep),
// each file's object in S3, and its bytes, downloaded through a random
// replica, of the recorded size and SHA-256.
func (c *Cluster) CheckGenerations(ctx context.Context, gens []*Generation, o CheckOptions) (Problems, error) {
	var p Problems
	if o.MaxAttempts == 0 {
		o.MaxAttempts = 1
	}
	users := map[string]bool{}
	want := map[string]*Generation{}
	for _, g := range gens {
		users[g.User.UserID] = true
		if prev, dup := want[g.ImageID]; dup {
			p.add("Item %s was answered to two requests (keys %s and %s)", g.ImageID, prev.IdempotencyKey, g.IdempotencyKey)
		}
		want[g.ImageID] = g
	}
	userIDs := make([]string, 0, len(users))
	for id := range users {
		userIDs = append(userIDs, id)
	}
	inUsers := "('" + strings.Join(userIDs, "','") + "')" // uuids from the server: no quoting needed

	type item struct{ status, jobID, fileID, userID string }
	items := map[string]item{}
	rows, err := c.db.QueryContext(ctx, `SELECT id, status, job_id, file_id, user_id FROM items WHERE user_id IN `+inUsers)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var it item
		if err := rows.Scan(&id, &it.status, &it.jobID, &it.fileID, &it.userID); err != nil {
			rows.Close()
			return nil, err
		}
		items[id] = it
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	fileOf := map[string]string{} // file id -> Item id
	for id, it := range items {
		if want[id] == nil {
			p.add("Item %s (user %s, status %s) is in the database but no request got it: a duplicate", id, it.userID, it.status)
			continue
		}
		if it.status != "completed" {
			p.add("Item %s is %s, not completed", id, it.status)
		}
		if it.fileID == "" {
			p.add("Item %s has no file", id)
		} else if other, dup := fileOf[it.fileID]; dup {
			p.add("Items %s and %s share file %s", id, other, it.fileID)
		}
		fileOf[it.fileID] = id
	}
	for id := range want {
		if _, ok := items[id]; !ok {
			p.add("Item %s was answered but is not in the database: lost", id)
		}
	}

	type job struct {
		status        string
		attempts, max int
		itemIDs       []string
	}
	jobs := map[string]job{}
	rows, err = c.db.QueryContext(ctx, `SELECT id, status, attempts, max_attempts, item_ids FROM jobs WHERE user_id IN `+inUsers)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id, ids string
		var j job
		if err := rows.Scan(&id, &j.status, &j.attempts, &j.max, &ids); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(ids), &j.itemIDs); err != nil {
			rows.Close()
			return nil, fmt.Errorf("job %s item_ids %q: %w", id, ids, err)
		}
		jobs[id] = j
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	jobOf := map[string]string{}
	for id, j := range jobs {
		if j.status != "completed" {
			p.add("Job %s is %s, not completed", id, j.status)
		}
		if j.attempts < 1 || j.attempts > o.MaxAttempts {
			p.add("Job %s took %d attempts, want 1..%d", id, j.attempts, o.MaxAttempts)
		}
		for _, it := range j.itemIDs {
			if other, dup := jobOf[it]; dup {
				p.add("Item %s is in Jobs %s and %s", it, other, id)
			}
			jobOf[it] = id
			if items[it].jobID != id {
				p.add("Item %s names Job %q, but Job %s lists it", it, items[it].jobID, id)
			}
		}
	}
	for id := range items {
		if jobOf[id] == "" {
			p.add("Item %s is in no Job", id)
		}
	}

	type file struct {
		checksum, blobKey string
		size              int64
	}
	files := map[string]file{}
	rows, err = c.db.QueryContext(ctx, `SELECT id, checksum, size, blob_key FROM files WHERE owner_id IN `+inUsers)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		var f file
		if err := rows.Scan(&id, &f.checksum, &f.size, &f.blobKey); err != nil {
			rows.Close()
			return nil, err
		}
		files[id] = f
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	pending := map[string]bool{}
	rows, err = c.db.QueryContext(ctx, `SELECT file_id FROM pending_outputs`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		pending[id] = true
	}
	rows.Close()
	for id := range files {
		if fileOf[id] == "" && !pending[id] {
			p.add("file %s belongs to no Item and is not a pending output: a second completion?", id)
		}
	}
	for id, it := range fileOf {
		if _, ok := files[id]; !ok {
			p.add("Item %s names file %s, which is not in the files table", it, id)
		}
	}

	keys, err := c.BlobKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("list S3: %w", err)
	}
	inS3 := map[string]bool{}
	for _, k := range keys {
		inS3[k] = true
	}
	for id, f := range files {
		if !inS3[f.blobKey] {
			p.add("file %s (Item %s): object %s is not in S3", id, fileOf[id], f.blobKey)
		}
	}

	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for id, gen := range want {
		it, ok := items[id]
		f, fok := files[it.fileID]
		if !ok || !fok {
			continue
		}
		g.Go(func() error {
			if gen.Final.URL == "" {
				mu.Lock()
				p.add("Item %s: its final event has no url", id)
				mu.Unlock()
				return nil
			}
			data, err := c.Download(gctx, gen.Final.URL)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			if hex.EncodeToString(sum[:]) != f.checksum || int64(len(data)) != f.size {
				mu.Lock()
				p.add("Item %s: downloaded %d bytes with SHA-256 %x, recorded %d bytes, %s", id, len(data), sum, f.size, f.checksum)
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return p, err
	}
	return p, nil
}

// CheckListings reads each user's getMyCreations through every running
// replica: the listings must be byte for byte the same, and list exactly
// the user's Items of gens.
func (c *Cluster) CheckListings(ctx context.Context, gens []*Generation) (Problems, error) {
	var p Problems
	byUser := map[*User][]string{}
	for _, g := range gens {
		byUser[g.User] = append(byUser[g.User], g.ImageID)
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for u, ids := range byUser {
		g.Go(func() error {
			var first [][]byte
			for i, r := range c.Replicas {
				if !r.Running() {
					continue
				}
				pages, err := c.Creations(gctx, i, u.SessionID)
				if err != nil {
					return err
				}
				if first == nil {
					first = pages
					var listed []string
					for _, page := range pages {
						var images []struct{ ID string }
						if err := json.Unmarshal(page, &images); err != nil {
							return err
						}
						for _, im := range images {
							listed = append(listed, im.ID)
						}
					}
					sort.Strings(listed)
					want := slices.Clone(ids)
					sort.Strings(want)
					if !slices.Equal(listed, want) {
						mu.Lock()
						p.add("user %s: getMyCreations lists %d Items, generated %d (or other ids)", u.Email, len(listed), len(want))
						mu.Unlock()
					}
					continue
				}
				if !slices.EqualFunc(pages, first, bytes.Equal) {
					mu.Lock()
					p.add("user %s: getMyCreations through %s differs from the first replica's", u.Email, r.Name)
					mu.Unlock()
				}
			}
			return nil
		})
	}
	return p, g.Wait()
}

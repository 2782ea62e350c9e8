package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/google/uuid"

	"aimg/internal/account"
	"aimg/internal/aimg"
	"aimg/internal/config"
)

const devUsage = `usage: aimg dev seed --items N [--public] [--user-email E] [--password P] [--database-url URL] [--data-dir DIR]

  seed   create (or reuse) a user and add N completed Items to it quickly,
         for benchmarks and demos; prints the user, its password and a
         signed-in session id. --public puts them, approved and public,
         in a new Public Folder (the public feeds' benchmark).
`

// seedPrompts gives the seeded Items some variety.
var seedPrompts = []string{
	"a lighthouse at dusk, oil painting", "a red fox in fresh snow", "isometric city block, pastel colours",
	"portrait of an astronaut, studio light", "a bowl of ramen, top view", "misty pine forest at dawn",
}

// seed is "aimg dev seed".
func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "seed" {
		fmt.Fprint(stderr, devUsage)
		return errors.New("usage: aimg dev seed --items N")
	}
	fs := flag.NewFlagSet("dev seed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("items", 1000, "number of completed Items to add")
	email := fs.String("user-email", "seed@example.com", "email of the user that owns the Items (created when missing)")
	password := fs.String("password", "", "password of a new user (default: generated and printed)")
	perTx := fs.Int("batch", 10000, "Items per transaction")
	dbURL := fs.String("database-url", "", "database URL (AIMG_DATABASE_URL)")
	dataDir := fs.String("data-dir", "", "data directory (AIMG_DATA_DIR)")
	public := fs.Bool("public", false, "publish the Items: approved, public, in a new Public Folder")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *n < 0 || *perTx < 1 {
		return errors.New("--items must be >= 0 and --batch >= 1")
	}
	cfg, err := config.FromEnv(withOverrides(getenv, map[string]string{"AIMG_DATABASE_URL": *dbURL, "AIMG_DATA_DIR": *dataDir}))
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()

	now := time.Now().UTC()
	domain := cfg.Service.Domains[0].ID
	addr := strings.ToLower(strings.TrimSpace(*email))
	user, err := st.UserByEmail(ctx, domain, addr)
	switch {
	case aimg.IsNotFound(err):
		pw := *password
		if pw == "" {
			if pw, err = account.GenerateStrongPassword(); err != nil {
				return err
			}
		}
		if err := account.CheckPasswordRule(pw); err != nil {
			return fmt.Errorf("--password: %w", err)
		}
		hash, err := account.HashPassword(pw)
		if err != nil {
			return err
		}
		id := uuid.NewString()
		user = &aimg.User{ID: id, Domain: domain, Email: addr, Username: "seed-" + id[:8], PasswordHash: hash,
			IsAtLeast18Confirmed: true, Roles: []string{aimg.RoleUser}, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateUser(ctx, user); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "created user %s (%s), password %s\n", user.ID, addr, pw)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stdout, "using user %s (%s)\n", user.ID, addr)
	}
	sess := &aimg.Session{ID: uuid.NewString(), UserID: user.ID, Authenticated: true, CreatedAt: now, LastSeenAt: now}
	if err := st.CreateSession(ctx, sess, now.Add(cfg.Service.Accounts.SessionTTL)); err != nil {
		return err
	}

	folderID := ""
	if *public {
		f := &aimg.Folder{ID: "p-" + uuid.NewString(), UserID: user.ID, Name: "Seeded gallery", CreatedAt: now}
		if err := st.CreateFolder(ctx, f); err != nil {
			return err
		}
		folderID = f.ID
		fmt.Fprintf(stdout, "created Public Folder %s\n", f.ID)
	}

	// The Items span the last N milliseconds, oldest first; the store moves
	// any that collide with the user's existing Items to the next free one.
	start := now.Add(-time.Duration(*n) * time.Millisecond)
	began := time.Now()
	items := make([]*aimg.Item, 0, min(*perTx, *n))
	batchID := ""
	for i := range *n {
		if i%4 == 0 {
			batchID = uuid.NewString()
		}
		it := seedItem(user.ID, batchID, i, start.Add(time.Duration(i)*time.Millisecond))
		if folderID != "" {
			it.IsPublic, it.PublicApprovalStatus, it.FolderID, it.FolderAddedAt = true, aimg.ApprovalApproved, folderID, &it.CreatedAt
		}
		items = append(items, it)
		if len(items) == cap(items) || i == *n-1 {
			if err := st.InsertItems(ctx, items); err != nil {
				return fmt.Errorf("after %d Items: %w", i+1-len(items), err)
			}
			items = items[:0]
			fmt.Fprintf(stderr, "\r%d/%d Items (%.0f/s)", i+1, *n, float64(i+1)/time.Since(began).Seconds())
		}
	}
	if *n > 0 {
		fmt.Fprintln(stderr)
	}
	total, err := st.CountItems(ctx, user.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "added %d Items in %s; the user has %d\nsession %s\n", *n,
		time.Since(began).Round(time.Millisecond), total, sess.ID)
	return nil
}

// seedItem is the i-th seeded Item: a completed image (every tenth a video).
func seedItem(userID, batchID string, i int, created time.Time) *aimg.Item {
	done := created
	it := &aimg.Item{
		ID: uuid.NewString(), UserID: userID, BatchID: batchID, MType: aimg.MTypeImage, MediaType: "StaticImage",
		Status: aimg.StatusCompleted, ModelID: "f222", Prompt: seedPrompts[i%len(seedPrompts)],
		NegPrompt: "blurry, low quality", GeneratorVersion: "1",
		Params: aimg.GenerationParams{Steps: 20, Seed: int64(i), Sampler: "DPM++ 2M Karras", CFGScale: 7,
			Width: 512, Height: 512},
		FileID: uuid.NewString(), CreatedAt: created, UpdatedAt: created, CompletedAt: &done,
	}
	if i%10 == 9 {
		it.MType, it.MediaType, it.ModelID = aimg.MTypeVideo, "Video", "model3"
		it.Params.Frames = 16
	}
	return it
}

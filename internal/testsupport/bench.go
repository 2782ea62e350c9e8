package testsupport

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"aimg/internal/aimg"
	"aimg/internal/store"
)

// ProcessCPU is the user and system CPU time of the process so far: a
// benchmark's cpu-us/op, which a shared machine blurs less than wall time.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchUser finds the seeded user AIMG_BENCH_EMAIL (default
// seed@example.com) of a prepared database, which must have at least
// atLeast Items, or creates it with n Items made by newItem (the i-th is
// created at at, one millisecond after the one before), 10,000 per insert.
func BenchUser(b testing.TB, st *store.Store, n, atLeast int, newItem func(userID string, i int, at time.Time) *aimg.Item) string {
	b.Helper()
	ctx := context.Background()
	email := os.Getenv("AIMG_BENCH_EMAIL")
	if email == "" {
		email = "seed@example.com"
	}
	if u, err := st.UserByEmail(ctx, "localhost", email); err == nil {
		if have, err := st.CountItems(ctx, u.ID); err != nil || have < int64(atLeast) {
			b.Fatalf("%s has %d Items (%v); seed it with aimg dev seed", email, have, err)
		}
		return u.ID
	}
	id := uuid.NewString()
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := st.CreateUser(ctx, &aimg.User{ID: id, Domain: "localhost", Email: email, Username: "bench",
		CreatedAt: t0, UpdatedAt: t0}); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	for done := 0; done < n; {
		chunk := make([]*aimg.Item, 0, min(10000, n-done))
		for range cap(chunk) {
			chunk = append(chunk, newItem(id, done, t0.Add(time.Duration(done)*time.Millisecond)))
			done++
		}
		if err := st.InsertItems(ctx, chunk); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("seeded %d Items in %v", n, time.Since(start).Round(time.Millisecond))
	return id
}

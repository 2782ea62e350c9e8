package testsupport

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
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

// ProcessTreeCPU is the user and system CPU time that process pid and its
// running children have used so far, to the clock tick, and false where
// /proc cannot tell. A benchmark takes it of a local PostgreSQL server's
// postmaster (PostmasterPID) before and after, to count what the server
// spent on its behalf; children that start or end in between are counted
// from or to when they are seen.
func ProcessTreeCPU(pid int) (time.Duration, bool) {
	if pid <= 0 {
		return 0, false
	}
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		return 0, false
	}
	self := strconv.Itoa(pid)
	var ticks int64
	seen := false
	for _, d := range dirs {
		if d.Name()[0] < '0' || d.Name()[0] > '9' {
			continue
		}
		st, ok := readProcStat(d.Name())
		if !ok || (d.Name() != self && st.ppid != self) {
			continue
		}
		ticks += st.ticks
		seen = true
	}
	const clockTicksPerSecond = 100 // USER_HZ on Linux
	return time.Duration(ticks) * time.Second / clockTicksPerSecond, seen
}

// PostmasterPID is the process id of the PostgreSQL server that db talks
// to, when it runs on this machine (the parent of the connection's
// backend), or 0.
func PostmasterPID(db *sql.DB) int {
	var backend int
	if err := db.QueryRow(`SELECT pg_backend_pid()`).Scan(&backend); err != nil {
		return 0
	}
	st, ok := readProcStat(strconv.Itoa(backend))
	if !ok || st.comm != "postgres" {
		return 0 // a server elsewhere: the pid is not one of this machine's
	}
	ppid, _ := strconv.Atoi(st.ppid)
	return ppid
}

// procStat is what the benchmarks read of /proc/<pid>/stat.
type procStat struct {
	comm, ppid string
	ticks      int64 // user + system CPU, in clock ticks
}

// readProcStat reads /proc/<pid>/stat; false when the process has ended or
// the line cannot be read. The line is "pid (comm) state ppid ...": comm
// may hold spaces, so it is split after its closing parenthesis; ppid,
// utime and stime are fields 4, 14 and 15, the 2nd, 12th and 13th after it.
func readProcStat(pid string) (procStat, bool) {
	stat, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procStat{}, false
	}
	open, end := bytes.IndexByte(stat, '('), bytes.LastIndexByte(stat, ')')
	if open < 0 || end < open {
		return procStat{}, false
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 13 {
		return procStat{}, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{comm: string(stat[open+1 : end]), ppid: fields[1], ticks: utime + stime}, true
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

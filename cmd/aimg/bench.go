package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"aimg/internal/loadgen"
)

const benchUsage = `usage: aimg bench --server URL[,URL...] --key KEY [flags]

Drives AIMG servers with simulated workers (the worker protocol, render
time zero, a 1x1 PNG per Item) and clients (a guest session each:
generateImage, then getItemStatus until the Item is completed), then prints
Items/s and p50/p99 of enqueue, claim-to-complete and status.
(docs/performance.md "Control plane per Item")

flags:
  --server URL[,URL...]  the servers (replicas); requests are spread over them (required)
  --key KEY              a worker key from createWorkerKey (env AIMG_BENCH_KEY; required with --workers > 0)
  --workers N            simulated workers (default 4)
  --clients M            simulated clients (default 16)
  --duration D           how long to run (default 10s)
  --model ID             the Model to queue (default sketch: the servers' renderer is not used)
  --poll D               pause between two status reads of a client (default 20ms)
  --server-pid PID[,PID] server processes on this machine whose CPU time to report per Item
`

func bench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {}
	servers := fs.String("server", "", "")
	key := fs.String("key", "", "")
	workers := fs.Int("workers", 4, "")
	clients := fs.Int("clients", 16, "")
	duration := fs.Duration("duration", 10*time.Second, "")
	model := fs.String("model", "sketch", "")
	poll := fs.Duration("poll", 20*time.Millisecond, "")
	pids := fs.String("server-pid", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, benchUsage)
			return nil
		}
		fmt.Fprint(stderr, benchUsage)
		return fmt.Errorf("bench: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("bench takes no arguments, got %q (flags: aimg bench --help)", fs.Arg(0))
	}
	cfg := loadgen.Config{
		WorkerKey: *key, Workers: *workers, Clients: *clients, Duration: *duration, Model: *model, Poll: *poll,
	}
	if cfg.WorkerKey == "" {
		cfg.WorkerKey = getenv("AIMG_BENCH_KEY")
	}
	for _, s := range strings.Split(*servers, ",") {
		if s = strings.TrimRight(strings.TrimSpace(s), "/"); s != "" {
			cfg.Servers = append(cfg.Servers, s)
		}
	}
	for _, p := range strings.Split(*pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid < 1 {
			return fmt.Errorf("bench: --server-pid %q is not a process id", p)
		}
		cfg.ServerPIDs = append(cfg.ServerPIDs, pid)
	}
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	fmt.Fprintf(stdout, "servers         %s\nworkers         %d\nclients         %d\n", strings.Join(cfg.Servers, " "), cfg.Workers, cfg.Clients)
	return res.Write(stdout)
}

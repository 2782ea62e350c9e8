package app

import (
	"context"
	"time"
)

// TakeTurn is what each of the app's sweeps asks before a run.
func (a *App) TakeTurn(ctx context.Context, name string, every time.Duration) bool {
	turn := a.turn()
	return turn == nil || turn(ctx, name, every)
}

// SetWallClock replaces the clock of the sweeps' turns.
func (a *App) SetWallClock(now func() time.Time) { a.wall = now }

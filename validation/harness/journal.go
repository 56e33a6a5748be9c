package harness

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Journal records everything a backend creates, as it creates it, with the
// action that removes it. Unwind removes it all in reverse order. It is the
// single place cleanup happens, so a failure half way through Setup, a
// cancelled context and a normal Teardown all clean up the same way.
type Journal struct {
	mu      sync.Mutex
	entries []journalEntry
	// StepTimeout bounds each undo action; 0 means 15 s.
	StepTimeout time.Duration
	// Logf, if set, gets one line per undone entry with its duration.
	Logf func(format string, args ...any)
}

type journalEntry struct {
	what string
	undo func(ctx context.Context) error
}

// Add records that what was created and how to remove it.
func (j *Journal) Add(what string, undo func(ctx context.Context) error) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, journalEntry{what: what, undo: undo})
}

// Entries returns what is currently recorded, oldest first.
func (j *Journal) Entries() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := make([]string, len(j.entries))
	for i, e := range j.entries {
		out[i] = e.what
	}
	return out
}

// Len returns the number of recorded entries.
func (j *Journal) Len() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.entries)
}

// Unwind undoes every entry, newest first, and empties the journal. It goes
// on after a failed step and returns all failures joined. Cleanup must
// happen even when the caller's context is already cancelled (Ctrl-C), so
// each step runs under its own StepTimeout, detached from ctx's
// cancellation but keeping its values.
func (j *Journal) Unwind(ctx context.Context) error {
	j.mu.Lock()
	entries := j.entries
	j.entries = nil
	j.mu.Unlock()

	step := j.StepTimeout
	if step <= 0 {
		step = 15 * time.Second
	}
	base := context.WithoutCancel(ctx)
	var errs []error
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		sctx, cancel := context.WithTimeout(base, step)
		t0 := time.Now()
		err := e.undo(sctx)
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("remove %s: %w", e.what, err))
		}
		if j.Logf != nil {
			j.Logf("removed %s (%v, err %v)", e.what, time.Since(t0).Round(time.Millisecond), err)
		}
	}
	return errors.Join(errs...)
}

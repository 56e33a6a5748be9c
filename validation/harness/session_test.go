package harness

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeBackend records calls and fails where told.
type fakeBackend struct {
	setupErr, runErr  error
	calls             []string
	teardownCtxErr    error
	cancelDuringSetup context.CancelFunc
}

func (f *fakeBackend) Name() string { return "fake" }

func (f *fakeBackend) Setup(ctx context.Context, _ *Plan) error {
	f.calls = append(f.calls, "setup")
	if f.cancelDuringSetup != nil {
		f.cancelDuringSetup()
		return ctx.Err()
	}
	return f.setupErr
}

func (f *fakeBackend) Run(context.Context, *Experiment) (*Measurement, error) {
	f.calls = append(f.calls, "run")
	return &Measurement{}, f.runErr
}

func (f *fakeBackend) Teardown(ctx context.Context) error {
	f.calls = append(f.calls, "teardown")
	f.teardownCtxErr = ctx.Err()
	return nil
}

func TestSessionAlwaysTearsDown(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name      string
		backend   *fakeBackend
		cancel    bool
		wantCalls string
		wantErr   string
	}{
		{"ok", &fakeBackend{}, false, "setup,run,teardown", ""},
		{"setup fails", &fakeBackend{setupErr: boom}, false, "setup,teardown", "fake backend: setup: boom"},
		{"run fails", &fakeBackend{runErr: boom}, false, "setup,run,teardown", `fake backend: run "e": boom`},
		{"cancelled (Ctrl-C)", &fakeBackend{}, true, "setup,teardown", "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancel {
				tt.backend.cancelDuringSetup = cancel
			}
			_, err := Session(ctx, tt.backend, &Plan{}, &Experiment{Name: "e"}, time.Second)
			if got := strings.Join(tt.backend.calls, ","); got != tt.wantCalls {
				t.Errorf("calls %s, want %s", got, tt.wantCalls)
			}
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if tt.backend.teardownCtxErr != nil {
				t.Errorf("Teardown got a dead context: %v", tt.backend.teardownCtxErr)
			}
		})
	}
}

// blockingBackend's Setup waits for its context to end.
type blockingBackend struct {
	fakeBackend
	started chan struct{}
}

func (b *blockingBackend) Setup(ctx context.Context, _ *Plan) error {
	b.calls = append(b.calls, "setup")
	close(b.started)
	<-ctx.Done()
	return ctx.Err()
}

// TestSessionCtrlC delivers a real SIGINT to the process while Setup
// runs: Session must cancel Setup and still tear down.
func TestSessionCtrlC(t *testing.T) {
	b := &blockingBackend{started: make(chan struct{})}
	go func() {
		<-b.started
		_ = syscall.Kill(os.Getpid(), syscall.SIGINT)
	}()
	_, err := Session(context.Background(), b, &Plan{}, &Experiment{Name: "e"}, time.Second)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
	if got := strings.Join(b.calls, ","); got != "setup,teardown" {
		t.Errorf("calls %s, want setup,teardown", got)
	}
}

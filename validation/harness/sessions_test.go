package harness

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestSessionRunsTearsDownAfterEveryOutcome(t *testing.T) {
	boom := errors.New("boom")
	exps := []*Experiment{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	tests := []struct {
		name      string
		backend   *fakeBackend
		eachErrAt int // -1 = never
		wantCalls string
		wantRuns  int
		wantErr   string
	}{
		{"all runs", &fakeBackend{}, -1, "setup,run,run,run,teardown", 3, ""},
		{"setup fails", &fakeBackend{setupErr: boom}, -1, "setup,teardown", 0, "fake backend: setup: boom"},
		{"run fails", &fakeBackend{runErr: boom}, -1, "setup,run,teardown", 0, `fake backend: run "a": boom`},
		{"callback stops", &fakeBackend{}, 1, "setup,run,run,teardown", 2, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var seen []int
			ms, err := SessionRuns(context.Background(), tt.backend, &Plan{}, exps, time.Second, func(i int, m *Measurement) error {
				seen = append(seen, i)
				if i == tt.eachErrAt {
					return errors.New("stop")
				}
				return nil
			})
			if got := strings.Join(tt.backend.calls, ","); got != tt.wantCalls {
				t.Errorf("calls %s, want %s", got, tt.wantCalls)
			}
			if len(ms) != tt.wantRuns || len(seen) != tt.wantRuns {
				t.Errorf("%d measurements, %d callbacks, want %d", len(ms), len(seen), tt.wantRuns)
			}
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
			if tt.backend.teardownCtxErr != nil {
				t.Errorf("teardown got a cancelled context: %v", tt.backend.teardownCtxErr)
			}
		})
	}
}

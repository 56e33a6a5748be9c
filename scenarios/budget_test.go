package scenarios

import (
	"context"
	"errors"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
)

// estimateVsRun runs every mode of sc for dur and returns, per mode, the
// estimated and the handled events.
func estimateVsRun(t *testing.T, sc *Scenario, dur sim.Time) (est, got []float64) {
	t.Helper()
	prof, err := models.LoadProfile(sc.Profile)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range sc.Modes {
		top, err := sc.BuildTopology(mode)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := sc.compile(top, prof, mode, sc.Seed, dur, sc.Warmup.T())
		if err != nil {
			t.Fatal(err)
		}
		e, err := sc.admit(&cfg, 1<<62)
		if err != nil {
			t.Fatal(err)
		}
		m, err := models.NewMesh(cfg)
		if err != nil {
			t.Fatal(err)
		}
		res, err := m.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		est = append(est, e.Events)
		got = append(got, float64(res.Events))
	}
	return est, got
}

// TestEventEstimateLibrary: the estimate is within a factor of two of the
// events every built-in scenario's modes handle, and every built-in
// scenario fits the default budget at its own duration.
func TestEventEstimateLibrary(t *testing.T) {
	for _, e := range Library() {
		t.Run(e.Name, func(t *testing.T) {
			sc, err := Load(e.Name)
			if err != nil {
				t.Fatal(err)
			}
			// Up to 2 s simulated, shortened for the scale scenarios so
			// the run handles about a million events (the -race suite
			// runs this): the estimate is a rate, so a shorter window
			// checks it as well.
			win := min(sc.Duration.T(), 2*sim.Second)
			if at, err := sc.admitAll(1<<62, win); err == nil && at > maxEstimateEvents {
				win = max(sim.Time(float64(win)*maxEstimateEvents/at), 200*sim.Millisecond)
			}
			est, got := estimateVsRun(t, sc, win)
			for i := range est {
				if r := est[i] / got[i]; r < 0.5 || r > 2 {
					t.Errorf("%s: estimate %.3g, handled %.3g: off by %.2f×", sc.Modes[i], est[i], got[i], r)
				}
			}
			full, err := sc.admitAll(0, sc.Duration.T())
			if err != nil {
				t.Errorf("does not fit the default event budget: %v", err)
			}
			t.Logf("%.3g events at its own duration", full)
		})
	}
}

// maxEstimateEvents bounds the run behind each estimate check.
const maxEstimateEvents = 1e6

// admitAll admits every mode for dur simulated seconds and returns the
// largest estimate.
func (sc *Scenario) admitAll(max uint64, dur sim.Time) (float64, error) {
	prof, err := models.LoadProfile(sc.Profile)
	if err != nil {
		return 0, err
	}
	var worst float64
	for _, mode := range sc.Modes {
		top, err := sc.BuildTopology(mode)
		if err != nil {
			return 0, err
		}
		cfg, err := sc.compile(top, prof, mode, sc.Seed, dur, sc.Warmup.T())
		if err != nil {
			return 0, err
		}
		e, err := sc.admit(&cfg, max)
		if err != nil {
			return 0, err
		}
		worst = math.Max(worst, e.Events)
	}
	return worst, nil
}

const cycleDoc = `name: cycle
modes: [ambient]
duration: 2s
warmup: 0s
topology:
  spec:
    nodes: {count: 2}
    namespaces:
      - name: app
        services: [{name: web, replicas: 2}, {name: db}]
        workloads: [{name: client}]
    calls:
      - {from: app/client, to: app/web, rate: 100}
      - {from: app/web, to: app/db}
      - {from: app/db, to: app/web}
`

func TestCallGraphCycles(t *testing.T) {
	tests := []struct {
		name, extra, want string
	}{
		{"fan-out 1 around the cycle", "", `c.yaml:12: topology.spec.calls: the call graph has a cycle (app/db -> app/web -> app/db) whose fan-out makes every request call around it forever`},
		{"fan-out 2 on one edge", "traffic:\n  edges: [{from: app/db, to: app/web, fanout: 0.5}, {from: app/web, to: app/db, fanout: 2}]\n", `cycle (app/db -> app/web -> app/db)`},
		{"fan-out below 1", "traffic:\n  edges: [{from: app/db, to: app/web, fanout: 0.5}]\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc, err := Parse("c.yaml", []byte(cycleDoc+tt.extra))
			if err != nil {
				t.Fatal(err)
			}
			run, err := Execute(sc, Options{})
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("got %v, want %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			// web serves 100/s from the client plus half of what db
			// serves, db serves what web does: 200 calls/s each way.
			want := "The call graph has a cycle (app/db -> app/web -> app/db)"
			if !slices.ContainsFunc(run.Summary.Assumptions, func(a string) bool { return strings.HasPrefix(a, want) }) {
				t.Errorf("assumptions %q lack the cycle", run.Summary.Assumptions)
			}
			if r := run.Modes[0].EdgeRates()["app/web->app/db"]; r < 150 || r > 250 {
				t.Errorf("web -> db at %.1f calls/s, want about 200", r)
			}
		})
	}
}

func TestEventBudgetRefusal(t *testing.T) {
	doc := strings.Replace(strings.Replace(cycleDoc, "      - {from: app/db, to: app/web}\n", "", 1), "duration: 2s", "duration: 720h", 1)
	sc, err := Parse("b.yaml", []byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Execute(sc, Options{})
	var be *BudgetError
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "b.yaml:3: duration: mode ambient: the run would handle about 6.48e+09 events (100 external requests/s × 2 calls each × 2.592e+06 s simulated") {
		t.Fatalf("got %v", err)
	}
	if _, err := Execute(sc, Options{MaxEvents: 6e9, Duration: sim.Second}); err != nil {
		t.Fatalf("a short override fits: %v", err)
	}
}

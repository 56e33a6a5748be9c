package scenarios

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
)

// hostileSeeds adds the CLI's hostile inputs (cmd/ambientsim/testdata/hostile)
// to a fuzz corpus.
func hostileSeeds(f *testing.F) {
	files, _ := filepath.Glob("../cmd/ambientsim/testdata/hostile/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseStudy: whatever a study file holds, ParseStudy and Plan give a
// plan or an error naming the file, never a panic, and a plan within the
// limits the sweep section promises.
func FuzzParseStudy(f *testing.F) {
	for _, e := range Library() {
		if e.Study {
			data, _ := LibraryFile(e.Name)
			f.Add(data)
		}
	}
	f.Add([]byte(studyTestDoc))
	f.Add([]byte(strings.Replace(studyTestDoc, "replications: 2", "replications: .nan", 1)))
	hostileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseStudy("s.yaml", data)
		if err != nil {
			if !strings.Contains(err.Error(), "s.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		plan, err := s.Plan(StudyOptions{ToolVersion: "fuzz"})
		if err != nil {
			return
		}
		if len(plan.Tasks) > 10_000_000 {
			t.Fatalf("plan of %d tasks", len(plan.Tasks))
		}
	})
}

// FuzzRunScenario parses and RUNS what it is given for a short simulated
// time under a small event budget: crashes hide in the model, not only in
// the parser. Every outcome must be results or an error; a run over its
// budget is stopped with an event-budget error.
func FuzzRunScenario(f *testing.F) {
	for _, e := range Library() {
		if e.Name == "large-cluster" || strings.HasPrefix(e.Name, "cost-at-scale-1000") {
			continue // seconds per run: the fuzzer mutates the small ones
		}
		data, _ := LibraryFile(e.Name)
		f.Add(data)
	}
	f.Add([]byte(base))
	f.Add([]byte(cycleDoc))
	hostileSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		// An input that takes longer than this is a hang the budgets
		// missed: crash, so the fuzzer keeps it as a failing input.
		watchdog := time.AfterFunc(20*time.Second, func() { panic("FuzzRunScenario: input ran for 20 s") })
		defer watchdog.Stop()
		sc, err := Parse("f.yaml", data)
		if err != nil {
			return
		}
		if len(sc.Topology.Manifests) > 0 && !sc.embedded {
			return // names files on this machine
		}
		if isFile(sc.Profile) {
			return
		}
		sc.Warmup = min(sc.Warmup, Duration(10*sim.Millisecond))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err = ExecuteContext(ctx, sc, Options{Duration: 50 * sim.Millisecond, MaxEvents: 50_000})
		var be *BudgetError
		if err != nil && (errors.As(err, &be) || models.IsEventBudget(err)) {
			return
		}
	})
}

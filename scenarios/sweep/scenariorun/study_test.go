package scenariorun

import (
	"context"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/sweep"
)

func TestLoadLibraryStudy(t *testing.T) {
	s, err := Load("capacity")
	if err != nil {
		t.Fatal(err)
	}
	if s.Scenario.Name != "capacity" || s.Spec.Replications != 5 {
		t.Fatalf("study %s with %d replications", s.Scenario.Name, s.Spec.Replications)
	}
	plan, err := s.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Points) != 200 {
		t.Errorf("%d points, want 200", len(plan.Points))
	}
}

func TestRunPointSmoke(t *testing.T) {
	s, err := Load("capacity")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := NewRunner(s, Options{})
	defer r.Close()
	out, err := r.RunPoint(context.Background(), sweep.Point{Load: 1, Modes: []string{"sidecar", "ambient"}}, 1)
	if err != nil {
		t.Fatal(err)
	}
	pods := 0
	for _, n := range out.Summary.Topology.Nodes {
		pods += n.Pods
	}
	t.Logf("pods %d modes %d", pods, len(out.Summary.Modes))
	for _, m := range out.Summary.Modes {
		t.Logf("%s %.1f rps p99 %.2f ms", m.Mode, m.Requests.ThroughputRPS, m.Latency[0].P99Ms)
	}
	_ = strings.TrimSpace
}

package models

import (
	"context"
	"fmt"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

func mustTopology(t testing.TB, spec string) *topology.Topology {
	t.Helper()
	top, err := topology.ParseSpec("test.yaml", []byte(spec))
	if err != nil {
		t.Fatalf("topology: %v", err)
	}
	return top
}

func mustProfile(t testing.TB) *Profile {
	t.Helper()
	p, err := LoadProfile("")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// edgesOf gives every call of top the same traffic.
func edgesOf(top *topology.Topology, e EdgeConfig) []EdgeConfig {
	var out []EdgeConfig
	for _, c := range top.Calls {
		ec := e
		ec.Call = c
		if ec.Rate == 0 {
			ec.Rate = c.RateRPS
		}
		out = append(out, ec)
	}
	return out
}

func runMesh(t testing.TB, cfg Config) (*Mesh, *RunResult) {
	t.Helper()
	m, err := NewMesh(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return m, res
}

func component(t testing.TB, r *RunResult, instance string) (cores float64, found bool) {
	for _, c := range r.Measured.Components {
		if c.Instance == instance {
			return c.CPUCores, true
		}
	}
	return 0, false
}

var kib1 = sim.DistSpec{Kind: sim.DistConstant, Mean: 1024}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

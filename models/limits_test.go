package models

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

const limitsSpec = `
nodes: {count: 2}
namespaces:
  - name: app
    mode: ambient
    services: [{name: web, replicas: 2}]
    workloads: [{name: client, replicas: 2}]
calls:
  - {from: app/client, to: app/web, rate: 2000}
`

func limitsConfig(t *testing.T) Config {
	top := mustTopology(t, limitsSpec)
	return Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 1, Duration: 10 * sim.Second,
		Edges: edgesOf(top, EdgeConfig{Pool: 4, KeepAlive: true, ReqSize: kib1, RespSize: kib1})}
}

// TestEventBudget: a run stops at Config.MaxEvents, within one check
// interval, with an *EventBudgetError saying where it stopped.
func TestEventBudget(t *testing.T) {
	cfg := limitsConfig(t)
	cfg.MaxEvents = 20_000
	m, err := NewMesh(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run(context.Background())
	var be *EventBudgetError
	if !errors.As(err, &be) || !IsEventBudget(err) {
		t.Fatalf("want an *EventBudgetError, got %v", err)
	}
	if f := m.s.Fired(); f < cfg.MaxEvents || f > cfg.MaxEvents+CheckEvents {
		t.Errorf("stopped after %d events; want within %d of %d", f, CheckEvents, cfg.MaxEvents)
	}
	if !strings.Contains(err.Error(), "event budget of 20000 events") || be.At <= 0 || be.At >= be.End {
		t.Errorf("error %q at %v of %v", err, be.At, be.End)
	}
	// A budget the run fits in changes nothing.
	cfg.MaxEvents = 1 << 40
	_, withBudget := runMesh(t, cfg)
	cfg.MaxEvents = 0
	_, without := runMesh(t, cfg)
	if withBudget.Events != without.Events || withBudget.Measured.Requests != without.Measured.Requests {
		t.Errorf("a budget that fits changed the run: %d vs %d events", withBudget.Events, without.Events)
	}
}

// TestCancelWithinCheckInterval: once the context is done the run handles
// at most CheckEvents more events, however little simulated time passes.
func TestCancelWithinCheckInterval(t *testing.T) {
	cfg := limitsConfig(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var m *Mesh
	var firedAtCancel uint64
	cfg.Progress = func(now, end sim.Time) {
		if now > 0 && firedAtCancel == 0 {
			firedAtCancel = m.s.Fired()
			cancel()
		}
	}
	m, err := NewMesh(cfg)
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
	if after := m.s.Fired() - firedAtCancel; after > CheckEvents {
		t.Errorf("%d events after the cancellation, want at most %d", after, CheckEvents)
	}
}

// TestAllocationLimits: configurations no scenario file can produce (its
// fields are range-checked) still fail with an error, not a panic or an
// allocation of the machine's memory.
func TestAllocationLimits(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(cfg *Config)
		want  string
	}{
		{"concurrency", func(cfg *Config) {
			cfg.Apps = map[*topology.Workload]AppConfig{cfg.Topology.Workloads[0]: {Concurrency: 4611686018427387904}}
		}, "workers, more than the limit"},
		{"pool", func(cfg *Config) { cfg.Edges[0].Pool = 1_000_000_000 }, "app connections, more than the limit"},
		{"pool overflow", func(cfg *Config) { cfg.Edges[0].Pool = 1 << 62 }, "more than the limit"},
		{"profile threads", func(cfg *Config) {
			p := *cfg.Profile
			p.Ztunnel.WorkerThreads.Value = 1e12
			cfg.Profile = &p
		}, "ztunnel worker_threads"},
		{"cert ttl 0", func(cfg *Config) {
			p := *cfg.Profile
			p.ControlPlane.CertTTL.Value = 0
			cfg.Profile = &p
		}, "certificate lifetime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := limitsConfig(t)
			tt.tweak(&cfg)
			_, err := NewMesh(cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

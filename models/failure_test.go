package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

func TestWindowPredicates(t *testing.T) {
	s := sim.Second
	crash := []window{{from: 10 * s, to: 15 * s, kill: 10 * s, before: 10 * s, epOut: never, epBack: never}}
	drain := []window{{from: never, to: never, kill: 12 * s, before: 10 * s, epOut: never, epBack: never}}
	cases := []struct {
		name                string
		ws                  []window
		opened, start, now  sim.Time
		refused, killed     bool
		staleConn, goneAway bool
	}{
		{"crash: before it", crash, 1 * s, 9 * s, 9 * s, false, false, false, false},
		{"crash: in flight across it", crash, 1 * s, 9 * s, 11 * s, true, true, true, true},
		{"crash: new request while down", crash, 11 * s, 11 * s, 11 * s, true, false, false, false},
		{"crash: after restart, old connection", crash, 1 * s, 16 * s, 16 * s, false, false, true, true},
		{"crash: after restart, new connection", crash, 16 * s, 16 * s, 16 * s, false, false, false, false},
		{"drain: before the deadline", drain, 1 * s, 11 * s, 11.5e9, false, false, false, true},
		{"drain: old connection at the deadline", drain, 1 * s, 11 * s, 12 * s, false, true, true, true},
		{"drain: connection opened after SIGTERM", drain, 11 * s, 11 * s, 13 * s, false, false, false, false},
	}
	for _, c := range cases {
		if got := refusing(c.ws, c.now) != nil; got != c.refused {
			t.Errorf("%s: refusing = %v", c.name, got)
		}
		if got := killedBy(c.ws, c.opened, c.start, c.now) != nil; got != c.killed {
			t.Errorf("%s: killedBy = %v", c.name, got)
		}
		if got := stale(c.ws, c.opened, c.now); got != c.staleConn {
			t.Errorf("%s: stale = %v", c.name, got)
		}
		if got := goneAway(c.ws, c.opened, c.now); got != c.goneAway {
			t.Errorf("%s: goneAway = %v", c.name, got)
		}
	}
	ep := []window{{epOut: 5 * s, epBack: 8 * s}}
	for _, c := range []struct {
		t   sim.Time
		out bool
	}{{4 * s, false}, {5 * s, true}, {7 * s, true}, {8 * s, false}} {
		if got := endpointOut(ep, c.t); got != c.out {
			t.Errorf("endpointOut(%v) = %v", c.t, got)
		}
	}
}

// TestExpiringMatchesCertValid: the static list of holders whose
// certificate expires during an outage is exactly the set the lazy
// renewal state finds invalid at some instant of the outage.
func TestExpiringMatchesCertValid(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 6}
namespaces:
  - name: a
    mode: ambient
    waypoint: {scope: namespace, replicas: 3}
    services: [{name: s, replicas: 6}, {name: u, replicas: 3}]
  - name: b
    mode: sidecar
    services: [{name: v, replicas: 5}]
calls:
  - {from: a/s, to: a/u, rate: 1}
`)
	prof := *mustProfile(t)
	prof.ControlPlane.CertTTL.Value = 100.0 / 3600 // 100 s, renewed every 50 s
	for _, o := range []struct{ from, to sim.Time }{{20e9, 60e9}, {70e9, 140e9}, {10e9, 30e9}, {100e9, 200e9}} {
		m, err := NewMesh(Config{Topology: top, Profile: &prof, Mode: "ambient", Seed: 1, Duration: sim.Second, Edges: edgesOf(top, EdgeConfig{})})
		if err != nil {
			t.Fatal(err)
		}
		if err := m.IstiodOutage(o.from, o.to); err != nil {
			t.Fatal(err)
		}
		want := map[int]bool{}
		for _, h := range m.cp.expiring(o.from, o.to) {
			want[h] = true
		}
		for h := range m.cp.holders {
			bad := false
			for ts := sim.Time(0); ts < o.to; ts += 100 * sim.Millisecond {
				if !m.cp.certValid(h, ts) && ts >= o.from {
					bad = true
				}
			}
			if bad != want[h] {
				t.Errorf("outage [%v, %v) holder %s: expires during it = %v, expiring() says %v", o.from, o.to, m.holderName(h), bad, want[h])
			}
		}
		if o.to-o.from < 50*sim.Second && len(want) > 0 {
			t.Errorf("outage of %v < TTL - refresh: %d holders expire", o.to-o.from, len(want))
		}
	}
}

// TestNoFailuresNoState: without failures or autoscaling the model keeps
// no failure state and records no series.
func TestNoFailuresNoState(t *testing.T) {
	top := mustTopology(t, `
nodes: {count: 2}
namespaces:
  - name: a
    mode: ambient
    services: [{name: s, replicas: 2}]
    workloads: [{name: c}]
calls:
  - {from: a/c, to: a/s, rate: 100}
`)
	m, res := runMesh(t, Config{Topology: top, Profile: mustProfile(t), Mode: "ambient", Seed: 1, Duration: 2 * sim.Second, Edges: edgesOf(top, EdgeConfig{})})
	if m.failOn || m.flt != nil || res.Series != nil || res.Failures != nil {
		t.Errorf("failure state without failures: failOn %v flt %v series %v failures %v", m.failOn, m.flt != nil, res.Series != nil, res.Failures)
	}
}

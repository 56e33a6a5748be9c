package models

import (
	"context"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// shortCerts returns the default profile with a certificate TTL of ttl
// hours (renewal at half-life).
func shortCerts(t *testing.T, ttlHours float64) *Profile {
	p := *mustProfile(t)
	p.ControlPlane.CertTTL.Value = ttlHours
	return &p
}

func TestCertRenewal(t *testing.T) {
	cp := controlPlane{ttl: 100 * sim.Second, refresh: 50 * sim.Second,
		holders: []certHolder{{nextRenew: 10 * sim.Second, expiry: 60 * sim.Second}}}
	cp.down = []outage{{from: 5 * sim.Second, to: 200 * sim.Second}}
	// The renewal due at 10 s cannot happen (istiod down); the old
	// certificate lasts until 60 s.
	if !cp.certValid(0, 59*sim.Second) {
		t.Error("certificate should still be valid at 59 s")
	}
	if cp.certValid(0, 61*sim.Second) {
		t.Error("certificate should have expired at 60 s")
	}
	// istiod is back at 200 s: the pending renewal succeeds then.
	if !cp.certValid(0, 201*sim.Second) {
		t.Error("certificate should be renewed once istiod is back")
	}
	if got := cp.holders[0].expiry; got != 300*sim.Second {
		t.Errorf("new expiry %v, want 300s", got)
	}
}

// TestIstiodOutage: with istiod down longer than a certificate's remaining
// life, pooled connections keep working but new mTLS handshakes fail.
func TestIstiodOutage(t *testing.T) {
	prof := shortCerts(t, 0.02) // 72 s TTL, renewal every 36 s
	slow := sim.DistSpec{Kind: sim.DistConstant, Mean: float64(500 * sim.Millisecond)}
	run := func(outage bool, e EdgeConfig) *RunResult {
		top := mustTopology(t, poolTopo)
		cfg := Config{Topology: top, Profile: prof, Mode: "ambient", Seed: 5, Duration: 200 * sim.Second,
			Edges: edgesOf(top, e),
			Apps:  map[*topology.Workload]AppConfig{top.Workload("a", "server"): {ServiceTime: slow, Concurrency: 10000}}}
		m, err := NewMesh(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if outage {
			if err := m.IstiodOutage(1*sim.Second, 1000*sim.Second); err != nil {
				t.Fatal(err)
			}
		}
		res, err := m.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	keep := EdgeConfig{Rate: 50, KeepAlive: true, Pool: 4, Protocol: HTTP2}
	if r := run(true, keep); r.Measured.Requests.Failed != 0 {
		t.Errorf("keep-alive through the outage: %d failed; established connections should survive", r.Measured.Requests.Failed)
	}
	// ~200 concurrent streams on one key keep dialling new connections
	// (stream cap 100); once the certificates expire those fail.
	burst := EdgeConfig{Rate: 400}
	if r := run(false, burst); r.Measured.Requests.Failed != 0 {
		t.Fatalf("no outage: %d failed", r.Measured.Requests.Failed)
	}
	r := run(true, burst)
	var tls int64
	for _, e := range r.Measured.Errors {
		if e.Cause == "tls_handshake_failed" {
			tls = e.Count
		}
	}
	if tls == 0 {
		t.Errorf("errors %+v: new handshakes after certificate expiry must fail", r.Measured.Errors)
	}
	if err := (&Mesh{}).IstiodOutage(5, 1); err == nil {
		t.Error("an outage ending before it starts should be an error")
	}
}

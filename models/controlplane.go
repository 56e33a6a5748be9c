package models

import (
	"fmt"
	"sort"

	"github.com/ambientsim/ambientsim/sim"
)

// controlPlane models istiod enough for failure scenarios to build on:
//
//   - the proxies it serves over xDS (ztunnels, waypoint replicas,
//     sidecars) and config pushes to all of them per config change;
//   - workload certificates with a TTL, renewed at TTL × RefreshFraction
//     (half-life by default, ambient-internals §7.3). A renewal needs istiod;
//     while istiod is down the holder keeps retrying and keeps its old
//     certificate until it expires. A proxy with an expired certificate
//     fails every new mTLS handshake (established connections keep working,
//     as TLS does not re-check certificates).
//
// Certificate holders: each node's ztunnel (standing for the certificates it
// holds for the service accounts on its node), each waypoint replica and
// each sidecar. Each holder's renewal phase is spread over the refresh
// period by a hash of its name, so renewals do not all fall at once.
// Renewal state is advanced lazily when a handshake asks, so it costs no
// events. CPU and memory are computed from counts.
type controlPlane struct {
	certs   int      // workload certificates held
	ttl     sim.Time // certificate lifetime
	refresh sim.Time // renewal period
	down    []outage // istiod unavailable, sorted
	holders []certHolder
	phase   []sim.Time // each holder's first renewal
	// restarts lists, per holder, when its proxy restarted (failures):
	// a restarted proxy has lost its in-memory certificates and fetches
	// new ones from istiod, so it has none until istiod is up.
	restarts map[int][]sim.Time
}

type outage struct{ from, to sim.Time }

type certHolder struct {
	nextRenew sim.Time
	expiry    sim.Time
	renewals  int64
}

func newControlPlane(m *Mesh) controlPlane {
	cp := controlPlane{}
	p := m.cfg.Profile.ControlPlane
	cp.ttl = sim.FromSeconds(p.CertTTL.Value * 3600)
	cp.refresh = sim.Time(float64(cp.ttl) * p.RefreshFraction.Value)
	if cp.refresh <= 0 || cp.refresh > cp.ttl {
		cp.refresh = cp.ttl / 2
	}
	// Certificates: one per identity with ambient pods on a node (that
	// node's ztunnel holds it), one per waypoint replica and per sidecar.
	for i := range m.nodes {
		cp.certs += m.mem.ztCerts[i]
	}
	cp.certs += len(m.reps)
	for i := range m.pods {
		if m.pods[i].sc != nil {
			cp.certs++
		}
	}
	n := len(m.nodes) + len(m.reps) + len(m.pods)
	cp.holders = make([]certHolder, n)
	cp.phase = make([]sim.Time, n)
	for h := 0; h < n; h++ {
		phase := sim.Time(float64(cp.refresh) * float64(fnv32(m.holderName(h))) / float64(1<<32))
		cp.phase[h] = phase
		cp.holders[h] = certHolder{nextRenew: phase, expiry: phase - cp.refresh + cp.ttl}
	}
	return cp
}

// Certificate holder indices: nodes, then waypoint replicas, then pods.
func (m *Mesh) holderNode(n int32) int { return int(n) }
func (m *Mesh) holderRep(r int32) int  { return len(m.nodes) + int(r) }
func (m *Mesh) holderPod(p int32) int  { return len(m.nodes) + len(m.reps) + int(p) }

func (m *Mesh) holderName(h int) string {
	switch {
	case h < len(m.nodes):
		return "ztunnel/" + m.nodes[h].name
	case h < len(m.nodes)+len(m.reps):
		return m.reps[h-len(m.nodes)].name
	}
	return m.envoyInstance(int32(h - len(m.nodes) - len(m.reps)))
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}

// upAt returns the first time >= t at which istiod is available.
func (cp *controlPlane) upAt(t sim.Time) sim.Time {
	for _, o := range cp.down {
		if t >= o.from && t < o.to {
			t = o.to
		}
	}
	return t
}

// certValid reports whether holder h has a valid certificate at time t.
// Calls must come in non-decreasing t per holder (simulation order).
func (cp *controlPlane) certValid(h int, t sim.Time) bool {
	c := &cp.holders[h]
	for c.nextRenew <= t {
		u := cp.upAt(c.nextRenew)
		if u > t {
			break // still retrying at t
		}
		c.expiry = u + cp.ttl
		c.nextRenew = u + cp.refresh
		c.renewals++
	}
	if rs := cp.restarts[h]; len(rs) > 0 {
		// The latest restart at or before t decides: no certificate until
		// istiod answers, then a fresh one (or the renewed one, if later).
		for k := len(rs) - 1; k >= 0; k-- {
			if rs[k] > t {
				continue
			}
			u := cp.upAt(rs[k])
			return t >= u && (t < c.expiry || t < u+cp.ttl)
		}
	}
	return t < c.expiry
}

// restart records that holder h's proxy restarted at t.
func (cp *controlPlane) restart(h int, t sim.Time) {
	if cp.restarts == nil {
		cp.restarts = map[int][]sim.Time{}
	}
	rs := append(cp.restarts[h], t)
	sort.Slice(rs, func(i, j int) bool { return rs[i] < rs[j] })
	cp.restarts[h] = rs
}

// IstiodOutage makes istiod unavailable from `from` to `to` (simulated
// time); call it before Run. Proxies keep their cached config and
// certificates; certificates that come due for renewal during the outage
// are not renewed, and expire TTL after their last renewal.
func (m *Mesh) IstiodOutage(from, to sim.Time) error {
	if to <= from || from < 0 {
		return fmt.Errorf("istiod outage [%v, %v): want 0 <= from < to", from, to)
	}
	m.cp.down = append(m.cp.down, outage{from, to})
	sort.Slice(m.cp.down, func(i, j int) bool { return m.cp.down[i].from < m.cp.down[j].from })
	return nil
}

// usage returns istiod's load over the measured window of length d: its
// CPU and memory follow the laws in istiod.go, scaled by the fraction of
// the window istiod was up.
func (cp controlPlane) usage(m *Mesh, d sim.Time) istiodLoad {
	if d <= 0 {
		return istiodLoad{}
	}
	up := float64(d)
	for _, o := range cp.down {
		lo, hi := max(o.from, m.measure), min(o.to, m.end)
		if hi > lo {
			up -= float64(hi - lo)
		}
	}
	return m.istiod(d.Seconds(), up/float64(d))
}

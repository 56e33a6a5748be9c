package sim

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// The determinism test runs a small service network — Poisson clients, a
// shared frontend with a bounded queue, heterogeneous backends, per-request
// timeouts that are usually cancelled, and one retry on timeout — and hashes
// its event trace.

const (
	kArrive int32 = iota + 1
	kFrontDone
	kBackDone
	kTimeout
)

type netRequest struct {
	timer    Timer
	backend  int
	attempts int
	done     bool
}

type netModel struct {
	s       *Sim
	front   *Station
	backs   []*Station
	clients []*netClient
	reqs    []netRequest
	timeout Time

	frontDemand, backDemand Dist

	completed, timeouts, rejected, cancelled int
}

type netClient struct {
	m    *netModel
	gap  Dist
	pick *rand.Rand
}

// buildNet builds the model from maps, iterating them in sorted key order as
// model code must: map order must never reach results.
func buildNet(seed uint64, clientRates map[string]float64, backendServers map[string]int) *netModel {
	s := New()
	rs := NewStreams(seed)
	m := &netModel{s: s, timeout: 30 * Millisecond}
	m.front = NewStation(s, "front", 1, 4)
	for _, name := range slices.Sorted(maps.Keys(backendServers)) {
		m.backs = append(m.backs, NewStation(s, "backend/"+name, backendServers[name], 0))
	}
	for _, name := range slices.Sorted(maps.Keys(clientRates)) {
		gap, err := DistSpec{Kind: DistExponential, Mean: float64(Second) / clientRates[name]}.New(rs.Source("client/" + name + "/arrivals"))
		if err != nil {
			panic(err)
		}
		c := &netClient{m: m, gap: gap, pick: rs.Rand("client/" + name + "/routing")}
		m.clients = append(m.clients, c)
		s.After(0, c, Event{Kind: kArrive})
	}
	frontDemand, _ := DistSpec{Kind: DistLognormal, Mean: 400e3, CV: 1.5}.New(rs.Source("front/demand"))
	backDemand, _ := DistSpec{Kind: DistPareto, Mean: 1e6, Alpha: 1.8}.New(rs.Source("backend/demand"))
	m.frontDemand, m.backDemand = frontDemand, backDemand
	return m
}

func (c *netClient) Handle(ev Event) {
	m := c.m
	id := len(m.reqs)
	m.reqs = append(m.reqs, netRequest{backend: c.pick.IntN(len(m.backs))})
	m.send(id)
	m.s.After(FromNanoseconds(c.gap.Rand()), c, ev)
}

func (m *netModel) send(id int) {
	r := &m.reqs[id]
	r.attempts++
	r.timer = m.s.After(m.timeout, (*netTimeout)(m), Event{Kind: kTimeout, A: int64(id)})
	if !m.front.Submit(FromNanoseconds(m.frontDemand.Rand()), (*netStage)(m), Event{Kind: kFrontDone, A: int64(id), B: int64(r.attempts)}) {
		m.rejected++
		if m.s.Cancel(r.timer) {
			m.cancelled++
		}
	}
}

type netStage netModel

func (n *netStage) Handle(ev Event) {
	m := (*netModel)(n)
	r := &m.reqs[ev.A]
	if r.done || int(ev.B) != r.attempts {
		return // a stale attempt that already timed out
	}
	switch ev.Kind {
	case kFrontDone:
		m.backs[r.backend].Submit(FromNanoseconds(m.backDemand.Rand()), n, Event{Kind: kBackDone, A: ev.A, B: ev.B})
	case kBackDone:
		r.done = true
		m.completed++
		if m.s.Cancel(r.timer) {
			m.cancelled++
		}
	}
}

type netTimeout netModel

func (n *netTimeout) Handle(ev Event) {
	m := (*netModel)(n)
	m.timeouts++
	if r := &m.reqs[ev.A]; r.attempts < 2 {
		m.send(int(ev.A))
	} else {
		r.done = true
	}
}

// traceHash runs the model for 2 s of virtual time and returns the sha256 of
// its event trace.
func traceHash(t *testing.T, m *netModel) string {
	h := sha256.New()
	var buf [36]byte
	m.s.SetTrace(func(at Time, seq uint64, ev Event) {
		binary.LittleEndian.PutUint64(buf[0:], uint64(at))
		binary.LittleEndian.PutUint64(buf[8:], seq)
		binary.LittleEndian.PutUint32(buf[16:], uint32(ev.Kind))
		binary.LittleEndian.PutUint64(buf[20:], uint64(ev.A))
		binary.LittleEndian.PutUint64(buf[28:], uint64(ev.B))
		h.Write(buf[:])
	})
	m.s.RunUntil(2 * Second)
	if m.completed < 1000 || m.timeouts < 10 || m.cancelled < 1000 || m.rejected < 10 {
		t.Fatalf("model too tame to test determinism: completed %d, timeouts %d, cancelled %d, rejected %d",
			m.completed, m.timeouts, m.cancelled, m.rejected)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	t.Logf("%d events, %d completed, %d timeouts, %d cancels, %d rejected: %s…",
		m.s.Fired(), m.completed, m.timeouts, m.cancelled, m.rejected, sum[:16])
	return sum
}

func TestDeterminism(t *testing.T) {
	clients := [][2]any{{"web", 900.0}, {"mobile", 500.0}, {"batch", 150.0}, {"partner", 250.0}}
	backends := [][2]any{{"orders", 2}, {"users", 1}, {"search", 3}, {"cart", 1}}
	build := func(seed uint64, perm *rand.Rand) *netModel {
		cr := map[string]float64{}
		br := map[string]int{}
		ci, bi := []int{0, 1, 2, 3}, []int{0, 1, 2, 3}
		if perm != nil {
			perm.Shuffle(4, func(i, j int) { ci[i], ci[j] = ci[j], ci[i] })
			perm.Shuffle(4, func(i, j int) { bi[i], bi[j] = bi[j], bi[i] })
		}
		for _, i := range ci {
			cr[clients[i][0].(string)] = clients[i][1].(float64)
		}
		for _, i := range bi {
			br[backends[i][0].(string)] = backends[i][1].(int)
		}
		return buildNet(seed, cr, br)
	}
	first := traceHash(t, build(7, nil))
	if again := traceHash(t, build(7, nil)); again != first {
		t.Fatalf("same seed, different trace: %s vs %s", first, again)
	}
	for i := uint64(0); i < 3; i++ {
		if shuffled := traceHash(t, build(7, rand.New(rand.NewPCG(i, 99)))); shuffled != first {
			t.Fatalf("shuffled input order %d changed the trace: %s vs %s", i, shuffled, first)
		}
	}
	if other := traceHash(t, build(8, nil)); other == first {
		t.Fatal("a different seed gave the same trace; the hash is not sensitive")
	}
}

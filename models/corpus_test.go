package models

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// TestPathsAgreeWithRun: on every upstream-corpus case
// (topology/testdata/cases/upstream.txt), run and paths tell the same
// story per row: a row paths marks DENIED fails every call in run; an
// open row fails none, except the per-request outcomes paths leaves to
// Evaluate and the route table — a GET / an L7 policy refuses (Evaluate
// says so) fails every call, and a GET / the ingress gateway's routes do
// not match is answered 404; a bypass row's calls all count as bypassed.
// Egress rows (ServiceEntry hosts) are run too: a DENIED row (a broken
// egress gateway route) fails every call, a GET / the egress waypoint
// refuses (EvaluateEgress) fails every call, a bypass row (skipping the
// egress waypoint or gateway) counts every call bypassed.
func TestPathsAgreeWithRun(t *testing.T) {
	f, err := os.Open("../topology/testdata/cases/upstream.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, egress := 0, 0
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "load ") {
			continue
		}
		var paths []string
		for _, w := range strings.Fields(line)[1:] {
			if v, ok := strings.CutPrefix(w, "file="); ok {
				paths = append(paths, filepath.Join("../topology/testdata", v))
			}
		}
		n++
		t.Run(strings.Join(paths, "+"), func(t *testing.T) { egress += checkPathsAgree(t, paths) })
	}
	if n == 0 {
		t.Fatal("no corpus case found")
	}
	if egress == 0 {
		t.Fatal("no egress (ServiceEntry host) row was run")
	}
}

// checkPathsAgree runs one case and returns how many of its rows were
// egress rows (calls to ServiceEntry hosts).
func checkPathsAgree(t *testing.T, paths []string) int {
	top, _, err := topology.Load(paths, topology.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep := top.Paths()
	type row struct {
		denied string
		l7deny bool // a plain GET / is refused at L7 (per request: paths leaves the row open)
		bypass bool
	}
	rows := map[string]row{}
	var edges []EdgeConfig
	for _, p := range rep.Pairs {
		if p.Source == nil || p.Destination == nil {
			continue
		}
		se := p.Destination.Entry()
		if se == nil && (top.Service(p.Destination.Namespace, p.Destination.Name) != p.Destination || len(top.EndpointsOf(p.Destination)) == 0) {
			continue // Services without pods
		}
		id := p.Source.ID() + "->" + p.Destination.ID()
		if _, dup := rows[id]; dup {
			continue // one port per pair
		}
		has := false
		for _, pod := range top.Pods {
			has = has || pod.Workload == p.Source
		}
		if !has {
			continue
		}
		r := row{denied: p.Path.Denied, bypass: p.Path.Bypass}
		if se != nil && r.denied == "" {
			// Egress: the egress waypoint's policies, per request.
			d := top.EvaluateEgress(srcPodOf(top, p.Source), se, topology.Request{Method: "GET", Path: "/", Host: p.Destination.Name})
			r.l7deny = !d.Allow
		} else if ep := p.Path.Endpoint; ep != nil && r.denied == "" {
			d := top.Evaluate(srcPodOf(top, p.Source), ep, p.Path.Waypoint, p.Destination.TargetPort(p.Port),
				topology.Request{Method: "GET", Path: "/", Host: p.Destination.Name + "." + p.Destination.Namespace + ".svc.cluster.local", Service: p.Destination})
			r.l7deny = !d.Allow && d.Layer == "L7"
		}
		rows[id] = r
		edges = append(edges, EdgeConfig{Call: &topology.Call{From: p.Source, To: p.Destination, Port: p.Port}, Rate: 40, KeepAlive: true, Pool: 1})
	}
	if len(edges) == 0 {
		t.Skip("no runnable rows")
	}
	egress := 0
	for _, ec := range edges {
		if ec.Call.To.Entry() != nil {
			egress++
		}
	}
	var nd, nl7, nby int
	for _, r := range rows {
		switch {
		case r.denied != "":
			nd++
		case r.l7deny:
			nl7++
		case r.bypass:
			nby++
		}
	}
	t.Logf("%d rows: %d DENIED, %d refused at L7 per request, %d bypass", len(rows), nd, nl7, nby)
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "as-manifests", Seed: 1, Duration: sim.Second, Warmup: 100 * sim.Millisecond, Edges: edges}
	_, res := runMesh(t, cfg)
	for _, e := range res.Measured.Edges {
		id := e.Source + "->" + e.Destination
		r := rows[id]
		if e.Calls == 0 {
			t.Errorf("%s: no calls finished", id)
			continue
		}
		var notFound int64
		for _, rs := range e.Routes {
			if rs.Answered == "404" {
				notFound += rs.AnsweredCalls
			}
		}
		switch {
		case r.denied != "" && e.Failed != e.Calls:
			t.Errorf("%s: paths says DENIED (%s), run failed %d of %d calls", id, r.denied, e.Failed, e.Calls)
		case r.l7deny && e.Failed != e.Calls:
			t.Errorf("%s: GET / is refused at L7, run failed %d of %d calls", id, e.Failed, e.Calls)
		case r.denied == "" && !r.l7deny && e.Failed != notFound:
			t.Errorf("%s: paths says open, run failed %d of %d calls (%d answered 404)", id, e.Failed, e.Calls, notFound)
		case r.denied == "" && !r.l7deny && r.bypass && e.Bypassed != e.Calls-notFound:
			t.Errorf("%s: paths says bypass, run counted %d of %d calls bypassed", id, e.Bypassed, e.Calls)
		case !r.bypass && e.Bypassed != 0:
			t.Errorf("%s: paths says no bypass, run counted %d bypassed", id, e.Bypassed)
		}
	}
	return egress
}

func srcPodOf(top *topology.Topology, w *topology.Workload) *topology.Pod {
	for _, p := range top.Pods {
		if p.Workload == w {
			return p
		}
	}
	return nil
}

package sweep

import (
	"errors"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// decode parses a scenario-like document and decodes its sweep: key.
func decode(t testing.TB, doc string) (*Spec, error) {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &root); err != nil {
		t.Fatalf("test YAML does not parse: %v", err)
	}
	m := root.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "sweep" {
			return DecodeSpec("scn.yaml", m.Content[i+1])
		}
	}
	t.Fatal("test YAML has no sweep key")
	return nil, nil
}

func mustDecode(t testing.TB, doc string) *Spec {
	t.Helper()
	s, err := decode(t, doc)
	if err != nil {
		t.Fatalf("DecodeSpec: %v", err)
	}
	return s
}

func TestDecodeSpecErrors(t *testing.T) {
	tests := []struct {
		name, doc string
		want      []string // substrings of the error
	}{
		{"unknown top field", "name: x\nsweep:\n  replication: 3\n", []string{"scn.yaml:3:", "sweep.replication", `did you mean "replications"`}},
		{"unknown parameter", "sweep:\n  parameters:\n    lod: [1, 2]\n", []string{"scn.yaml:3:", "sweep.parameters.lod", `did you mean "load"`}},
		{"bad mode", "sweep:\n  parameters:\n    mode: [sidecar, ambiant]\n", []string{"scn.yaml:3:", "parameters.mode[1]", `did you mean "ambient"`}},
		{"negative load", "sweep:\n  parameters:\n    load: [1, -2]\n", []string{"scn.yaml:3:", "load must be > 0"}},
		{"fractional nodes", "sweep:\n  parameters:\n    nodes: [1.5]\n", []string{"whole number"}},
		{"nan load", "sweep:\n  parameters:\n    load: [.nan]\n", []string{"finite"}},
		{"range unknown field", "sweep:\n  parameters:\n    load: {from: 1, to: 2, stp: 1}\n", []string{"scn.yaml:3:", "parameters.load.stp", `did you mean "step"`}},
		{"range without step", "sweep:\n  parameters:\n    load: {from: 1, to: 2}\n", []string{"positive step or count"}},
		{"range reversed", "sweep:\n  parameters:\n    load: {from: 3, to: 2, step: 1}\n", []string{"below from"}},
		{"range of strings", "sweep:\n  parameters:\n    mode: {from: 1, to: 2, step: 1}\n", []string{"list the values"}},
		{"duplicate value", "sweep:\n  parameters:\n    nodes: [3, 3]\n", []string{"listed twice"}},
		{"one replication", "sweep:\n  replications: 1\n  parameters: {load: [1]}\n", []string{"scn.yaml:2:", "sweep.replications", "confidence interval"}},
		{"bad design", "sweep:\n  design: grid\n", []string{"scn.yaml:2:", `unknown design "grid"`}},
		{"slo without threshold", "sweep:\n  parameters: {load: [1]}\n  slo: {metric: p99}\n", []string{"scn.yaml:3:", "sweep.slo.threshold", "> 0"}},
		{"slo bad metric", "sweep:\n  parameters: {load: [1]}\n  slo:\n    metric: p95\n    threshold: 10\n", []string{"scn.yaml:4:", "sweep.slo.metric", `did you mean "p90"`}},
		{"error rate as percent", "sweep:\n  parameters: {load: [1]}\n  slo: {metric: error_rate, threshold: 1}\n", []string{"fraction"}},
		{"sizing without slo", "sweep:\n  parameters: {load: [1]}\n  sizing: {load: 2}\n", []string{"sweep.sizing", "needs an slo"}},
		{"sizing bad param", "sweep:\n  parameters: {load: [1]}\n  slo: {threshold: 5}\n  sizing:\n    load: 2\n    parameters: [waypointReplica]\n", []string{"scn.yaml:6:", "sizing.parameters[0]", `did you mean "waypointReplicas"`}},
		{"cost bad kind", "sweep:\n  parameters: {load: [1]}\n  cost:\n    requests:\n      ztunel: {cpuCores: 1}\n", []string{"scn.yaml:5:", "cost.requests.ztunel", `did you mean "ztunnel"`}},
		{"cost headroom below 1", "sweep:\n  parameters: {load: [1]}\n  cost: {headroom: 0.5}\n", []string{"cost.headroom", "[1,100]"}},
		{"listed point unknown param", "sweep:\n  design: list\n  points:\n    - {load: 1, node: 3}\n", []string{"scn.yaml:4:", `did you mean "nodes"`}},
		{"listed point with list", "sweep:\n  points:\n    - {load: [1, 2]}\n", []string{"one value"}},
		{"list and parameters", "sweep:\n  design: list\n  parameters: {load: [1]}\n  points: [{load: 1}]\n", []string{"takes points"}},
		{"wrong type", "sweep:\n  replications: many\n", []string{"scn.yaml:2:", "many"}},
		{"huge design", "sweep:\n  parameters:\n    load: {from: 1, to: 1000, step: 1}\n    nodes: {from: 1, to: 1000, step: 1}\n", []string{"more than 100000"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decode(t, tt.doc)
			if err == nil {
				t.Fatalf("DecodeSpec accepted:\n%s", tt.doc)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestDecodeSpecErrorIsFieldError(t *testing.T) {
	_, err := decode(t, "sweep:\n  parameters:\n    lod: [1]\n")
	var fe *FieldError
	if !errors.As(err, &fe) || fe.File != "scn.yaml" || fe.Line != 3 || fe.Field != "sweep.parameters.lod" {
		t.Fatalf("got %#v, want a FieldError at scn.yaml:3 sweep.parameters.lod", err)
	}
}

func TestDecodeSpecDefaults(t *testing.T) {
	s := mustDecode(t, "sweep:\n  parameters: {load: [1]}\n  slo: {threshold: 20, search: {}}\n  sizing: {load: 2}\n  cost: {}\n")
	if s.Replications != 5 || s.Confidence != 0.95 || s.Design != "cartesian" || s.Warmup != "mser5" {
		t.Errorf("defaults: replications %d confidence %g design %s warmup %s", s.Replications, s.Confidence, s.Design, s.Warmup)
	}
	if s.SLO.Metric != "p99" || s.SLO.Category != "all" || s.SLO.Search.From != 0.1 || s.SLO.Search.To != 10 || s.SLO.Search.MaxSteps != 12 {
		t.Errorf("slo defaults: %+v %+v", s.SLO, s.SLO.Search)
	}
	if len(s.Sizing.Parameters) != 2 || s.Sizing.Max != 16 {
		t.Errorf("sizing defaults: %+v", s.Sizing)
	}
	if s.Cost.Headroom != 1.3 || len(s.Cost.Pods) != 4 || s.Cost.Requests["ztunnel"].MemoryGiB != 0.5 {
		t.Errorf("cost defaults: %+v", s.Cost)
	}
}

func TestExpand(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string // Point.String of each point
	}{
		{"cartesian, last varies fastest, mode folded",
			"sweep:\n  parameters:\n    mode: [sidecar, ambient]\n    nodes: [3, 6]\n    load: [0.5, 1]\n",
			[]string{"load=0.5,nodes=3,mode=sidecar/ambient", "load=1,nodes=3,mode=sidecar/ambient", "load=0.5,nodes=6,mode=sidecar/ambient", "load=1,nodes=6,mode=sidecar/ambient"}},
		{"float step has no rounding residue",
			"sweep:\n  parameters:\n    load: {from: 0.1, to: 0.5, step: 0.1}\n",
			[]string{"load=0.1", "load=0.2", "load=0.3", "load=0.4", "load=0.5"}},
		{"log count",
			"sweep:\n  parameters:\n    load: {from: 1, to: 100, count: 3, scale: log}\n",
			[]string{"load=1", "load=10", "load=100"}},
		{"int range rounds and dedups",
			"sweep:\n  parameters:\n    nodes: {from: 1, to: 3, count: 5}\n",
			[]string{"nodes=1", "nodes=2", "nodes=3"}},
		{"scalar value",
			"sweep:\n  parameters:\n    profile: istio-1.24-published\n    waypointScope: [namespace, per-service]\n",
			[]string{"waypointScope=namespace,profile=istio-1.24-published", "waypointScope=per-service,profile=istio-1.24-published"}},
		{"listed design keeps order",
			"sweep:\n  points:\n    - {load: 2, mode: [ambient, sidecar]}\n    - {nodes: 4, workerThreads: 4}\n",
			[]string{"load=2,mode=ambient/sidecar", "nodes=4,workerThreads=4"}},
		{"empty parameters is the scenario as written",
			"sweep:\n  replications: 2\n",
			[]string{"(scenario as written)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pts, err := mustDecode(t, tt.doc).Expand()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pts {
				got = append(got, p.String())
			}
			if strings.Join(got, " | ") != strings.Join(tt.want, " | ") {
				t.Errorf("points\n got  %v\n want %v", got, tt.want)
			}
		})
	}
}

func TestExpandRejectsDuplicateListedPoints(t *testing.T) {
	s := mustDecode(t, "sweep:\n  points:\n    - {load: 1}\n    - {load: 1.0}\n")
	if _, err := s.Expand(); err == nil || !strings.Contains(err.Error(), "same point as points[0]") {
		t.Fatalf("got %v, want a duplicate-point error", err)
	}
}

func FuzzDecodeSpec(f *testing.F) {
	f.Add("replications: 3\nparameters:\n  load: {from: 0.5, to: 2, step: 0.5}\n  mode: [sidecar, ambient]\nslo: {threshold: 10, search: {}}\n")
	f.Add("design: list\npoints:\n  - {load: 1, nodes: 3}\n")
	f.Add("parameters:\n  nodes: {from: 1, to: 1e9, count: 3, scale: log}\ncost: {pods: [1]}\n")
	f.Fuzz(func(t *testing.T, doc string) {
		var n yaml.Node
		if yaml.Unmarshal([]byte(doc), &n) != nil || len(n.Content) == 0 {
			return
		}
		s, err := DecodeSpec("f.yaml", &n)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.yaml") {
				t.Fatalf("error without file name: %v", err)
			}
			return
		}
		pts, err := s.Expand()
		if err != nil {
			return
		}
		if len(pts) == 0 || len(pts) > maxPoints {
			t.Fatalf("%d points", len(pts))
		}
		if _, err := s.Plan(PlanOptions{Modes: []string{"ambient"}}); err != nil && !strings.HasPrefix(err.Error(), "f.yaml") {
			t.Fatalf("plan error without file name: %v", err)
		}
	})
}

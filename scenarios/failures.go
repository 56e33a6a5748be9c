package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/ambientsim/ambientsim/internal/yamlcheck"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/scenarios/results"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// FailNodeCompromise is the static failure kind: an attacker owns a node.
// Nothing is simulated; the result lists the identities usable from the
// node and what they can reach under the policies in force.
const FailNodeCompromise = "node-compromise"

// FailureKinds lists every kind a scenario's failures can name.
var FailureKinds = append(append([]string(nil), models.FailureKinds...), FailNodeCompromise)

// SLO is the service-level objective blast radius is judged against.
type SLO struct {
	// Latency: a call slower than this counts as bad (breached the SLO).
	Latency Duration `yaml:"latency,omitempty" json:"latency,omitempty" range:"(0s,24h]"`
	// P99 bounds the p99 end-to-end latency of successful requests; the
	// report judges every mode against it.
	P99 Duration `yaml:"p99,omitempty" json:"p99,omitempty" range:"(0s,24h]"`
	// ErrorRatio bounds failed / offered external requests (0 < r <= 1).
	ErrorRatio *float64 `yaml:"error_ratio,omitempty" json:"error_ratio,omitempty" range:"(0,1]" unit:"failed / offered requests"`
}

// result is the objective as summary.json records it.
func (s *SLO) result() *results.SLO {
	if s == nil {
		return nil
	}
	r := &results.SLO{LatencyMs: s.Latency.T().Milliseconds(), P99Ms: s.P99.T().Milliseconds()}
	if s.ErrorRatio != nil {
		r.MaxErrorRatio = *s.ErrorRatio
	}
	return r
}

// FailureSpec is one scheduled failure in a scenario file.
type FailureSpec struct {
	Name string `yaml:"name,omitempty" json:"name,omitempty"` // default <kind>-<index>
	Kind string `yaml:"kind" json:"kind"`
	// At is when it starts, measured from the end of the warm-up.
	At Duration `yaml:"at,omitempty" json:"at,omitempty" range:"[0s,720h]" unit:"after the warm-up"`
	// Duration is how long the component stays down (restart time) or the
	// fault lasts; 0 means until the end of the run.
	Duration Duration      `yaml:"duration,omitempty" json:"duration,omitempty" range:"[0s,720h]" unit:"0 = until the end of the run"`
	Target   FailureTarget `yaml:"target,omitempty" json:"target,omitempty"`
	// Peer is the other side of a network fault (default: every other node).
	Peer *FailureTarget `yaml:"peer,omitempty" json:"peer,omitempty"`
	// EndpointDelay is how long until load balancers stop picking the
	// failed pod or replica (readiness / node-monitor grace); defaults:
	// 1s for waypoint and sidecar crashes, 40s for node loss.
	EndpointDelay Duration `yaml:"endpoint_delay,omitempty" json:"endpoint_delay,omitempty" range:"(0s,24h]"`
	// ReplaceAfter: node-loss replacement pods are ready elsewhere after this.
	ReplaceAfter Duration `yaml:"replace_after,omitempty" json:"replace_after,omitempty" range:"(0s,24h]"`
	// Drain is the drain deadline after SIGTERM (ztunnel-upgrade default
	// 25s, waypoint-rollout default 5s).
	Drain          Duration `yaml:"drain,omitempty" json:"drain,omitempty" range:"(0s,24h]"`
	MaxUnavailable int      `yaml:"max_unavailable,omitempty" json:"max_unavailable,omitempty" range:"[1,100000]" unit:"nodes at a time"`
	Latency        Duration `yaml:"latency,omitempty" json:"latency,omitempty" range:"[0s,1h]" unit:"added one-way latency"` // network: added one-way latency
	Loss           float64  `yaml:"loss,omitempty" json:"loss,omitempty" range:"[0,1]" unit:"probability per transfer"`      // network: loss probability per transfer
	Partition      bool     `yaml:"partition,omitempty" json:"partition,omitempty"`
	From           string   `yaml:"from,omitempty" json:"from,omitempty"`                                                                                                                       // traffic-surge: source workload glob
	To             string   `yaml:"to,omitempty" json:"to,omitempty"`                                                                                                                           // traffic-surge: destination service glob
	Factor         float64  `yaml:"factor,omitempty" json:"factor,omitempty" range:"(0,1000]" unit:"rate multiplier" why:"every arrival is simulated; the event budget bounds rate × duration"` // traffic-surge: rate multiplier
}

// FailureTarget selects what fails. Give what the kind needs: nodes
// (node, nodes, zone, or service = the node of its first pod), a waypoint
// (waypoint ns/name, or service = the waypoint serving it in the design
// under test), or a pod (pod ns/name, or service = its first pod).
type FailureTarget struct {
	Node     string   `yaml:"node,omitempty" json:"node,omitempty"`
	Nodes    []string `yaml:"nodes,omitempty" json:"nodes,omitempty"`
	Zone     string   `yaml:"zone,omitempty" json:"zone,omitempty"`
	Waypoint string   `yaml:"waypoint,omitempty" json:"waypoint,omitempty"`
	Service  string   `yaml:"service,omitempty" json:"service,omitempty"`
	Pod      string   `yaml:"pod,omitempty" json:"pod,omitempty"`
	Replicas []int    `yaml:"replicas,omitempty" json:"replicas,omitempty" range:"[0,999]" unit:"waypoint replica index"` // waypoint replica indices (default [0])
}

// WhatIfSpec is an alternative design to run under the same failures.
type WhatIfSpec struct {
	Name string `yaml:"name" json:"name"`
	// Mode is the dataplane mode of the design (default: the scenario's
	// first mode).
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
	// WaypointScope replaces the spec's waypoints in ambient+waypoint
	// mode: namespace (one shared per namespace) or per-service (one
	// dedicated waypoint per service).
	WaypointScope    string `yaml:"waypoint_scope,omitempty" json:"waypoint_scope,omitempty"`
	WaypointReplicas int    `yaml:"waypoint_replicas,omitempty" json:"waypoint_replicas,omitempty" range:"[1,1000]" unit:"replicas per waypoint"`
	// WaypointAutoscale overrides mesh.waypoint_autoscale for the design.
	WaypointAutoscale *AutoscaleSpec `yaml:"waypoint_autoscale,omitempty" json:"waypoint_autoscale,omitempty"`
	// TrafficDistribution overrides mesh.traffic_distribution (PreferClose).
	TrafficDistribution string `yaml:"traffic_distribution,omitempty" json:"traffic_distribution,omitempty"`
}

// AutoscaleSpec is HPA-like waypoint scale-out.
type AutoscaleSpec struct {
	MinReplicas int `yaml:"min_replicas,omitempty" json:"min_replicas,omitempty" range:"[1,1000]" unit:"replicas"` // serving at the start (default 1)
	MaxReplicas int `yaml:"max_replicas" json:"max_replicas" range:"[1,1000]" unit:"replicas"`
	// TargetUtilisation is the worker threads' busy fraction the
	// autoscaler aims for (default 0.7).
	TargetUtilisation float64 `yaml:"target_utilisation,omitempty" json:"target_utilisation,omitempty" range:"(0,1]" unit:"busy fraction of worker threads"`
	// Delay is from the scaling decision until the new replica serves
	// (default 10s: scheduling, start, readiness, endpoint push).
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty" range:"[0s,24h]"`
	// Period is the controller's sync period (default 15s).
	Period Duration `yaml:"period,omitempty" json:"period,omitempty" range:"[1s,24h]" unit:"controller sync period" why:"HPA syncs at most once a second"`
}

func (a *AutoscaleSpec) validate(path string, ferr func(field, format string, a ...any) error) error {
	if a == nil {
		return nil
	}
	if a.MinReplicas == 0 {
		a.MinReplicas = 1
	}
	if a.TargetUtilisation == 0 {
		a.TargetUtilisation = 0.7
	}
	if a.Delay == 0 {
		a.Delay = Duration(10 * sim.Second)
	}
	if a.MinReplicas < 1 || a.MaxReplicas < a.MinReplicas {
		return ferr(path+".max_replicas", "want 1 <= min_replicas <= max_replicas, e.g. max_replicas: 4")
	}
	if a.TargetUtilisation <= 0 || a.TargetUtilisation > 1 {
		return ferr(path+".target_utilisation", "want a fraction in (0, 1], e.g. 0.7")
	}
	if a.Delay < 0 || a.Period < 0 {
		return ferr(path+".delay", "negative duration")
	}
	return nil
}

func (a *AutoscaleSpec) model() *models.Autoscale {
	if a == nil {
		return nil
	}
	return &models.Autoscale{Min: a.MinReplicas, Target: a.TargetUtilisation, Delay: a.Delay.T(), Period: a.Period.T()}
}

// autoscaleSpec gives every waypoint the autoscaler's maximum replicas
// (the model serves from the minimum and scales up into the rest).
func autoscaleSpec(sp *topology.Spec, a *AutoscaleSpec) {
	if a == nil {
		return
	}
	for i := range sp.Namespaces {
		ns := &sp.Namespaces[i]
		if ns.Waypoint != nil {
			ns.Waypoint.Replicas = a.MaxReplicas
		}
		for j := range ns.Waypoints {
			ns.Waypoints[j].Replicas = a.MaxReplicas
		}
	}
}

func (t *FailureTarget) empty() bool {
	return t.Node == "" && len(t.Nodes) == 0 && t.Zone == "" && t.Waypoint == "" && t.Service == "" && t.Pod == ""
}

func (t *FailureTarget) String() string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	add("node", t.Node)
	add("nodes", strings.Join(t.Nodes, ","))
	add("zone", t.Zone)
	add("waypoint", t.Waypoint)
	add("service", t.Service)
	add("pod", t.Pod)
	if len(t.Replicas) > 0 {
		add("replicas", fmt.Sprint(t.Replicas))
	}
	if len(parts) == 0 {
		return "all"
	}
	return strings.Join(parts, " ")
}

// fieldErr reports a scenario error at a field path (the validators'
// ferr).
type fieldErr = func(field, format string, a ...any) error

func (s *Scenario) validateFailures(ferr fieldErr) error {
	if err := s.validateSLO(ferr); err != nil {
		return err
	}
	if err := s.validateMeshOptions(ferr); err != nil {
		return err
	}
	names := map[string]bool{}
	for i := range s.Failures {
		if err := s.validateFailure(i, names, ferr); err != nil {
			return err
		}
	}
	wnames := map[string]bool{}
	for i := range s.WhatIf {
		if err := s.validateWhatIf(i, wnames, ferr); err != nil {
			return err
		}
	}
	if len(s.WhatIf) > 0 && len(s.Failures) == 0 {
		return ferr("what_if", "what-if designs compare failures; add a failures: list")
	}
	return nil
}

// validateSLO checks slo: positive latencies, an error ratio in (0, 1],
// and at least one of them.
func (s *Scenario) validateSLO(ferr fieldErr) error {
	slo := s.SLO
	if slo == nil {
		return nil
	}
	switch {
	case slo.Latency < 0:
		return ferr("slo.latency", "want a positive duration, e.g. latency: 500ms")
	case slo.P99 < 0:
		return ferr("slo.p99", "want a positive duration, e.g. p99: 25ms")
	case slo.ErrorRatio != nil && !(*slo.ErrorRatio > 0 && *slo.ErrorRatio <= 1):
		return ferr("slo.error_ratio", "want a fraction above 0 and at most 1, e.g. error_ratio: 0.001")
	case slo.Latency == 0 && slo.P99 == 0 && slo.ErrorRatio == nil:
		return ferr("slo.latency", "want a positive duration, e.g. latency: 500ms (or set p99 / error_ratio)")
	}
	return nil
}

// validateMeshOptions checks the mesh's resilience options: retry budget,
// proxy retries, waypoint autoscaling and traffic distribution.
func (s *Scenario) validateMeshOptions(ferr fieldErr) error {
	if s.Mesh.RetryBudget < 0 || s.Mesh.RetryBudget > 1 {
		return ferr("mesh.retry_budget", "want a fraction between 0 and 1, e.g. 0.2")
	}
	if s.Mesh.ProxyRetries != nil && *s.Mesh.ProxyRetries < 0 {
		return ferr("mesh.proxy_retries", "negative retries")
	}
	if err := s.Mesh.WaypointAutoscale.validate("mesh.waypoint_autoscale", ferr); err != nil {
		return err
	}
	if td := s.Mesh.TrafficDistribution; td != "" && td != "PreferClose" {
		return ferr("mesh.traffic_distribution", "want PreferClose (or leave it out), got %q", td)
	}
	return nil
}

// unknownName words a name that is not one of valid: `unknown what "got"
// (did you mean "x"?)`, or with the valid names listed when none is close.
func unknownName(what, got string, valid []string) string {
	if c := yamlcheck.DidYouMean(got, valid); c != "" {
		return fmt.Sprintf("unknown %s %q%s", what, got, c)
	}
	return fmt.Sprintf("unknown %s %q; want one of %s", what, got, strings.Join(valid, ", "))
}

// validateFailure checks failures[i] (names holds the names seen so far;
// an unnamed failure is named kind-N): a known kind, a unique name, a start
// inside the measured window, and the target and fields its kind needs.
func (s *Scenario) validateFailure(i int, names map[string]bool, ferr fieldErr) error {
	f := &s.Failures[i]
	p := fmt.Sprintf("failures[%d]", i)
	if !slices.Contains(FailureKinds, f.Kind) {
		return ferr(p+".kind", "%s", unknownName("failure kind", f.Kind, FailureKinds))
	}
	if f.Name == "" {
		f.Name = fmt.Sprintf("%s-%d", f.Kind, i+1)
	}
	if names[f.Name] {
		return ferr(p+".name", "failure name %q used twice; names must be unique", f.Name)
	}
	names[f.Name] = true
	if f.At < 0 || f.Duration < 0 {
		return ferr(p+".at", "negative time")
	}
	if f.Kind != FailNodeCompromise && f.At >= s.Duration {
		return ferr(p+".at", "starts at %v, after the measured window (%v) ends; schedule it earlier", f.At.T(), s.Duration.T())
	}
	if err := validateFailureKind(f, p, ferr); err != nil {
		return err
	}
	for _, r := range f.Target.Replicas {
		if r < 0 {
			return ferr(p+".target.replicas", "negative replica index")
		}
	}
	return nil
}

// validateFailureKind checks the target and fields failure f's kind
// needs; p is its field path.
func validateFailureKind(f *FailureSpec, p string, ferr fieldErr) error {
	t := &f.Target
	nodeSel := t.Node != "" || len(t.Nodes) > 0 || t.Zone != "" || t.Service != ""
	switch f.Kind {
	case models.FailZtunnelCrash, models.FailNodeLoss, models.FailCNIBypass, FailNodeCompromise:
		if !nodeSel {
			return ferr(p+".target", "%s needs nodes: target: {node: node-1} (or nodes, zone, or service for the node of its first pod)", f.Kind)
		}
	case models.FailNetwork:
		if !nodeSel {
			return ferr(p+".target", "network needs one side: target: {zone: zone-a} (peer defaults to every other node)")
		}
		if f.Latency <= 0 && f.Loss <= 0 && !f.Partition {
			return ferr(p, "network needs latency, loss or partition: true")
		}
		if f.Loss < 0 || f.Loss > 1 {
			return ferr(p+".loss", "want a probability between 0 and 1")
		}
	case models.FailWaypointCrash, models.FailWaypointRollout:
		if t.Waypoint == "" && t.Service == "" {
			return ferr(p+".target", "%s needs target: {waypoint: ns/name} or {service: ns/name} (the waypoint serving it)", f.Kind)
		}
	case models.FailSidecarCrash:
		if t.Pod == "" && t.Service == "" {
			return ferr(p+".target", "sidecar-crash needs target: {pod: ns/name} or {service: ns/name} (its first pod)")
		}
	case models.FailIstiodOutage:
		if f.Duration <= 0 {
			return ferr(p+".duration", "istiod-outage needs a duration > 0")
		}
	case models.FailTrafficSurge:
		if f.Factor <= 0 {
			return ferr(p+".factor", "traffic-surge needs factor > 0, e.g. factor: 5")
		}
		if f.From == "" && f.To == "" {
			return ferr(p, "traffic-surge needs from and/or to (edge globs), e.g. to: shop/search")
		}
	}
	return nil
}

// validateWhatIf checks what_if[i] (wnames holds the names seen so far): a
// unique name, a known mode, and changes its topology can take.
func (s *Scenario) validateWhatIf(i int, wnames map[string]bool, ferr fieldErr) error {
	w := &s.WhatIf[i]
	p := fmt.Sprintf("what_if[%d]", i)
	if w.Name == "" {
		return ferr(p+".name", "every what-if design needs a name")
	}
	if wnames[w.Name] {
		return ferr(p+".name", "design name %q used twice", w.Name)
	}
	wnames[w.Name] = true
	if w.Mode != "" && !slices.Contains(ModeNames, w.Mode) {
		return ferr(p+".mode", "%s", unknownName("mode", w.Mode, ModeNames))
	}
	if s.spec == nil && w.Mode != "" && w.Mode != ModeAsManifests {
		return ferr(p+".mode", "a manifest topology runs only as-manifests")
	}
	if s.spec == nil && (w.WaypointScope != "" || w.WaypointReplicas != 0 || w.WaypointAutoscale != nil) {
		return ferr(p, "waypoint_scope, waypoint_replicas and waypoint_autoscale rewrite a generative topology.spec; edit the manifests for a manifest topology")
	}
	switch w.WaypointScope {
	case "", "namespace", "per-service":
	default:
		return ferr(p+".waypoint_scope", "want namespace or per-service, got %q", w.WaypointScope)
	}
	if w.WaypointReplicas < 0 {
		return ferr(p+".waypoint_replicas", "negative replicas")
	}
	if err := w.WaypointAutoscale.validate(p+".waypoint_autoscale", ferr); err != nil {
		return err
	}
	if td := w.TrafficDistribution; td != "" && td != "PreferClose" {
		return ferr(p+".traffic_distribution", "want PreferClose (or leave it out), got %q", td)
	}
	return nil
}

// hasSimFailures reports whether any failure is simulated (not static).
func (s *Scenario) hasSimFailures() bool {
	for _, f := range s.Failures {
		if f.Kind != FailNodeCompromise {
			return true
		}
	}
	return false
}

// resolveNodes returns the node names a target selects in top.
func (t *FailureTarget) resolveNodes(top *topology.Topology) ([]string, error) {
	set := map[string]bool{}
	if t.Node != "" {
		set[t.Node] = true
	}
	for _, n := range t.Nodes {
		set[n] = true
	}
	if t.Zone != "" {
		found := false
		for _, n := range top.Nodes {
			if n.Zone == t.Zone {
				set[n.Name] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("no node in zone %q", t.Zone)
		}
	}
	if t.Service != "" && t.Node == "" && len(t.Nodes) == 0 && t.Zone == "" {
		s := serviceByID(top, t.Service)
		if s == nil {
			return nil, fmt.Errorf("no service %q", t.Service)
		}
		eps := top.EndpointsOf(s)
		if len(eps) == 0 {
			return nil, fmt.Errorf("service %q has no pods", t.Service)
		}
		set[eps[0].Node] = true
	}
	for n := range set {
		ok := false
		for _, tn := range top.Nodes {
			ok = ok || tn.Name == n
		}
		if !ok {
			var names []string
			for _, tn := range top.Nodes {
				names = append(names, tn.Name)
			}
			msg := fmt.Sprintf("no node %q", n)
			msg += yamlcheck.DidYouMean(n, names)
			return nil, fmt.Errorf("%s", msg)
		}
	}
	out := sortedKeys(set)
	return out, nil
}

func sortedKeys(m map[string]bool) []string { return slices.Sorted(maps.Keys(m)) }

func serviceByID(top *topology.Topology, id string) *topology.Service {
	for _, s := range top.Services {
		if s.ID() == id {
			return s
		}
	}
	return nil
}

// resolve turns a failure spec into the model's failure for one design.
func (f *FailureSpec) resolve(top *topology.Topology, warm sim.Time) (models.Failure, error) {
	mf := models.Failure{Name: f.Name, Kind: f.Kind, At: warm + f.At.T(), Duration: f.Duration.T(),
		EndpointDelay: f.EndpointDelay.T(), Replace: f.ReplaceAfter.T(), Drain: f.Drain.T(), MaxUnavailable: f.MaxUnavailable,
		Latency: f.Latency.T(), Loss: f.Loss, Partition: f.Partition, From: f.From, To: f.To, Factor: f.Factor,
		Replicas: f.Target.Replicas}
	errf := func(err error) error { return fmt.Errorf("failure %q target: %w", f.Name, err) }
	switch f.Kind {
	case models.FailZtunnelCrash, models.FailNodeLoss, models.FailCNIBypass, models.FailNetwork, models.FailZtunnelUpgrade:
		if f.Kind == models.FailZtunnelUpgrade && f.Target.empty() {
			break
		}
		ns, err := f.Target.resolveNodes(top)
		if err != nil {
			return mf, errf(err)
		}
		mf.Nodes = ns
		if f.Peer != nil {
			ps, err := f.Peer.resolveNodes(top)
			if err != nil {
				return mf, fmt.Errorf("failure %q peer: %w", f.Name, err)
			}
			mf.PeerNodes = ps
		}
	case models.FailWaypointCrash, models.FailWaypointRollout:
		if f.Target.Waypoint != "" {
			for _, w := range top.Waypoints {
				if w.ID() == f.Target.Waypoint {
					mf.Waypoint = w
				}
			}
		} else {
			s := serviceByID(top, f.Target.Service)
			if s == nil {
				return mf, errf(fmt.Errorf("no service %q", f.Target.Service))
			}
			mf.Waypoint = s.Waypoint // nil in designs without one: not applicable
		}
	case models.FailSidecarCrash:
		if f.Target.Pod != "" {
			for _, p := range top.Pods {
				if p.ID() == f.Target.Pod {
					mf.Pods = append(mf.Pods, p)
				}
			}
			if len(mf.Pods) == 0 {
				return mf, errf(fmt.Errorf("no pod %q", f.Target.Pod))
			}
		} else {
			s := serviceByID(top, f.Target.Service)
			if s == nil {
				return mf, errf(fmt.Errorf("no service %q", f.Target.Service))
			}
			if eps := top.EndpointsOf(s); len(eps) > 0 {
				mf.Pods = eps[:1]
			}
		}
	}
	return mf, nil
}

// modelFailures resolves the scenario's simulated failures for a design;
// only (>= 0) keeps just that failure.
func (sc *Scenario) modelFailures(top *topology.Topology, warm sim.Time, only int) ([]models.Failure, error) {
	var out []models.Failure
	for i := range sc.Failures {
		f := &sc.Failures[i]
		if f.Kind == FailNodeCompromise || (only >= 0 && i != only) {
			continue
		}
		mf, err := f.resolve(top, warm)
		if err != nil {
			return nil, &FieldError{File: sc.file, Field: fmt.Sprintf("failures[%d].target", i), Msg: err.Error()}
		}
		out = append(out, mf)
	}
	return out, nil
}

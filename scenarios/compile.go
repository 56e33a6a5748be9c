package scenarios

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
	"github.com/ambientsim/ambientsim/topology"
)

// This file is the single path from a scenario to the model: everything a
// run's models.Config holds comes from here.

// compile is the one place a scenario becomes a models.Config: one mode's
// topology (BuildTopology or BuildDesign) with the scenario's traffic,
// apps, hosts, mesh options and failures, and its sweep point's load.
func (sc *Scenario) compile(top *topology.Topology, prof *models.Profile, mode string, seed uint64, dur, warm sim.Time) (models.Config, error) {
	cfg := models.Config{Topology: top, Profile: prof, Mode: mode, Seed: seed, Duration: dur, Warmup: warm,
		SidecarScope: sc.Mesh.SidecarScope, ConfigChangesPerMinute: sc.Mesh.ConfigChangesPerMinute,
		Apps: map[*topology.Workload]models.AppConfig{}}
	if sc.OpenMetricsEnabled() {
		cfg.SnapshotInterval = sc.Interval()
	}
	if err := sc.machineConfig(&cfg, top); err != nil {
		return cfg, err
	}
	cfg.Ztunnel = proxyConfig(sc.Mesh.Ztunnel, models.Resources{Request: prof.Ztunnel.CPURequest.Value})
	cfg.Waypoint = proxyConfig(sc.Mesh.Waypoint, models.Resources{Request: prof.Waypoint.CPURequest.Value})
	cfg.Sidecar = proxyConfig(sc.Mesh.Sidecar, models.Resources{Request: prof.Sidecar.CPURequest.Value})
	edges, err := sc.compileEdges(top)
	if err != nil {
		return cfg, err
	}
	cfg.Edges = edges
	cfg.Apps = sc.compileApps(top, prof)
	if err := sc.compileExternal(&cfg, top); err != nil {
		return cfg, err
	}
	if err := sc.churnConfig(&cfg, top); err != nil {
		return cfg, err
	}
	return cfg, sc.failureConfig(&cfg, top)
}

// churnConfig passes traffic.churn to the model, resolving its workload
// globs against this mode's topology.
func (sc *Scenario) churnConfig(cfg *models.Config, top *topology.Topology) error {
	c := sc.Traffic.Churn
	if c == nil {
		return nil
	}
	cfg.Churn = models.Churn{PodsPerSecond: c.PodsPerSecond, RolloutsPerHour: c.RolloutsPerHour}
	for i, g := range c.Workloads {
		n := 0
		for _, w := range top.Workloads {
			if !w.System && matchGlob(g, w.ID()) && !slices.Contains(cfg.Churn.Workloads, w) {
				cfg.Churn.Workloads = append(cfg.Churn.Workloads, w)
				n++
			}
		}
		if n == 0 {
			field := fmt.Sprintf("traffic.churn.workloads[%d]", i)
			var doc yaml.Node
			_ = yaml.Unmarshal(sc.raw, &doc) // it parsed once already
			var names []string
			for _, w := range top.Workloads {
				if !w.System {
					names = append(names, w.ID())
				}
			}
			if len(names) > 8 {
				names = append(names[:8], "…")
			}
			return &FieldError{File: sc.file, Line: lineOf(&doc, field), Field: field,
				Msg: fmt.Sprintf("%q matches no workload (workloads: %s)", g, strings.Join(names, ", "))}
		}
	}
	return cfg.Churn.Validate()
}

// compileDesign is compile for a what-if design: its own waypoint
// autoscaling and traffic distribution, no metrics snapshots.
func (sc *Scenario) compileDesign(w WhatIfSpec, top *topology.Topology, prof *models.Profile, mode string, seed uint64, dur, warm sim.Time) (models.Config, error) {
	cfg, err := sc.compile(top, prof, mode, seed, dur, warm)
	if err != nil {
		return cfg, err
	}
	cfg.SnapshotInterval = 0
	if w.WaypointAutoscale != nil {
		cfg.WaypointAutoscale = w.WaypointAutoscale.model()
	}
	if w.TrafficDistribution == "PreferClose" {
		cfg.PreferClose = true
	}
	return cfg, nil
}

// compileEdges gives every call-graph edge its traffic. The scenario's
// traffic owns the offered rate: an edge's rate is the one of the last
// traffic edge matching it, else traffic.defaults.rate, else the rate its
// topology.spec call declares; a sweep point's load multiplies it.
func (sc *Scenario) compileEdges(top *topology.Topology) ([]models.EdgeConfig, error) {
	var out []models.EdgeConfig
	serves := map[*topology.Workload]bool{}
	for _, c := range top.Calls {
		for _, s := range top.Services {
			if s == c.To {
				for _, p := range top.EndpointsOf(s) {
					if p.Workload != nil {
						serves[p.Workload] = true
					}
				}
			}
		}
	}
	for _, c := range top.Calls {
		if c.From == nil || c.To == nil {
			continue
		}
		e := edgeConfig{EdgeConfig: models.EdgeConfig{Call: c, Rate: c.RateRPS, Pool: 4, KeepAlive: true}}
		if serves[c.From] {
			e.FanOut = 1
		}
		e.apply(&sc.Traffic.Defaults)
		for i := range sc.Traffic.Edges {
			t := &sc.Traffic.Edges[i]
			if matchGlob(t.From, c.From.ID()) && matchGlob(t.To, c.To.ID()) {
				e.apply(t)
			}
		}
		if e.load != nil {
			if e.Rate > 0 {
				return nil, &FieldError{File: sc.file, Field: "traffic", Msg: fmt.Sprintf("edge %s -> %s has an open-loop rate of %g/s (topology calls or traffic) and a load generator: set its rate to 0, or drop the load section", c.From.ID(), c.To.ID(), e.Rate)}
			}
			e.Generator = e.load.generator(&e.EdgeConfig, e.sizeSet)
			e.Generator.QPS *= sc.loadScale()
		}
		e.Rate *= sc.loadScale()
		if e.Arrival == models.ArrivalOnOff && e.Rate > 0 && (e.On <= 0 || e.Off <= 0) {
			return nil, &FieldError{File: sc.file, Field: "traffic", Msg: fmt.Sprintf("edge %s -> %s: on-off arrivals need on_period and off_period, e.g. on_period: 2s, off_period: 8s", c.From.ID(), c.To.ID())}
		}
		out = append(out, e.EdgeConfig)
	}
	return out, nil
}

// edgeConfig is a model edge being compiled from the scenario's traffic.
type edgeConfig struct {
	models.EdgeConfig
	load    *LoadSpec // the last matching load section
	sizeSet bool      // a request size was given
}

// apply overrides the edge with the fields a traffic entry sets.
func (e *edgeConfig) apply(t *EdgeTraffic) {
	if t.Load != nil {
		e.load = t.Load
	}
	if t.RequestSize != nil {
		e.sizeSet = true
	}
	if t.Rate != nil {
		e.Rate = *t.Rate
	}
	if t.Arrival != "" {
		e.Arrival = t.Arrival
	}
	if t.On > 0 {
		e.On = t.On.T()
	}
	if t.Off > 0 {
		e.Off = t.Off.T()
	}
	if t.ArrivalStream != "" {
		e.ArrivalStream = t.ArrivalStream
	}
	if t.FanOut != nil {
		e.FanOut = *t.FanOut
	}
	if t.Protocol != "" {
		e.Protocol = protocolOf(t.Protocol)
	}
	switch t.Connections {
	case "keep-alive":
		e.KeepAlive = true
	case "per-request":
		e.KeepAlive = false
	}
	if t.Pool > 0 {
		e.Pool = t.Pool
	}
	if t.RequestSize != nil {
		e.ReqSize = t.RequestSize.Spec
	}
	if t.ResponseSize != nil {
		e.RespSize = t.ResponseSize.Spec
	}
	if t.LoadBalancing != "" {
		e.LB = t.LoadBalancing
	}
	if t.Timeout > 0 {
		e.Timeout = t.Timeout.T()
	}
	if t.Retries != nil {
		e.Retries = *t.Retries
	}
	if t.Method != "" {
		e.Method = t.Method
	}
	if t.Path != "" {
		e.Path = t.Path
	}
	if len(t.Requests) > 0 {
		e.Requests = make([]models.RequestClass, len(t.Requests))
		for i, r := range t.Requests {
			e.Requests[i] = models.RequestClass{Name: r.Name, Weight: r.Weight, Method: r.Method, Path: r.Path, Host: r.Host, Headers: r.Headers, Token: r.Token}
		}
	}
}

// compileApps gives every workload its app behaviour (the last matching
// apps entry wins per field; none: the profile's defaults).
func (sc *Scenario) compileApps(top *topology.Topology, prof *models.Profile) map[*topology.Workload]models.AppConfig {
	out := map[*topology.Workload]models.AppConfig{}
	for _, w := range top.Workloads {
		var ac models.AppConfig
		for _, a := range sc.Apps {
			if matchGlob(a.Workload, w.ID()) {
				if a.ServiceTime != nil {
					ac.ServiceTime = a.ServiceTime.Spec
				}
				if a.Concurrency > 0 {
					ac.Concurrency = a.Concurrency
				}
				if a.CPUFraction != nil {
					ac.CPUFraction = a.CPUFraction
				}
				if a.Resources != nil {
					ac.Resources = a.Resources.resources(models.Resources{Request: prof.App.CPURequest.Value})
				}
			}
		}
		out[w] = ac
	}
	return out
}

// compileExternal gives the ServiceEntry hosts the call graph names their
// external server (the last matching external_hosts entry wins per
// field). An entry matching no ServiceEntry host is an error.
func (sc *Scenario) compileExternal(cfg *models.Config, top *topology.Topology) error {
	if len(sc.ExternalHosts) == 0 {
		return nil
	}
	hosts := top.ServiceEntryHosts()
	for i, x := range sc.ExternalHosts {
		n := 0
		for _, h := range hosts {
			if matchGlob(x.Host, h) {
				n++
			}
		}
		if n == 0 {
			field := fmt.Sprintf("external_hosts[%d].host", i)
			var doc yaml.Node
			_ = yaml.Unmarshal(sc.raw, &doc) // it parsed once already
			known := "none: the topology declares no ServiceEntry"
			if len(hosts) > 0 {
				known = strings.Join(hosts, ", ")
			}
			return &FieldError{File: sc.file, Line: lineOf(&doc, field), Field: field,
				Msg: fmt.Sprintf("%q matches no ServiceEntry host (name it namespace/host; hosts: %s)", x.Host, known)}
		}
	}
	cfg.External = map[*topology.ServiceEntry]models.ExternalConfig{}
	for _, se := range top.ServiceEntries {
		var xc models.ExternalConfig
		for _, x := range sc.ExternalHosts {
			hit := false
			for _, h := range se.Hosts {
				hit = hit || matchGlob(x.Host, se.Namespace+"/"+h)
			}
			if !hit {
				continue
			}
			if x.ServiceTime != nil {
				xc.ServiceTime = x.ServiceTime.Spec
			}
			if x.RTT > 0 {
				xc.RTT = x.RTT.T()
			}
		}
		cfg.External[se] = xc
	}
	return nil
}

// failureConfig adds the scenario's failures and retry settings to a
// design's model configuration.
func (sc *Scenario) failureConfig(cfg *models.Config, top *topology.Topology) error {
	cfg.ProxyRetries = 2 // Istio's default retry policy on L7 proxies
	if sc.Mesh.ProxyRetries != nil {
		cfg.ProxyRetries = *sc.Mesh.ProxyRetries
	}
	cfg.RetryBudget = sc.Mesh.RetryBudget
	if sc.Mesh.TrafficDistribution == "PreferClose" {
		cfg.PreferClose = true
	}
	if cfg.WaypointAutoscale == nil {
		cfg.WaypointAutoscale = sc.Mesh.WaypointAutoscale.model()
	}
	if !sc.hasSimFailures() {
		return nil
	}
	fs, err := sc.modelFailures(top, cfg.Warmup, -1)
	if err != nil {
		return err
	}
	cfg.Failures = fs
	cfg.Series = true
	return nil
}

func matchGlob(pattern, s string) bool {
	if pattern == "" || pattern == "*" {
		return true
	}
	ok, err := path.Match(pattern, s)
	return err == nil && ok
}

func protocolOf(s string) models.Protocol {
	switch s {
	case "http2":
		return models.HTTP2
	case "grpc":
		return models.GRPC
	case "tcp":
		return models.TCP
	}
	return models.HTTP1
}

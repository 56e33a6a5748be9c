package plots

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// The answer to the scenario's question, stated before anything else.
//
// Nothing here knows a scenario by name. The answer is assembled from
// facets, each derived from what the result contains, in the order a
// reviewer asks about them:
//
//  1. a sweep (sweep.json): the SLO search, sizing and cost answers;
//  2. injected failures: failed and unprotected requests per mode, or per
//     failure when one mode runs several, with reach and duration;
//  3. what-if designs: which alternative fares best under the same failures;
//  4. waypoint bypass: callers whose calls skipped a waypoint and
//     succeeded unchecked, paths that skip one, whether they are refused;
//  5. policy denials: requests refused by the policies in force (the
//     intended outcome, told apart from failures), and the callers that were
//     not affected;
//  6. configuration findings (severity, code, message, fix);
//  7. the comparison of modes: cost (data plane, control plane, mesh total),
//     p99 and its difference to out-of-mesh, the break-even waypoint share,
//     SLO verdicts; or, for one mode, its figures and its calls compared;
//  8. request paths and Gateway API status;
//  9. predicted against observed latency, when the run was compared with a
//     cluster's Prometheus.
//
// The lead is the first facet's headline; every other facet contributes one
// point with its details. A user's own scenario gets the same treatment.

// facet is one part of the answer: a headline with the numbers behind it.
type facet struct {
	headline string
	details  []string
}

// maxAnswerDetails caps the details of one facet; the sections below have
// every row.
const maxAnswerDetails = 8

// answer builds section 1's answer.
func (b *builder) answer() *Answer {
	b.said = map[string]bool{}
	var fs []*facet
	for _, f := range []func() *facet{
		b.sweepFacet,
		b.failureFacet,
		b.whatIfFacet,
		b.bypassFacet,
		b.denialFacet,
		b.findingsFacet,
		b.modesFacet,
		b.pathsFacet,
		b.observedFacet,
	} {
		if x := f(); x != nil && x.headline != "" {
			fs = append(fs, x)
		}
	}
	if len(fs) == 0 {
		return &Answer{Lead: "This result holds no simulated modes, paths, failures or sweep, so there is nothing to answer the question with."}
	}
	a := &Answer{Lead: fs[0].headline, Points: capped(fs[0].details)}
	for _, f := range fs[1:] {
		a.Items = append(a.Items, AnswerItem{Text: f.headline, Details: capped(f.details)})
	}
	return a
}

// capped keeps the first maxAnswerDetails details and says how many more
// there are.
func capped(d []string) []string {
	if len(d) <= maxAnswerDetails {
		return d
	}
	out := append([]string(nil), d[:maxAnswerDetails]...)
	return append(out, fmt.Sprintf("… and %s more (see the sections below).", counti(len(d)-maxAnswerDetails)))
}

// ---------------------------------------------------------------- sweep

func (b *builder) sweepFacet() *facet {
	sw := b.opts.Sweep
	if sw == nil || len(sw.Points) == 0 {
		return nil
	}
	f := &facet{}
	sloText := sweepSLOText(sw)
	if len(sw.Searches) > 0 {
		// One sentence per combination of the other parameters the
		// searches ran at; the first leads.
		var ats []string
		parts := map[string][]string{}
		for _, s := range sw.Searches {
			k := s.At.Key()
			if _, ok := parts[k]; !ok {
				ats = append(ats, k)
			}
			parts[k] = append(parts[k], s.Mode+" "+searchAnswer(s))
		}
		for i, k := range ats {
			at := ""
			if k != "" {
				at = " (at " + strings.ReplaceAll(k, ",", ", ") + ")"
			}
			line := fmt.Sprintf("Largest load within %s%s: %s.", sloText, at, strings.Join(parts[k], "; "))
			if i == 0 {
				f.headline = line
			} else {
				f.details = append(f.details, line)
			}
		}
	} else {
		f.headline = b.sweepPointsHeadline(sw, sloText)
	}
	seen := map[string]bool{}
	for _, z := range sw.Sizing {
		if z.Note != "" && !seen[z.Note] {
			seen[z.Note] = true
			f.details = append(f.details, "Sizing: "+z.Note+".")
		}
	}
	if c := sw.Cost; c != nil && len(c.Rows) > 0 {
		f.details = append(f.details, costTableAnswer(c)...)
	}
	if len(sw.Searches) > 0 {
		if h := b.sweepPointsHeadline(sw, sloText); h != "" {
			f.details = append(f.details, h)
		}
	}
	f.details = append(f.details, fmt.Sprintf("Every figure is the mean of %d replications with its %s confidence interval; %s design points in section Sweeps.",
		sw.Replications, pct(sw.Confidence), counti(len(sw.Points))))
	return f
}

// sweepSLOText is the sweep's SLO in words, e.g. "p99 ≤ 25.0 ms".
func sweepSLOText(sw *results.Sweep) string {
	if sw.SLO == nil || sw.SLO.Threshold <= 0 {
		return "the SLO"
	}
	if sw.SLO.Metric == "error_rate" {
		return "an error rate ≤ " + pct(sw.SLO.Threshold)
	}
	metric, _ := sloMetric(sw)
	return metric + " ≤ " + ms(sw.SLO.Threshold) + " ms"
}

// searchAnswer is one mode's SLO search result in words.
func searchAnswer(s results.SLOSearchResult) string {
	var why []string
	if s.ThroughputRPS.Mean > 0 {
		why = append(why, count(int64(s.ThroughputRPS.Mean+0.5))+" rps")
	}
	switch s.Status {
	case "holds-at-max":
		return "at least " + mult(s.MaxLoad) + "× (" + strings.Join(append(why, "the SLO still holds at the highest load searched"), ", ") + ")"
	case "violated-at-min":
		return "below " + mult(s.MinViolatingLoad) + "× (missed even at the lowest load searched)"
	}
	if s.MinViolatingLoad > 0 {
		why = append(why, "missed at "+mult(s.MinViolatingLoad)+"×")
	}
	if s.Uncertain {
		why = append(why, "uncertain: confidently up to "+mult(s.ConfidentMaxLoad)+"×")
	}
	out := "up to " + mult(s.MaxLoad) + "×"
	if len(why) > 0 {
		out += " (" + strings.Join(why, ", ") + ")"
	}
	return out
}

// sweepPointsHeadline says, per mode, at how many points the SLO holds, or
// the SLO metric at the extremes of the swept parameter without an SLO.
func (b *builder) sweepPointsHeadline(sw *results.Sweep, sloText string) string {
	type tally struct{ holds, violated, uncertain, n int }
	var modes []string
	by := map[string]*tally{}
	judged := false
	for _, p := range sw.Points {
		for _, m := range p.Modes {
			t := by[m.Mode]
			if t == nil {
				t = &tally{}
				by[m.Mode] = t
				modes = append(modes, m.Mode)
			}
			t.n++
			if m.SLO == nil {
				continue
			}
			judged = true
			switch m.SLO.Verdict {
			case "holds":
				t.holds++
			case "violated":
				t.violated++
			default:
				t.uncertain++
			}
		}
	}
	if judged {
		var parts []string
		for _, m := range modes {
			t := by[m]
			parts = append(parts, fmt.Sprintf("%s holds at %s of %s points (%s violated, %s uncertain)", m, counti(t.holds), counti(t.n), counti(t.violated), counti(t.uncertain)))
		}
		return fmt.Sprintf("Across the sweep, %s: %s.", sloText, strings.Join(parts, "; "))
	}
	metric, pick := sloMetric(sw)
	var parts []string
	for _, m := range modes {
		lo, hi := -1.0, 0.0
		for _, p := range sw.Points {
			for _, ms := range p.Modes {
				if ms.Mode != m {
					continue
				}
				v := pick(ms).Mean
				if lo < 0 || v < lo {
					lo = v
				}
				hi = max(hi, v)
			}
		}
		parts = append(parts, fmt.Sprintf("%s %s–%s ms", m, ms(max(lo, 0)), ms(hi)))
	}
	return fmt.Sprintf("No SLO was swept; %s across the %s design points: %s.", metric, counti(len(sw.Points)), strings.Join(parts, "; "))
}

// costTableAnswer states the provisioned cost at the smallest and largest
// cluster size and which mode is cheapest.
func costTableAnswer(c *results.CostTable) []string {
	var sizes []int
	bySize := map[int][]results.CostRow{}
	for _, r := range c.Rows {
		if _, ok := bySize[r.Pods]; !ok {
			sizes = append(sizes, r.Pods)
		}
		bySize[r.Pods] = append(bySize[r.Pods], r)
	}
	sort.Ints(sizes)
	pick := []int{sizes[0]}
	if len(sizes) > 1 {
		pick = append(pick, sizes[len(sizes)-1])
	}
	var out []string
	cheapest := map[string]int{}
	for _, n := range sizes {
		rows := bySize[n]
		best := 0
		for i, r := range rows {
			if r.CPUCores.Mean < rows[best].CPUCores.Mean {
				best = i
			}
		}
		cheapest[rows[best].Mode]++
	}
	for _, n := range pick {
		var parts []string
		for _, r := range bySize[n] {
			parts = append(parts, fmt.Sprintf("%s %s cores / %s GiB", r.Mode, cores(r.CPUCores.Mean), gib(r.MemoryGiB.Mean)))
		}
		out = append(out, fmt.Sprintf("Provisioned mesh cost at %s pods (headroom ×%s): %s.", counti(n), mult(c.Headroom), strings.Join(parts, "; ")))
	}
	// In the table's mode order, never a map's.
	for _, r := range bySize[sizes[0]] {
		if cheapest[r.Mode] == len(sizes) && len(sizes) > 1 {
			out = append(out, fmt.Sprintf("%s is the cheapest mode in CPU at every cluster size from %s to %s pods.", r.Mode, counti(sizes[0]), counti(sizes[len(sizes)-1])))
		}
	}
	return out
}

// ---------------------------------------------------------------- failures

func (b *builder) failureFacet() *facet {
	fs := b.s.Failures
	if len(fs) == 0 {
		return nil
	}
	var modes []string
	type totals struct {
		failed, unprotected, bypassed int64
		services                      map[string]bool
		recoverS                      float64 // the longest time to recover; -1: not by the end
	}
	per := map[string]*totals{}
	for _, f := range fs {
		t := per[f.Mode]
		if t == nil {
			t = &totals{services: map[string]bool{}}
			per[f.Mode] = t
			modes = append(modes, f.Mode)
		}
		t.failed += f.FailedRequests
		t.unprotected += f.Unprotected
		t.bypassed += f.PolicyBypassed
		if f.FailedRequests > 0 || f.Unprotected > 0 {
			for _, svc := range f.Services {
				t.services[svc] = true
			}
		}
		if f.RecoverS < 0 || t.recoverS < 0 {
			t.recoverS = -1
		} else {
			t.recoverS = max(t.recoverS, f.RecoverS)
		}
	}
	f := &facet{}
	switch {
	case len(modes) > 1:
		var parts, unprot []string
		anyUnprot := false
		for _, m := range modes {
			var why []string
			if n := len(per[m].services); n > 0 {
				why = append(why, plural(n, "service")+" hit directly")
			}
			switch r := per[m].recoverS; {
			case r < 0:
				why = append(why, "still failing at the end of the run")
			case r > 0:
				why = append(why, "healthy again "+fixed(r, 1)+" s after the failure began")
			}
			hit := ""
			if len(why) > 0 {
				hit = " (" + strings.Join(why, ", ") + ")"
			}
			parts = append(parts, count(per[m].failed)+" in "+orDash(m)+hit)
			unprot = append(unprot, count(per[m].unprotected)+" in "+orDash(m))
			anyUnprot = anyUnprot || per[m].unprotected > 0
		}
		sep := ", "
		if len(parts) == 2 {
			sep = " vs "
		}
		f.headline = "Requests failed by the injected failures: " + strings.Join(parts, sep) + "."
		if anyUnprot {
			f.headline += " Requests that crossed without mTLS or past an enforcing proxy: " + strings.Join(unprot, sep) + "."
		}
	case len(fs) == 1:
		f.headline = b.failureSentence(fs[0], false)
	default:
		ranked := append([]results.FailureResult(nil), fs...)
		sort.SliceStable(ranked, func(i, j int) bool {
			return ranked[i].FailedRequests+ranked[i].Unprotected > ranked[j].FailedRequests+ranked[j].Unprotected
		})
		t := per[modes[0]]
		switch {
		case t.failed > 0:
			var parts []string
			for _, r := range ranked {
				parts = append(parts, fmt.Sprintf("%s %s", r.Name, count(r.FailedRequests)))
			}
			f.headline = fmt.Sprintf("Failed requests per injected failure%s: %s.", inMode(modes[0]), strings.Join(parts, ", "))
		case t.unprotected > 0:
			f.headline = b.failureSentence(ranked[0], false)
		default:
			f.headline = fmt.Sprintf("None of the %d injected failures failed a request or let one cross unprotected%s.", len(fs), inMode(modes[0]))
		}
	}
	if len(fs) > 1 || len(modes) > 1 {
		for _, x := range fs {
			if d := b.failureSentence(x, true); d != f.headline {
				f.details = append(f.details, d)
			}
		}
	}
	return f
}

// failureSentence describes one failure in one mode: what it failed, what
// crossed unprotected, how far it reached and for how long.
func (b *builder) failureSentence(f results.FailureResult, named bool) string {
	subject := f.Name
	if f.Kind != "" || f.Target != "" {
		subject += " (" + orDash(f.Kind) + " of " + orDash(f.Target) + ")"
	}
	subject += inMode(f.Mode)
	hitNothing := f.FailedRequests == 0 && f.Unprotected == 0 && len(f.Services)+len(f.Instances)+len(f.Nodes)+len(f.Identities) == 0
	if hitNothing {
		if f.Note != "" {
			return subject + ": hits nothing: " + strings.TrimSuffix(f.Note, ".") + "."
		}
		return subject + ": hits nothing."
	}
	var parts []string
	if len(f.Identities)+len(f.Reachable) > 0 {
		parts = append(parts, fmt.Sprintf("%s usable from it, which may call %s (%s)",
			pl(len(f.Identities), "identity", "identities"), plural(len(f.Reachable), "service"), listCapped(f.Reachable, 4)))
	}
	offered := b.offered(f.Mode)
	switch {
	case f.FailedRequests > 0 && offered > 0:
		parts = append(parts, fmt.Sprintf("%s (%s of the %s offered)", failedReqs(f.FailedRequests), pct(ratio(f.FailedRequests, offered)), count(offered)))
	case f.FailedRequests > 0:
		parts = append(parts, failedReqs(f.FailedRequests))
	case len(f.Identities) == 0:
		parts = append(parts, "no failed request")
	}
	if f.Unprotected > 0 {
		u := count(f.Unprotected) + " requests crossed without mTLS or past an enforcing proxy"
		if f.PolicyBypassed > 0 {
			u += ", " + count(f.PolicyBypassed) + " of which a policy in force would have denied"
		}
		parts = append(parts, u)
	}
	if len(f.Services) > 0 {
		parts = append(parts, fmt.Sprintf("%s hit directly (%s)", plural(len(f.Services), "service"), listCapped(f.Services, 4)))
	}
	if len(f.Transitive) > 0 {
		tr := append([]results.Affected(nil), f.Transitive...)
		sort.SliceStable(tr, func(i, j int) bool { return tr[i].FailureFraction > tr[j].FailureFraction })
		var ws []string
		for i, a := range tr {
			if i == 3 {
				break
			}
			ws = append(ws, a.Workload+" "+pct(a.FailureFraction))
		}
		parts = append(parts, fmt.Sprintf("%s lost requests through their calls (%s)", plural(len(f.Transitive), "workload"), strings.Join(ws, ", ")))
	}
	if f.FailedRequests > 0 || len(f.Transitive) > 0 || f.Unprotected > 0 {
		switch {
		case f.DetectS < 0:
			parts = append(parts, "never visible in error rates or latency")
		case f.RecoverS < 0:
			parts = append(parts, "visible after "+fixed(f.DetectS, 1)+" s and still failing at the end of the run")
		case f.RecoverS == 0:
			parts = append(parts, "visible after "+fixed(f.DetectS, 1)+" s")
		default:
			parts = append(parts, "visible after "+fixed(f.DetectS, 1)+" s, healthy again "+fixed(f.RecoverS, 1)+" s after it began")
		}
	}
	return subject + ": " + strings.Join(parts, "; ") + "."
}

// offered is the requests offered in the named mode (the only mode when
// the name is empty).
func (b *builder) offered(mode string) int64 {
	for _, m := range b.s.Modes {
		if m.Mode == mode || (mode == "" && len(b.s.Modes) == 1) {
			return m.Requests.Offered
		}
	}
	return 0
}

// ---------------------------------------------------------------- what-if

func (b *builder) whatIfFacet() *facet {
	ws := b.s.WhatIf
	if len(ws) == 0 {
		return nil
	}
	score := func(w results.WhatIfResult) [3]float64 {
		return [3]float64{float64(w.Failed + w.Unprotected), float64(w.Affected), w.CPUCores}
	}
	less := func(a, c [3]float64) bool {
		for i := range a {
			if a[i] != c[i] {
				return a[i] < c[i]
			}
		}
		return false
	}
	best := 0
	for i := range ws {
		if less(score(ws[i]), score(ws[best])) {
			best = i
		}
	}
	f := &facet{}
	first, top := ws[0], ws[best]
	if best == 0 {
		f.headline = fmt.Sprintf("None of the %s design alternatives does better under the same failures than %s: %s.",
			counti(len(ws)-1), first.Design, whatIfFigures(first))
	} else {
		f.headline = fmt.Sprintf("Under the same failures, %s does best: %s; %s: %s.", top.Design, whatIfFigures(top), first.Design, whatIfFigures(first))
	}
	for _, w := range ws {
		d := w.Design
		if w.Mode != "" && !strings.Contains(w.Design, w.Mode) {
			d += " (" + w.Mode + ")"
		}
		line := d + ": " + whatIfFigures(w) + ", p99 " + ms(w.P99Ms) + " ms"
		if w.Failed == 0 && w.Unprotected == 0 && w.Affected == 0 {
			line += "; contains the failures"
		}
		f.details = append(f.details, line+".")
	}
	return f
}

func whatIfFigures(w results.WhatIfResult) string {
	s := fmt.Sprintf("%s, %s affected", failedReqs(w.Failed), plural(w.Affected, "workload"))
	if w.Unprotected > 0 {
		s += ", " + count(w.Unprotected) + " unprotected requests"
	}
	if w.Identities+w.Reachable > 0 {
		s += fmt.Sprintf(", %s reachable with stolen credentials", plural(w.Reachable, "service"))
	}
	return s + ", mesh CPU " + cores(w.CPUCores) + " cores"
}

// ---------------------------------------------------------------- bypass

// bypassCodes are findings that mean a policy can be got around.
var bypassCodes = map[string]bool{"WAYPOINT_BYPASS": true, "SERVICE_ALIAS_BYPASS": true}

func (b *builder) bypassFacet() *facet {
	s := b.s
	type edgeBypass struct {
		mode, src, dst  string
		bypassed, calls int64
	}
	var eb []edgeBypass
	for _, m := range s.Modes {
		for _, e := range m.Edges {
			if e.Bypassed > 0 {
				eb = append(eb, edgeBypass{m.Mode, e.Source, e.Destination, e.Bypassed, e.Calls})
			}
		}
	}
	var open, closed []results.PathPair
	for _, p := range s.Paths.Pairs {
		if !p.Bypass {
			continue
		}
		if p.Denied != "" {
			closed = append(closed, p)
		} else {
			open = append(open, p)
		}
	}
	f := &facet{}
	switch {
	case len(eb) > 0:
		callers := map[string]bool{}
		var parts []string
		for _, e := range eb {
			callers[e.src] = true
			mode := ""
			if len(s.Modes) > 1 {
				mode = " in " + e.mode
			}
			parts = append(parts, fmt.Sprintf("%s → %s%s: %s of its %s calls succeeded without passing the waypoint%s",
				e.src, e.dst, mode, count(e.bypassed), count(e.calls), b.enforcerText(e.src, e.dst)))
		}
		f.headline = fmt.Sprintf("%s a waypoint: %s.", pl(len(callers), "caller gets around", "callers get around"), strings.Join(parts, "; "))
	case len(open) > 0:
		var parts []string
		for _, p := range open {
			parts = append(parts, fmt.Sprintf("%s → %s:%d%s", p.Source, p.Destination, p.Port, b.enforcerText(p.Source, p.Destination)))
		}
		f.headline = fmt.Sprintf("%s the waypoint that serves the destination, and nothing refuses %s: %s.",
			pl(len(open), "path skips", "paths skip"), pl0(len(open), "it", "them"), strings.Join(parts, "; "))
	case len(closed) > 0:
		var parts []string
		for _, p := range closed {
			by := ""
			if p.DeniedBy != "" {
				by = " by " + p.DeniedBy
			}
			parts = append(parts, fmt.Sprintf("%s → %s:%d is refused%s (%s)", p.Source, p.Destination, p.Port, by, strings.TrimSuffix(p.Denied, ".")))
		}
		f.headline = "No request gets around a waypoint: every path that skips one is refused. " + strings.Join(parts, "; ") + "."
	default:
		return nil
	}
	if len(eb) > 0 && len(open) > 0 {
		for _, p := range open {
			f.details = append(f.details, fmt.Sprintf("Path %s → %s:%d skips the waypoint (%s).", p.Source, p.Destination, p.Port, strings.Join(p.Hops, " → ")))
		}
	}
	for _, fd := range s.Paths.Findings {
		if bypassCodes[fd.Code] && fd.Fix != "" {
			b.said[findingKey(fd)] = true
			f.details = append(f.details, "Fix ("+fd.Code+" "+fd.Source+" → "+fd.Destination+"): "+strings.TrimSuffix(fd.Fix, ".")+".")
			break
		}
	}
	return f
}

// pl is n with the singular or plural phrase, e.g. "1 path skips" or
// "2 paths skip".
func pl(n int, one, many string) string { return counti(n) + " " + pl0(n, one, many) }

// pl0 is the singular or plural phrase alone.
func pl0(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// enforcerText names the policy a bypass finding on (src, dst) is about and
// where that policy is enforced, e.g. ", the only enforcer of
// AuthorizationPolicy payments/admin (waypoint/payments/waypoint)".
func (b *builder) enforcerText(src, dst string) string {
	for _, fd := range b.s.Paths.Findings {
		if !bypassCodes[fd.Code] || fd.Source != src || fd.Destination != dst || fd.Policy == "" {
			continue
		}
		b.said[findingKey(fd)] = true
		for _, pl := range b.s.Paths.Placements {
			if pl.Policy != fd.Policy {
				continue
			}
			if len(pl.By) == 1 {
				return fmt.Sprintf(" (%s %s is enforced only by %s; finding %s)", pl.Kind, pl.Policy, pl.By[0], fd.Code)
			}
			if len(pl.By) > 1 {
				return fmt.Sprintf(" (%s %s is enforced by %s; finding %s)", pl.Kind, pl.Policy, strings.Join(pl.By, ", "), fd.Code)
			}
		}
		return fmt.Sprintf(" (policy %s; finding %s)", fd.Policy, fd.Code)
	}
	return ""
}

// ---------------------------------------------------------------- denials

// Policy denials: the policies in force refusing a request. They are the
// intended outcome of a policy, not a failure of the mesh.
var denialCauses = map[string]string{
	"l7_denied_403":       "HTTP 403 from an L7 authorization policy",
	"l4_denied_reset":     "connection reset by an L4 authorization policy",
	"network_policy_drop": "dropped by a NetworkPolicy",
}

// dependencyCause is a caller's 500 because a call it made failed: it
// follows from another cause and is not one of its own.
const dependencyCause = "dependency_failed_500"

func isDenial(cause string) bool {
	_, ok := denialCauses[cause]
	return ok || strings.HasPrefix(cause, "l4_denied") || strings.HasPrefix(cause, "l7_denied")
}

// requestSplit divides a mode's failed requests into policy denials and
// failures. When the run's errors mix denials with other causes the split
// per request is unknown: then every failed request counts as a failure
// and mixed is set.
type requestSplit struct {
	denied, failed int64
	denials        []results.ErrorCount // the denial causes, in the result's order
	others         []results.ErrorCount // the other causes (dependency failures left out)
	mixed          bool
}

func splitFailures(m results.ModeResult) requestSplit {
	var sp requestSplit
	for _, e := range m.Errors {
		switch {
		case e.Count == 0:
		case isDenial(e.Cause):
			sp.denials = append(sp.denials, e)
		case e.Cause != dependencyCause:
			sp.others = append(sp.others, e)
		}
	}
	switch {
	case len(sp.denials) > 0 && len(sp.others) == 0:
		sp.denied = m.Requests.Failed
	case len(sp.denials) > 0:
		sp.failed, sp.mixed = m.Requests.Failed, true
	default:
		sp.failed = m.Requests.Failed
	}
	return sp
}

func causesText(es []results.ErrorCount) string {
	var parts []string
	for _, e := range es {
		name := e.Cause
		if d, ok := denialCauses[e.Cause]; ok {
			name = d
		}
		parts = append(parts, name+" "+count(e.Count))
	}
	return strings.Join(parts, ", ")
}

func (b *builder) denialFacet() *facet {
	f := &facet{}
	for _, m := range b.s.Modes {
		sp := splitFailures(m)
		if len(sp.denials) == 0 {
			continue
		}
		in := ""
		if len(b.s.Modes) > 1 {
			in = " in " + m.Mode
		}
		if sp.mixed {
			f.headline = joinSentence(f.headline, fmt.Sprintf("%s requests failed%s (%s of offered); their causes mix policy denials (%s) with failures (%s), so the error ratio counts them all.",
				count(m.Requests.Failed), in, pct(errorRatio(m)), causesText(sp.denials), causesText(sp.others)))
			continue
		}
		f.headline = joinSentence(f.headline, fmt.Sprintf("%s requests%s (%s of the %s offered) were refused by policy, the intended outcome of the policies in force (%s); no request failed for any other reason.",
			count(sp.denied), in, pct(ratio(sp.denied, m.Requests.Offered)), count(m.Requests.Offered), causesText(sp.denials)))
		var refused, fine []results.EdgeResult
		for _, e := range m.Edges {
			switch {
			case e.Failed > 0:
				refused = append(refused, e)
			case e.Calls > 0 && e.Bypassed == 0:
				fine = append(fine, e)
			}
		}
		sort.SliceStable(refused, func(i, j int) bool { return refused[i].Failed > refused[j].Failed })
		for _, e := range refused {
			f.details = append(f.details, fmt.Sprintf("Refused%s: %s → %s, %s of %s calls.", in, e.Source, e.Destination, count(e.Failed), count(e.Calls)))
		}
		if len(fine) > 0 && len(refused) > 0 {
			var parts []string
			for _, e := range fine {
				parts = append(parts, fmt.Sprintf("%s → %s (%s calls)", e.Source, e.Destination, count(e.Calls)))
			}
			f.details = append(f.details, "Callers with no refused or failed call (and no bypass)"+in+": "+listCapped(parts, 6)+".")
		}
	}
	if f.headline == "" {
		return nil
	}
	return f
}

func joinSentence(a, b string) string {
	if a == "" {
		return b
	}
	return a + " " + b
}

// ---------------------------------------------------------------- findings

func (b *builder) findingsFacet() *facet {
	fs := b.s.Paths.Findings
	if len(fs) == 0 {
		return nil
	}
	bySev := map[string]int{}
	codes := map[string]map[string]int{}
	var codeOrder []string
	for _, f := range fs {
		sev := f.Severity
		if sev == "" {
			sev = "unrated"
		}
		bySev[sev]++
		if codes[sev] == nil {
			codes[sev] = map[string]int{}
		}
		if codes[sev][f.Code] == 0 {
			codeOrder = append(codeOrder, sev+"\x00"+f.Code)
		}
		codes[sev][f.Code]++
	}
	var parts []string
	for _, sev := range []string{"high", "medium", "low", "info", "unrated"} {
		if bySev[sev] == 0 {
			continue
		}
		var cs []string
		for _, k := range codeOrder {
			ks := strings.SplitN(k, "\x00", 2)
			if ks[0] != sev {
				continue
			}
			c := ks[1]
			if n := codes[sev][c]; n > 1 {
				c += " ×" + counti(n)
			}
			cs = append(cs, c)
		}
		parts = append(parts, fmt.Sprintf("%s %s (%s)", counti(bySev[sev]), sev, strings.Join(cs, ", ")))
	}
	sorted := append([]results.Finding(nil), fs...)
	sort.SliceStable(sorted, func(i, j int) bool { return severityRank(sorted[i].Severity) < severityRank(sorted[j].Severity) })
	f := &facet{headline: fmt.Sprintf("%s on the configuration: %s.", plural(len(fs), "finding"), strings.Join(parts, "; "))}
	// The most severe finding the answer has not stated yet (the bypass
	// facet states its own).
	for i, top := range sorted {
		if b.said[findingKey(top)] {
			continue
		}
		if i == 0 {
			f.headline += " The most severe: "
		} else {
			f.headline += " The most severe not stated above: "
		}
		f.headline += top.Code + ": " + strings.TrimSuffix(top.Message, ".") + "."
		if top.Fix != "" {
			f.details = append(f.details, "Fix: "+strings.TrimSuffix(top.Fix, ".")+".")
		}
		// What the configuration does to the traffic of that service.
		if len(b.s.Modes) == 1 && top.Destination != "" {
			for _, sp := range workloadSplits(b.s, b.s.Modes[0]) {
				if strings.Contains(sp, " "+top.Destination+":") {
					b.said["split\x00"+sp] = true
					f.details = append(f.details, "As simulated: "+sp)
				}
			}
		}
		break
	}
	if len(b.s.Readiness) > 0 {
		if n := countStatus(b.s.Readiness, "fail"); n > 0 {
			f.details = append(f.details, fmt.Sprintf("Rollout readiness: %s of %s checks fail (section Rollout readiness).", counti(n), counti(len(b.s.Readiness))))
		}
	}
	f.details = append(f.details, "Every finding with its proof path and fix is in section Request paths and policy findings.")
	return f
}

// findingKey identifies a finding for the answer's bookkeeping.
func findingKey(f results.Finding) string {
	return f.Code + "\x00" + f.Policy + "\x00" + f.Source + "\x00" + f.Destination
}

// ---------------------------------------------------------------- modes

// meshCost is a mode's cost as the CLI and summary.json name it: the data
// plane (proxies), the control plane (istiod) and the mesh total.
type meshCost struct{ dpCPU, dpGiB, cpCPU, cpGiB, totalCPU, totalGiB float64 }

func costOf(m results.ModeResult) meshCost {
	c := meshCost{totalCPU: m.Totals.CPUCores, totalGiB: m.Totals.MemoryGiB}
	c.dpCPU, c.dpGiB = dataPlane(m)
	c.cpCPU, c.cpGiB = controlPlane(m)
	return c
}

func (c meshCost) text(withControlPlane bool) string {
	s := "data plane " + cores(c.dpCPU) + " cores / " + gib(c.dpGiB) + " GiB"
	if withControlPlane && (c.cpCPU > 0 || c.cpGiB > 0) {
		s += ", control plane " + cores(c.cpCPU) + " cores / " + gib(c.cpGiB) + " GiB, mesh total " + cores(c.totalCPU) + " cores / " + gib(c.totalGiB) + " GiB"
	}
	return s
}

func (b *builder) modesFacet() *facet {
	s := b.s
	if len(s.Modes) == 0 {
		return nil
	}
	if len(s.Modes) == 1 {
		return b.singleModeFacet(s.Modes[0])
	}
	f := &facet{}
	// Latency baseline: out-of-mesh when it ran, else none.
	base := -1
	for i, m := range s.Modes {
		if m.Mode == "out-of-mesh" {
			base = i
		}
	}
	var mesh []int
	for i, m := range s.Modes {
		if m.Mode != "out-of-mesh" {
			mesh = append(mesh, i)
		}
	}
	if len(mesh) > 0 {
		lo, hi := mesh[0], mesh[0]
		for _, i := range mesh {
			if costOf(s.Modes[i]).dpCPU < costOf(s.Modes[lo]).dpCPU {
				lo = i
			}
			if costOf(s.Modes[i]).dpCPU > costOf(s.Modes[hi]).dpCPU {
				hi = i
			}
		}
		cl, ch := costOf(s.Modes[lo]), costOf(s.Modes[hi])
		if lo != hi {
			f.headline = fmt.Sprintf("%s costs least: %s, p99 %s; %s costs most: %s (%s the CPU), p99 %s.",
				s.Modes[lo].Mode, cl.text(false), b.p99Text(s.Modes[lo], base), s.Modes[hi].Mode, ch.text(false), times(ch.dpCPU, cl.dpCPU), b.p99Text(s.Modes[hi], base))
		} else {
			f.headline = fmt.Sprintf("%s: %s, p99 %s.", s.Modes[lo].Mode, cl.text(false), b.p99Text(s.Modes[lo], base))
		}
		// Memory may rank the modes differently from CPU.
		mlo := mesh[0]
		for _, i := range mesh {
			if costOf(s.Modes[i]).dpGiB < costOf(s.Modes[mlo]).dpGiB {
				mlo = i
			}
		}
		if mlo != lo {
			f.headline += fmt.Sprintf(" In memory %s is lightest (%s GiB).", s.Modes[mlo].Mode, gib(costOf(s.Modes[mlo]).dpGiB))
		}
	} else {
		f.headline = "Only out-of-mesh ran: there is no mesh cost to compare."
	}
	for i, m := range s.Modes {
		line := m.Mode + ": "
		if m.Mode == "out-of-mesh" {
			line += "no mesh, p99 " + b.p99Text(m, -1)
		} else {
			line += costOf(m).text(true) + "; p99 " + b.p99Text(m, base)
		}
		line += fmt.Sprintf("; %s rps, %s", rps(m.Requests.ThroughputRPS), failedReqs(m.Requests.Failed))
		if i == base {
			line += " (the latency baseline)"
		}
		f.details = append(f.details, line+".")
	}
	if be := breakEven(s.Modes); be != "" {
		f.details = append(f.details, be)
	}
	f.details = append(f.details, b.sloSentence())
	return f
}

// p99Text is a mode's end-to-end p99, with its difference to the baseline
// mode when there is one.
func (b *builder) p99Text(m results.ModeResult, base int) string {
	lat, ok := allLatency(m)
	if !ok {
		return "— (no latency data)"
	}
	out := ms(lat.P99Ms) + " ms"
	if base >= 0 && b.s.Modes[base].Mode != m.Mode {
		if bl, ok := allLatency(b.s.Modes[base]); ok {
			d := lat.P99Ms - bl.P99Ms
			sign := "+"
			if d < 0 {
				sign = "−"
				d = -d
			}
			out += " (" + sign + ms(d) + " ms vs " + b.s.Modes[base].Mode + ")"
		}
	}
	return out
}

// times says how many times a is b, e.g. "3.3×".
func times(a, b float64) string {
	if b <= 0 {
		return "more than"
	}
	return fixed(a/b, 1) + "×"
}

// breakEven finds the waypoint share at which ambient costs as much as
// sidecars, when the run has the three modes that bound it: cost is linear
// in the share of services behind waypoints, from ambient (none) to
// ambient+waypoint (all).
func breakEven(modes []results.ModeResult) string {
	idx := map[string]int{}
	for i, m := range modes {
		idx[m.Mode] = i
	}
	a, okA := idx["ambient"]
	w, okW := idx["ambient+waypoint"]
	sc, okS := idx["sidecar"]
	if !okA || !okW || !okS {
		return ""
	}
	ca, cw, cs := costOf(modes[a]), costOf(modes[w]), costOf(modes[sc])
	one := func(what, unit string, amb, wp, side float64) string {
		switch {
		case side <= amb:
			return what + ": never — sidecars cost no more than ambient without waypoints"
		case wp <= amb || (side-amb)/(wp-amb) >= 1:
			return fmt.Sprintf("%s: never — even with every service behind a waypoint ambient uses less (%s vs %s %s)", what, magnitude(wp), magnitude(side), unit)
		}
		return fmt.Sprintf("%s: at %s of services behind waypoints", what, pct((side-amb)/(wp-amb)))
	}
	return "Break-even waypoint share (cost is linear from ambient, no waypoints, to ambient+waypoint, all services behind one): " +
		one("data plane CPU", "cores", ca.dpCPU, cw.dpCPU, cs.dpCPU) + "; " + one("data plane memory", "GiB", ca.dpGiB, cw.dpGiB, cs.dpGiB) + "."
}

// sloSentence states the SLO verdict per mode, or that none was asked for.
func (b *builder) sloSentence() string {
	if !b.opts.SLO.Set() {
		return "No SLO was given, so no verdict (set slo: {p99: 25ms, error_ratio: 0.001} in the scenario, or pass --slo-p99-ms and --slo-error-ratio to ambientsim report)."
	}
	var meet, miss []string
	for _, m := range b.s.Modes {
		if _, tone := b.verdict(m); tone == "pass" {
			meet = append(meet, m.Mode)
		} else {
			miss = append(miss, m.Mode)
		}
	}
	return fmt.Sprintf("SLO (%s): meets: %s; misses: %s.", b.sloText(), joinOrNone(meet), joinOrNone(miss))
}

// singleModeFacet answers for a run of one mode: its calls compared when
// callers of one service differ markedly (connection reuse, latency), else
// its cost and latency.
func (b *builder) singleModeFacet(m results.ModeResult) *facet {
	f := &facet{}
	summary := fmt.Sprintf("%s: p99 %s end to end at %s rps; %s.", m.Mode, b.p99Text(m, -1), rps(m.Requests.ThroughputRPS), costOf(m).text(true))
	var splits []string
	for _, sp := range workloadSplits(b.s, m) {
		if !b.said["split\x00"+sp] {
			splits = append(splits, sp)
		}
	}
	tel := telemetryText(m)
	switch cmp := edgeContrasts(m.Edges); {
	case len(cmp) > 0:
		f.headline = "Callers of the same service compared (" + m.Mode + "): " + strings.Join(cmp, "; ") + "."
		f.details = append(f.details, summary)
	case len(routed(b.s, splits)) > 0:
		f.headline = strings.Join(routed(b.s, splits), " ")
		splits = unrouted(b.s, splits)
		if tel != "" {
			f.details = append(f.details, tel)
			tel = ""
		}
		f.details = append(f.details, summary)
	default:
		f.headline = summary
	}
	edges := append([]results.EdgeResult(nil), m.Edges...)
	sort.SliceStable(edges, func(i, j int) bool { return edges[i].P99Ms > edges[j].P99Ms })
	for i, e := range edges {
		if i == 6 {
			f.details = append(f.details, fmt.Sprintf("The %d calls with the highest p99 are shown, of %s; every call is in section Latency.", i, counti(len(edges))))
			break
		}
		sp := splitFailures(m)
		f.details = append(f.details, edgeText(e, sp.denied > 0 && sp.failed == 0))
	}
	f.details = append(f.details, splits...)
	if tel != "" {
		f.details = append(f.details, tel)
	}
	f.details = append(f.details, b.sloSentence())
	return f
}

// edgeText describes one call edge; refused says the mode's failed calls
// are all policy denials.
func edgeText(e results.EdgeResult, refused bool) string {
	cat := ""
	if e.Category != "" {
		cat = " (" + e.Category + ")"
	}
	s := fmt.Sprintf("%s → %s%s: p99 %s ms, p50 %s ms, %s calls", e.Source, e.Destination, cat, ms(e.P99Ms), ms(e.P50Ms), count(e.Calls))
	if e.ConnectionsOpened > 0 {
		s += " over " + plural(int(e.ConnectionsOpened), "new connection")
	}
	if e.Handshakes > 0 {
		s += fmt.Sprintf(", %s (%s ms CPU)", plural(int(e.Handshakes), "mTLS handshake"), ms(e.HandshakeCPUMs))
	}
	switch {
	case e.Failed > 0 && refused:
		s += ", " + count(e.Failed) + " refused by policy"
	case e.Failed > 0:
		s += ", " + count(e.Failed) + " failed"
	}
	return s + "."
}

// edgeContrasts compares the callers of each destination that has several,
// when they differ markedly: ten times the connections per call, or a p99
// a fifth apart. That is what a run comparing client behaviour shows.
func edgeContrasts(edges []results.EdgeResult) []string {
	byDst := map[string][]results.EdgeResult{}
	var dsts []string
	for _, e := range edges {
		if e.Calls == 0 || e.Failed > 0 {
			continue // refused or failing calls are fast or slow for reasons of their own
		}
		if _, ok := byDst[e.Destination]; !ok {
			dsts = append(dsts, e.Destination)
		}
		byDst[e.Destination] = append(byDst[e.Destination], e)
	}
	var out []string
	for _, d := range dsts {
		es := byDst[d]
		if len(es) < 2 || len(es) > 6 {
			continue
		}
		minC, maxC, minP, maxP := -1.0, 0.0, -1.0, 0.0
		for _, e := range es {
			c := float64(max(e.ConnectionsOpened, 1)) / float64(e.Calls)
			if minC < 0 || c < minC {
				minC = c
			}
			maxC = max(maxC, c)
			if minP < 0 || e.P99Ms < minP {
				minP = e.P99Ms
			}
			maxP = max(maxP, e.P99Ms)
		}
		// Connection counts matter only when some caller opens at least
		// one per ten calls; a reused pool's 0 or 1 says nothing.
		if (maxC < 0.1 || maxC < 10*minC) && (minP <= 0 || maxP < 1.5*minP) {
			continue
		}
		var parts []string
		for _, e := range es {
			parts = append(parts, fmt.Sprintf("%s p99 %s ms with %s for %s calls and %s (%s ms CPU)", e.Source, ms(e.P99Ms),
				plural(int(e.ConnectionsOpened), "connection"), count(e.Calls), plural(int(e.Handshakes), "mTLS handshake"), ms(e.HandshakeCPUMs)))
		}
		out = append(out, d+": "+strings.Join(parts, " vs "))
	}
	return out
}

// workloadSplits states how requests to a service divide among the
// workloads named after it (<service>-<version>, e.g. reviews-v1 and
// reviews-v2 behind reviews): a canary's split as served.
func workloadSplits(s *results.Summary, m results.ModeResult) []string {
	seen := map[string]int64{}
	var wls []string
	for _, c := range m.Components {
		if c.Kind != "app" || c.RequestsSeen == 0 {
			continue
		}
		w := workloadOf(strings.TrimPrefix(c.Instance, "app/"))
		if _, ok := seen[w]; !ok {
			wls = append(wls, w)
		}
		seen[w] += c.RequestsSeen
	}
	var out []string
	for _, svc := range s.Topology.Services {
		var names []string
		var total int64
		for _, w := range wls {
			if strings.HasPrefix(w, svc.Name+"-") {
				names = append(names, w)
				total += seen[w]
			}
		}
		if len(names) < 2 || total == 0 {
			continue
		}
		var parts []string
		for _, w := range names {
			parts = append(parts, fmt.Sprintf("%s %s", w, pct(ratio(seen[w], total))))
		}
		out = append(out, fmt.Sprintf("Requests served by the workloads named after %s: %s (of %s).", svc.Name, strings.Join(parts, ", "), count(total)))
	}
	return out
}

// workloadOf strips a pod name's generated suffixes: a StatefulSet or
// simulated ordinal (web-0 → web), a Deployment's ReplicaSet and pod hashes
// (reviews-v1-bddc10da94-6a059 → reviews-v1), or a ReplicaSet hash alone.
func workloadOf(pod string) string {
	segs := strings.Split(pod, "-")
	n := len(segs)
	switch {
	case n > 1 && isDigits(segs[n-1]):
		n--
	case n > 2 && len(segs[n-1]) == 5 && isAlnum(segs[n-1]) && isHash(segs[n-2]):
		n -= 2
	case n > 1 && isHash(segs[n-1]):
		n--
	}
	return strings.Join(segs[:n], "-")
}

// isHash reports whether a name segment looks like a ReplicaSet hash: 8
// to 10 lower-case letters and digits, at least one a digit.
func isHash(s string) bool {
	if len(s) < 8 || len(s) > 10 || !isAlnum(s) {
		return false
	}
	return strings.ContainsAny(s, "0123456789")
}

func isAlnum(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'z') {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// routed keeps the splits of services a Gateway API route is parented to
// (a weighted canary): there the split answers whether the route works.
// A plain Service's split across its workloads is only a detail.
func routed(s *results.Summary, splits []string) []string {
	var out []string
	for _, sp := range splits {
		if splitRouted(s, sp) {
			out = append(out, sp)
		}
	}
	return out
}

func unrouted(s *results.Summary, splits []string) []string {
	var out []string
	for _, sp := range splits {
		if !splitRouted(s, sp) {
			out = append(out, sp)
		}
	}
	return out
}

func splitRouted(s *results.Summary, split string) bool {
	for _, st := range s.Paths.Status {
		if !strings.HasSuffix(st.Kind, "Route") {
			continue
		}
		svc := strings.TrimPrefix(st.Parent, "Service/")
		if i := strings.LastIndexByte(svc, ':'); i > 0 {
			svc = svc[:i]
		}
		if svc != "" && strings.Contains(split, " "+svc+":") {
			return true
		}
	}
	return false
}

// telemetryText says which reporters produce Istio's HTTP and TCP metrics.
func telemetryText(m results.ModeResult) string {
	t := m.Telemetry
	if len(t.HTTPMetrics)+len(t.TCPMetrics) == 0 {
		return ""
	}
	http := "no reporter (L4-only paths have no HTTP metrics)"
	if len(t.HTTPMetrics) > 0 {
		http = "reported by " + strings.Join(t.HTTPMetrics, ", ")
	}
	tcp := "no reporter"
	if len(t.TCPMetrics) > 0 {
		tcp = "reported by " + strings.Join(t.TCPMetrics, ", ")
	}
	return fmt.Sprintf("Istio metrics in %s: istio_requests_total %s; istio_tcp_* %s.", m.Mode, http, tcp)
}

// ---------------------------------------------------------------- paths

func (b *builder) pathsFacet() *facet {
	p := b.s.Paths
	if len(p.Pairs) == 0 && len(p.Status) == 0 {
		return nil
	}
	f := &facet{}
	if len(p.Pairs) > 0 {
		cats, per, bypass := pathCategories(p.Pairs)
		var parts []string
		nBypass, nDenied := 0, 0
		for _, c := range cats {
			parts = append(parts, counti(per[c])+" "+c)
			nBypass += bypass[c]
		}
		for _, pp := range p.Pairs {
			if pp.Denied != "" {
				nDenied++
			}
		}
		f.headline = fmt.Sprintf("%s (%s); %s a waypoint, %s refused by policy.",
			plural(len(p.Pairs), "request path"), strings.Join(parts, ", "),
			pl(nBypass, "bypasses", "bypass"), pl(nDenied, "is", "are"))
		wps := map[string]int{}
		var wpOrder []string
		for _, pp := range p.Pairs {
			for _, h := range pp.Hops {
				if strings.HasPrefix(h, "waypoint/") {
					if wps[h] == 0 {
						wpOrder = append(wpOrder, h)
					}
					wps[h]++
				}
			}
		}
		if len(wpOrder) <= 4 {
			for _, w := range wpOrder {
				f.details = append(f.details, fmt.Sprintf("%s is on %s.", w, plural(wps[w], "path")))
			}
		} else {
			busiest := wpOrder[0]
			for _, w := range wpOrder {
				if wps[w] > wps[busiest] {
					busiest = w
				}
			}
			f.details = append(f.details, fmt.Sprintf("%s are on the paths; the busiest, %s, on %s.", plural(len(wpOrder), "waypoint"), busiest, plural(wps[busiest], "path")))
		}
	}
	if len(p.Status) > 0 {
		var bad []string
		for _, st := range p.Status {
			for _, c := range st.Conditions {
				if !c.Status {
					bad = append(bad, fmt.Sprintf("%s %s %s=False (%s)", st.Kind, st.Object, c.Type, c.Reason))
				}
			}
		}
		line := ""
		if len(bad) == 0 {
			line = fmt.Sprintf("Gateway API status: every condition of the %s is True.", pl(len(p.Status), "Gateway or route", "Gateways and routes"))
		} else {
			line = fmt.Sprintf("Gateway API status: %s False: %s.", pl(len(bad), "condition is", "conditions are"), listCapped(bad, 4))
		}
		if f.headline == "" {
			f.headline = line
		} else {
			f.details = append(f.details, line)
		}
	}
	return f
}

// ---------------------------------------------------------------- observed

func (b *builder) observedFacet() *facet {
	o := b.s.Observed
	if o == nil || len(o.Edges) == 0 {
		return nil
	}
	worstRate, worstP99 := -1, -1
	var p99Err = func(e results.EdgeComparison) (float64, bool) {
		if e.ObservedP99Ms == nil || e.PredictedP99Ms == nil || *e.ObservedP99Ms <= 0 {
			return 0, false
		}
		return (*e.PredictedP99Ms - *e.ObservedP99Ms) / *e.ObservedP99Ms, true
	}
	abs := func(v float64) float64 {
		if v < 0 {
			return -v
		}
		return v
	}
	nP99 := 0
	for i, e := range o.Edges {
		if worstRate < 0 || abs(e.RateError) > abs(o.Edges[worstRate].RateError) {
			worstRate = i
		}
		if d, ok := p99Err(e); ok {
			nP99++
			if worstP99 < 0 {
				worstP99 = i
			} else if w, _ := p99Err(o.Edges[worstP99]); abs(d) > abs(w) {
				worstP99 = i
			}
		}
	}
	src := ""
	if o.Source != "" {
		src = " (" + o.Source + ")"
	}
	wr := o.Edges[worstRate]
	f := &facet{headline: fmt.Sprintf("Predicted against observed%s on %s: rates within %s (worst %s → %s in %s).",
		src, plural(len(o.Edges), "edge"), pct(abs(wr.RateError)), wr.Source, wr.Destination, wr.Mode)}
	if worstP99 >= 0 {
		e := o.Edges[worstP99]
		d, _ := p99Err(e)
		f.headline += fmt.Sprintf(" p99 on %s within %s (worst %s → %s in %s: predicted %s ms, observed %s ms).",
			plural(nP99, "edge"), pct(abs(d)), e.Source, e.Destination, e.Mode, ms(*e.PredictedP99Ms), ms(*e.ObservedP99Ms))
	}
	return f
}

// failedReqs is "1 failed request" or "n failed requests".
func failedReqs(n int64) string {
	if n == 1 {
		return "1 failed request"
	}
	return count(n) + " failed requests"
}

// rps formats a request rate: one decimal below 1,000, whole requests with
// separators above.
func rps(v float64) string {
	if v >= 1000 {
		return count(int64(v + 0.5))
	}
	return fixed(v, 1)
}

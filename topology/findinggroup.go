package topology

import "sort"

// FindingGroup is one finding, or the same finding for several sources of
// one source class (the Matrix's equivalence classes): a policy bypassed by
// every out-of-mesh workload of a namespace is one group, not a finding per
// workload. The embedded Finding is the first source's; Each yields one
// Finding per source, exactly the findings the pairwise audit lists.
type FindingGroup struct {
	Finding
	// Class is the source class the sources share, nil for a finding
	// that is not about a set of sources.
	Class *SourceClass

	members []*Workload
	render  func(*Workload) Finding
}

// Count is how many findings the group stands for.
func (g *FindingGroup) Count() int {
	if g.render == nil {
		return 1
	}
	return len(g.members)
}

// Sources returns the sources of a multi-source group (nil otherwise), in
// ID order.
func (g *FindingGroup) Sources() []*Workload { return g.members }

// Each calls fn with every finding of the group, first source first.
func (g *FindingGroup) Each(fn func(Finding)) {
	if g.render == nil {
		fn(g.Finding)
		return
	}
	fn(g.Finding)
	for _, w := range g.members[1:] {
		fn(g.render(w))
	}
}

// singleGroups wraps findings that are about one source or none.
func singleGroups(fs []Finding) []FindingGroup {
	out := make([]FindingGroup, len(fs))
	for i, f := range fs {
		out[i] = FindingGroup{Finding: f}
	}
	return out
}

// classGroup makes a group of the members of class c for which render
// builds the finding; nil when members is empty.
func classGroup(c *SourceClass, members []*Workload, render func(*Workload) Finding) []FindingGroup {
	if len(members) == 0 {
		return nil
	}
	return []FindingGroup{{Finding: render(members[0]), Class: c, members: members, render: render}}
}

// expandGroups lists every finding of the groups, in group order.
func expandGroups(gs []FindingGroup) []Finding {
	n := 0
	for i := range gs {
		n += gs[i].Count()
	}
	out := make([]Finding, 0, n)
	for i := range gs {
		gs[i].Each(func(f Finding) { out = append(out, f) })
	}
	return out
}

// sortGroups orders groups as sortFindings orders findings, by their first
// finding.
func (t *Topology) sortGroups(gs []FindingGroup) {
	order := findingOrder()
	sort.SliceStable(gs, func(i, j int) bool { return findingLess(order, &gs[i].Finding, &gs[j].Finding) })
}

func findingOrder() map[string]int {
	order := make(map[string]int, len(FindingCodes))
	for i, c := range FindingCodes {
		order[c] = i
	}
	return order
}

func findingLess(order map[string]int, a, b *Finding) bool {
	if a.Code != b.Code {
		return order[a.Code] < order[b.Code]
	}
	if a.Policy != b.Policy {
		return a.Policy < b.Policy
	}
	if a.Destination != b.Destination {
		return a.Destination < b.Destination
	}
	return a.Source < b.Source
}

// groupFindings regroups a pairwise finding list: findings with the same
// code, policy and destination whose sources share a source class become
// one group (the first one's text). Findings keep their order.
func (t *Topology) groupFindings(fs []Finding) []FindingGroup {
	m := t.Matrix()
	type key struct {
		code, policy, dst string
		c                 *SourceClass
	}
	byKey := map[key]int{}
	var out []FindingGroup
	var lists [][]Finding
	for _, f := range fs {
		var c *SourceClass
		if w := t.workloadByID(f.Source); w != nil {
			c = m.srcClass[w]
		}
		if c == nil {
			out = append(out, FindingGroup{Finding: f})
			lists = append(lists, nil)
			continue
		}
		k := key{f.Code, f.Policy, f.Destination, c}
		if i, ok := byKey[k]; ok {
			lists[i] = append(lists[i], f)
			out[i].members = append(out[i].members, t.workloadByID(f.Source))
			continue
		}
		byKey[k] = len(out)
		out = append(out, FindingGroup{Finding: f, Class: c, members: []*Workload{t.workloadByID(f.Source)}})
		lists = append(lists, []Finding{f})
	}
	for i := range out {
		if len(lists[i]) > 1 {
			list := lists[i]
			byW := make(map[*Workload]Finding, len(list))
			for j, w := range out[i].members {
				byW[w] = list[j]
			}
			out[i].render = func(w *Workload) Finding { return byW[w] }
		}
	}
	return out
}

// workloadByID finds a workload by "ns/name" (nil for "" or unknown).
func (t *Topology) workloadByID(id string) *Workload {
	if id == "" {
		return nil
	}
	if id == ExternalClient.ID() {
		return ExternalClient
	}
	return t.index().workloads[id]
}

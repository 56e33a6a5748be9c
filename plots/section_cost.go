package plots

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// cost is section 5: CPU and memory per component kind and per mode
// (stacked bars), cluster totals, the busiest components.
func (b *builder) cost() []Block {
	s := b.s
	if len(s.Modes) == 0 {
		return nil
	}
	modes := make([]string, len(s.Modes))
	for i, m := range s.Modes {
		modes[i] = m.Mode
	}
	kinds := costKinds(s.Modes) // data-plane kinds only
	cp := hasControlPlane(s.Modes)
	out := costCharts(s.Modes, modes, kinds, cp)
	out = append(out, perInstanceChart(s.Modes, kinds), costTotalsTable(s.Modes, modes, kinds, cp))
	return append(out, b.busiestComponents()...)
}

// costCharts are the stacked CPU and memory bars per mode, one series per
// data-plane kind, and the control plane as its own bar next to each
// mode's stack: it does not scale with the data plane and is shared.
func costCharts(ms []results.ModeResult, modes, kinds []string, cp bool) []Block {
	cpu := make([]Series, 0, len(kinds)+1)
	mem := make([]Series, 0, len(kinds)+1)
	for k, kind := range kinds {
		c, g := kindCostSeries(ms, kind, kind, colorFor(kind, k), "data plane")
		cpu, mem = append(cpu, c), append(mem, g)
	}
	cpCaption := ""
	if cp {
		c, g := kindCostSeries(ms, controlPlaneKind, controlPlaneLabel, controlPlaneColor, "control plane")
		cpu, mem = append(cpu, c), append(mem, g)
		cpCaption = " The separate grey bar is the control plane (istiod), which is not part of the data plane."
	}
	return []Block{chart(&Chart{
		ID: chartID("cost", "cpu"), Kind: ChartBar, HeightPx: 340,
		Title:   "Data plane CPU per mode, by component kind (cores)",
		Caption: "The stacked bar's height is the data plane's CPU overhead in each mode (proxies only, apps excluded). Sidecar cost grows with pods, ztunnel cost with nodes and traffic, waypoint cost with L7 traffic." + cpCaption,
		X:       Axis{Type: "category", Categories: modes},
		Y:       Axis{Name: "cores", Type: "value"},
		Series:  cpu,
	}), chart(&Chart{
		ID: chartID("cost", "memory"), Kind: ChartBar, HeightPx: 340,
		Title:   "Data plane memory per mode, by component kind (GiB)",
		Caption: "The stacked bar's height is the data plane's memory overhead in each mode. Per-pod sidecars dominate sidecar mode; compare the ambient bars to see what per-node ztunnels and shared waypoints save." + cpCaption,
		X:       Axis{Type: "category", Categories: modes},
		Y:       Axis{Name: "GiB", Type: "value"},
		Series:  mem,
	})}
}

// kindCostSeries is one component kind's CPU (cores) and memory (GiB)
// across the modes, as bar series named name in stack.
func kindCostSeries(ms []results.ModeResult, kind, name, color, stack string) (cpu, mem Series) {
	cpu = Series{Name: name, Color: color, Stack: stack, Values: make([]float64, len(ms))}
	mem = Series{Name: name, Color: color, Stack: stack, Values: make([]float64, len(ms))}
	for i, m := range ms {
		kc := m.Totals.ByKind[kind]
		cpu.Values[i] = round(kc.CPUCores)
		mem.Values[i] = round(kc.MemoryGiB)
	}
	return cpu, mem
}

// perInstanceChart is the mean CPU of one instance of each kind: what
// scales with what.
func perInstanceChart(ms []results.ModeResult, kinds []string) Block {
	per := make([]Series, len(ms))
	for i, m := range ms {
		per[i] = Series{Name: m.Mode, Color: colorFor(m.Mode, i), Values: make([]float64, len(kinds))}
		for k, kind := range kinds {
			kc := m.Totals.ByKind[kind]
			if kc.Instances > 0 {
				per[i].Values[k] = round(1000 * kc.CPUCores / float64(kc.Instances))
			}
		}
	}
	return chart(&Chart{
		ID: chartID("cost", "per-instance"), Kind: ChartBar, HeightPx: 320,
		Title:   "Mean CPU of one proxy instance (millicores)",
		Caption: "One ztunnel serves a whole node and one waypoint a whole scope, so each instance costs more than one sidecar; multiply by the instance counts in the table below for the totals.",
		X:       Axis{Type: "category", Categories: kinds},
		Y:       Axis{Name: "millicores", Type: "value"},
		Series:  per,
	})
}

// costTotalsTable has one column per mode and one row per figure: modes
// are few and figures many, so the table fits the page however many kinds
// there are.
func costTotalsTable(ms []results.ModeResult, modes, kinds []string, cp bool) Block {
	caption := "Cluster totals of the mesh's own overhead per mode: the data plane (proxies only)"
	if cp {
		caption += ", the control plane (istiod), and the mesh total (data plane + control plane, the figures the CLI prints)"
	}
	tt := &Table{Caption: caption, Columns: cols(append([]string{"Figure"}, modes...)...)}
	for i := 1; i < len(tt.Columns); i++ {
		tt.Columns[i].Numeric = true
	}
	row := func(name string, cell func(m results.ModeResult) string) {
		r := Row{Cells: []string{name}}
		for _, m := range ms {
			r.Cells = append(r.Cells, cell(m))
		}
		tt.Rows = append(tt.Rows, r)
	}
	row("Data plane CPU (cores)", func(m results.ModeResult) string { c, _ := dataPlane(m); return cores(c) })
	row("Data plane memory (GiB)", func(m results.ModeResult) string { _, g := dataPlane(m); return gib(g) })
	for _, k := range kinds {
		row(k+" instances", func(m results.ModeResult) string { return counti(m.Totals.ByKind[k].Instances) })
		row(k+" CPU (cores)", func(m results.ModeResult) string { return cores(m.Totals.ByKind[k].CPUCores) })
		row(k+" memory (GiB)", func(m results.ModeResult) string { return gib(m.Totals.ByKind[k].MemoryGiB) })
	}
	if cp {
		row("Control plane (istiod) instances", func(m results.ModeResult) string { return counti(m.Totals.ByKind[controlPlaneKind].Instances) })
		row("Control plane CPU (cores)", func(m results.ModeResult) string { c, _ := controlPlane(m); return cores(c) })
		row("Control plane memory (GiB)", func(m results.ModeResult) string { _, g := controlPlane(m); return gib(g) })
		row("Mesh total CPU (cores)", func(m results.ModeResult) string { return cores(m.Totals.CPUCores) })
		row("Mesh total memory (GiB)", func(m results.ModeResult) string { return gib(m.Totals.MemoryGiB) })
	}
	for i := range tt.Rows {
		if strings.HasPrefix(tt.Rows[i].Cells[0], "Data plane") || strings.HasPrefix(tt.Rows[i].Cells[0], "Mesh total") {
			tt.Rows[i].Tone = "total"
		}
	}
	return table(tt)
}

// busiestComponents is each mode's table of its busiest proxies, with the
// applications summed in a sentence.
func (b *builder) busiestComponents() []Block {
	out := []Block{heading("Busiest components")}
	for _, m := range b.s.Modes {
		t, apps := b.componentTable(m)
		if len(t.Rows) == 0 {
			out = append(out, text("Mode "+m.Mode+" runs no proxies."+apps))
			continue
		}
		out = append(out, table(t))
		if apps != "" {
			out = append(out, text(strings.TrimSpace(apps)))
		}
	}
	return out
}

// componentTable lists one mode's proxy instances, busiest CPU first, cut
// to TopN with the rest totalled in the caption.
//
// Application instances are not mesh overhead: they are left out of the
// table and summed in the returned sentence.
func (b *builder) componentTable(m results.ModeResult) (*Table, string) {
	var cs []results.ComponentUsage
	var appN int
	var appCPU, appMem float64
	for _, c := range m.Components {
		if c.Kind == "app" {
			appN++
			appCPU += c.CPUCores
			appMem += c.MemoryMiB
			continue
		}
		cs = append(cs, c)
	}
	apps := ""
	if appN > 0 {
		apps = fmt.Sprintf(" Applications (not mesh overhead): %s instances, %s cores, %s MiB.", counti(appN), cores(appCPU), fixed(appMem, 1))
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].CPUCores != cs[j].CPUCores {
			return cs[i].CPUCores > cs[j].CPUCores
		}
		return cs[i].Instance < cs[j].Instance
	})
	t := &Table{
		Caption: fmt.Sprintf("Mesh components in mode %s, busiest first", m.Mode),
		Columns: numeric(cols("Kind", "Instance", "Node", "CPU (cores)", "Utilisation", "Queue wait (ms)", "Memory (MiB)", "Connections", "Handshakes", "Requests"), 3, 4, 5, 6, 7, 8, 9),
	}
	var restCPU, restMem float64
	for i, c := range cs {
		if i >= b.opts.TopN {
			restCPU += c.CPUCores
			restMem += c.MemoryMiB
			continue
		}
		tone := ""
		if c.Utilisation >= 0.8 {
			tone = "warn"
		}
		t.Rows = append(t.Rows, Row{Tone: tone, Cells: []string{c.Kind, c.Instance, orDash(c.Node), cores(c.CPUCores), pct(c.Utilisation),
			ms(c.QueueWaitMs), fixed(c.MemoryMiB, 1), count(c.Connections), count(c.Handshakes), count(c.RequestsSeen)}})
	}
	if len(cs) > b.opts.TopN {
		t.Omitted = len(cs) - b.opts.TopN
		t.Caption += fmt.Sprintf(" (the %s others use %s cores and %s MiB together)", counti(t.Omitted), cores(restCPU), fixed(restMem, 1))
	}
	return t, apps
}

// The control plane: istiod is a component row and part of a mode's totals,
// but it is not data-plane overhead, so the report shows it apart.
const (
	controlPlaneKind  = "istiod"
	controlPlaneLabel = "istiod (control plane)"
	controlPlaneColor = "#8c8c8c"
)

// hasControlPlane reports whether any mode's totals include istiod.
func hasControlPlane(modes []results.ModeResult) bool {
	for _, m := range modes {
		if _, ok := m.Totals.ByKind[controlPlaneKind]; ok {
			return true
		}
	}
	return false
}

// dataPlane is a mode's data plane (the proxies): summary.json's
// totals.data_plane, the same number the CLI prints. Summaries written
// before it existed get the mesh total minus istiod.
func dataPlane(m results.ModeResult) (cpuCores, memGiB float64) {
	if dp := m.Totals.DataPlane; dp != (results.Cost{}) || m.Totals.CPUCores == 0 {
		return dp.CPUCores, dp.MemoryGiB
	}
	kc := m.Totals.ByKind[controlPlaneKind]
	return max(0, m.Totals.CPUCores-kc.CPUCores), max(0, m.Totals.MemoryGiB-kc.MemoryGiB)
}

// controlPlane is a mode's control plane (istiod): summary.json's
// totals.control_plane, or istiod's row of by_kind in older summaries.
func controlPlane(m results.ModeResult) (cpuCores, memGiB float64) {
	if cp := m.Totals.ControlPlane; cp != (results.Cost{}) {
		return cp.CPUCores, cp.MemoryGiB
	}
	kc := m.Totals.ByKind[controlPlaneKind]
	return kc.CPUCores, kc.MemoryGiB
}

// costKinds lists the data-plane component kinds in any mode's totals, in
// reading order (istiod, the control plane, is left out).
func costKinds(modes []results.ModeResult) []string {
	seen := map[string]bool{controlPlaneKind: true}
	var kinds []string
	for _, m := range modes {
		for k := range m.Totals.ByKind {
			if !seen[k] {
				seen[k] = true
				kinds = append(kinds, k)
			}
		}
	}
	sort.SliceStable(kinds, func(i, j int) bool { return kindLess(kinds[i], kinds[j]) })
	return kinds
}

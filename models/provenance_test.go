package models

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"text/tabwriter"

	"github.com/ambientsim/ambientsim/internal/golden"
)

// TestPublishedProvenance: every parameter of the published profile names
// one declared Istio-project source, or is an assumption with its reason,
// or a neutral (switched-off) mechanism — none is calibrated or unsourced —
// and every declared source is used. The table of all parameters by basis
// is testdata/provenance.golden.txt (regenerate with -update).
func TestPublishedProvenance(t *testing.T) {
	p := mustProfile(t)
	ids := map[string]bool{}
	for _, s := range p.Sources {
		ids[s.ID] = true
	}
	used := map[string]int{}
	count := map[string]int{}
	var b bytes.Buffer
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "parameter\tvalue\tunit\tbasis")
	for _, r := range p.ProvenanceTable() {
		switch {
		case ids[r.Basis]:
			used[r.Basis]++
			count["published or source code"]++
		case r.Basis == "assumed" || r.Basis == "neutral":
			count[r.Basis]++
		default:
			t.Errorf("%s: basis %q (source %q)", r.Path, r.Basis, r.Source)
		}
		fmt.Fprintf(tw, "%s\t%g\t%s\t%s\n", r.Path, r.Value, r.Unit, r.Basis)
	}
	tw.Flush()
	fmt.Fprintln(&b)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range count {
			if !yield(k) {
				return
			}
		}
	}) {
		fmt.Fprintf(&b, "%s: %d\n", k, count[k])
	}
	for _, s := range p.Sources {
		v := "Istio " + s.IstioVersion
		if s.IstioVersion == "" {
			v = "code constants"
		}
		fmt.Fprintf(&b, "[%s] (%s, %s): %d parameters\n", s.ID, s.Kind, v, used[s.ID])
		if used[s.ID] == 0 && s.Kind != "istio-benchmark-setup" {
			t.Errorf("source %s is declared but no parameter uses it", s.ID)
		}
	}
	golden.Check(t, filepath.Join("testdata", "provenance.golden.txt"), b.Bytes())
}

package plots

import (
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// TestErrorsCaption: the error-rate chart's caption reads what the series
// show — blast radius when errors start with the failure, standing errors
// when they were there before, bypassed enforcement when they fall inside
// the window.
func TestErrorsCaption(t *testing.T) {
	pts := func(vals ...float64) []Point {
		out := make([]Point, len(vals))
		for i, v := range vals {
			out[i] = Point{float64(i), v}
		}
		return out
	}
	f := results.FailureResult{AtS: 3, DurationS: 3} // window [3, 6)
	for _, tc := range []struct {
		name      string
		svcs      []*svcSeries
		want, not []string
	}{
		{"blast radius", []*svcSeries{{name: "shop/a", err: pts(0, 0, 0, 0.5, 0.5, 0.5, 0, 0)}},
			[]string{"expected blast radius"}, []string{"already fail"}},
		{"standing errors", []*svcSeries{{name: "shop/a", err: pts(0.2, 0.2, 0.2, 0.9, 0.9, 0.9, 0.2, 0.2)}},
			[]string{"shop/a already fails before the failure starts"}, []string{"expected blast radius", "bypassed"}},
		{"bypassed enforcement", []*svcSeries{
			{name: "shop/db", err: pts(1, 1, 1, 0, 0, 0, 1, 1)},
			{name: "shop/web", err: pts(0, 0, 0, 0, 0, 0, 0, 0)},
			{name: "shop/x", err: pts(0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3, 0.3)}},
			[]string{"shop/db, shop/x already fail", "falls inside the window on shop/db:", "enforcement was bypassed"}, []string{"expected blast radius"}},
		{"permanent failure", []*svcSeries{{name: "shop/a", err: pts(0.5, 0.5, 0.5, 0, 0, 0, 0, 0)}},
			[]string{"falls inside the window on shop/a"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ff := f
			if tc.name == "permanent failure" {
				ff.DurationS = 0
			}
			got := errorsCaption(ff, tc.svcs)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("caption lacks %q:\n%s", w, got)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(got, n) {
					t.Errorf("caption has %q:\n%s", n, got)
				}
			}
		})
	}
}

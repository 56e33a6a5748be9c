package plots

import (
	"strings"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// calibrationText is one line on where and how well a calibrated profile
// was measured, e.g. "2026-11-25 on 2 × AMD EPYC, Linux 6.1; data plane
// abc123; design quick; worst fit R² 0.9712 (latency_p50)"; "" for a
// profile without a calibration section.
func calibrationText(p results.Profile) string {
	c := p.Calibration
	if c == nil {
		return ""
	}
	parts := []string{orDash(c.Date) + " on " + orDash(c.Machine), "data plane " + orDash(c.Revision)}
	if c.Design != "" {
		parts = append(parts, "design "+c.Design)
	}
	if c.WorstR2 != nil {
		parts = append(parts, "worst fit R² "+fixed(*c.WorstR2, 4)+" ("+c.WorstFit+")")
	}
	return strings.Join(parts, "; ")
}

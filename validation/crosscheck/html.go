package crosscheck

import (
	"bytes"
	"fmt"
	"html/template"
	"math"
)

var page = template.Must(template.New("v").Funcs(template.FuncMap{
	"num": func(v float64) string {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return "n/a"
		}
		return fmt.Sprintf("%.4g", v)
	},
	"rel": func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return fmt.Sprintf("%.1f%%", *p*100)
	},
	"verdict": func(p *bool) string {
		switch {
		case p == nil:
			return "report"
		case *p:
			return "pass"
		}
		return "MISS"
	},
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ambientsim validation: {{.Profile.Name}}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.pass td.v{background:#d9f2d9}tr.MISS td.v{background:#f8d0d0;font-weight:bold}tr.report td.v{color:#666}
.warn{background:#fff4d6;border:1px solid #e0c060;padding:.5em 1em}
</style></head><body>
<h1>Simulator vs real data plane</h1>
<p>Profile <b>{{.Profile.Name}}</b> ({{.Profile.Provenance}}, {{.Profile.Date}}{{if .Profile.File}}, {{.Profile.File}}{{end}}),
backend <b>{{.Backend}}</b>, {{.Date.Format "2006-01-02 15:04 UTC"}}, {{.DurationS}} s per scenario{{if gt .Repeat 1}}, each measured {{.Repeat}} times (measured = the median; cv = the runs' coefficient of variation){{end}}.</p>
{{if .ReplayOf}}<p class="warn">Replay: the measurements recorded in <code>{{.ReplayOf}}</code>, compared with this profile's predictions; nothing was measured again.</p>
{{end}}{{if .Profile.Calibration}}<p>Profile {{.Profile.Calibration}}.</p>
{{end}}<p><b>{{.Summary.Passed}}</b> rows pass, <b>{{.Summary.Missed}}</b> miss their target, {{.Summary.ReportOnly}} are reported without a target
(targets: p50 within 10%, p99 within 25%, CPU within 15%, affected pods exactly).
The profile was not tuned to these scenarios: they are not part of the calibration design.</p>
{{if .NotEmulated}}<div class="warn"><b>Not emulated on this machine</b> (the real runs lack these; the simulator has them):<ul>{{range .NotEmulated}}<li>{{.}}</li>{{end}}</ul></div>{{else}}<p>Not emulated: nothing (every wish of the plan was honoured).</p>{{end}}
<p>Traffic capture: {{.Capture}}</p>
<h2>Scenarios</h2><ul>{{range .Scenarios}}<li><b>{{.Name}}</b>: {{.Description}} (simulator mirror: <code>{{.Mirror}}</code>)</li>{{end}}</ul>
<h2>Predicted vs measured</h2>
<table><thead><tr><th>scenario</th><th>metric</th><th>predicted</th><th>measured</th>{{if gt .Repeat 1}}<th>measured cv</th>{{end}}<th>relative error</th><th>target</th><th>verdict</th><th>note</th></tr></thead><tbody>
{{range .Rows}}<tr class="{{verdict .Pass}}"><td>{{.Scenario}}</td><td>{{.Metric}}</td><td class="n">{{num .Predicted}}</td><td class="n">{{num .Measured}}</td>{{if gt $.Repeat 1}}<td class="n">{{rel .MeasuredCV}}</td>{{end}}<td class="n">{{rel .RelativeError}}</td><td>{{.Target}}</td><td class="v">{{verdict .Pass}}</td><td>{{.Note}}</td></tr>
{{end}}</tbody></table>
<p>Units: *_ms in milliseconds (the load generator's histogram vs the simulator's), cpu_s in CPU seconds over the run (cgroup counters vs simulated busy time; idle CPU of the real processes is not modelled), failed_requests in requests.</p>
</body></html>
`))

// HTML renders the report as one self-contained page (no scripts, no
// external assets): the summary, what was not emulated, and the table of
// rows with each verdict.
func (r *Report) HTML() ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, r); err != nil {
		return nil, fmt.Errorf("crosscheck: validation.html: %w", err)
	}
	return b.Bytes(), nil
}

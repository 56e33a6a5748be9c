package plots

import (
	"bufio"
	"bytes"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"

	"github.com/ambientsim/ambientsim/scenarios/results"
)

// Render writes the report as one self-contained HTML page: ECharts is
// inlined, there are no external scripts, fonts or images, and every name
// from the results is HTML-escaped (in tables by html/template, in chart
// data by encoding/json's \u003c escaping). The same report gives the same
// bytes.
func Render(w io.Writer, r *Report) error { return renderPage(w, r, echartsJS) }

// renderPage writes the page with library as the inlined chart library (tests
// that exercise the page logic pass a stub instead of 1 MB of ECharts).
func renderPage(w io.Writer, r *Report, library string) error {
	if r == nil {
		return fmt.Errorf("plots: render: nil report")
	}
	type chartScript struct {
		ID     string
		Option template.JS
	}
	var scripts []chartScript
	for _, sec := range r.Sections {
		for _, b := range sec.Blocks {
			if b.Chart == nil {
				continue
			}
			opt, err := optionJSON(b.Chart)
			if err != nil {
				return fmt.Errorf("plots: render section %q: %w", sec.Title, err)
			}
			// opt is encoding/json output: <, >, & and U+2028/9 are escaped,
			// so it cannot end the script element or the JS string.
			scripts = append(scripts, chartScript{ID: b.Chart.ID, Option: template.JS(opt)})
		}
	}
	bw := bufio.NewWriter(w)
	err := pageTemplate.Execute(bw, struct {
		*Report
		ECharts        template.JS
		EChartsVersion string
		Notice         string
		Charts         []chartScript
	}{r, template.JS(library), EChartsVersion, echartsNotice, scripts})
	if err != nil {
		return fmt.Errorf("plots: render: %w", err)
	}
	return bw.Flush()
}

// WriteReport builds the report for s and writes it to path atomically: a
// temporary file in the same directory is renamed over path only after it
// was written completely, so a reader never sees half a report.
func WriteReport(s *results.Summary, path string, opts Options) error {
	r, err := Build(s, opts)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := Render(&buf, r); err != nil {
		return err
	}
	return writeFileAtomic(path, buf.Bytes())
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("plots: writing report %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("plots: writing report %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("plots: writing report %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("plots: writing report %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("plots: writing report %s: %w", path, err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("plots: writing report %s: %w", path, err)
	}
	return nil
}

var pageTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"numeric": func(cols []Column, i int) bool { return i < len(cols) && cols[i].Numeric },
	"long":    hasLongToken,
}).Parse(pageHTML))

const pageHTML = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1d2330;background:#f6f7f9;line-height:1.45}
header{background:#1d2330;color:#fff;padding:18px 32px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:0;color:#c9d1e0}
nav{margin-top:10px;font-size:13px}
nav a{color:#9fc3ff;margin-right:14px;text-decoration:none}
main{max-width:1180px;margin:0 auto;padding:8px 32px 40px}
section{background:#fff;border:1px solid #dde2ea;border-radius:6px;margin:18px 0;padding:6px 22px 18px}
h2{font-size:19px;border-bottom:1px solid #dde2ea;padding-bottom:6px}
h3{font-size:15px;margin:20px 0 6px}
.answer{background:#eef4ff;border-left:5px solid #1f5fbf;border-radius:4px;padding:10px 16px;margin:8px 0 14px}
.answer .lead{font-size:17px;font-weight:600;margin:2px 0 8px;line-height:1.4}
.answer ul{margin:4px 0;padding-left:22px}
.answer li{margin:3px 0}
.answer li ul{font-size:14px;color:#3b4456}
.answer ul.points{font-size:15px}
.answer ul.more{border-top:1px solid #c9d6ee;margin-top:10px;padding-top:8px}
.answer ul.more>li{margin:6px 0}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;font-size:13px}
.tablewrap{overflow-x:auto;margin:10px 0}
table{border-collapse:collapse;font-size:13px;min-width:40%}
caption{text-align:left;font-weight:600;padding:4px 0;color:#3b4456}
th,td{border:1px solid #dde2ea;padding:4px 8px;vertical-align:top;text-align:left;white-space:pre-line}
td.long{overflow-wrap:anywhere}
td.num{white-space:nowrap}
th{background:#eef1f6}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tr.pass td{background:#e8f6ec}
tr.fail td{background:#fde8e8}
tr.warn td{background:#fff6dd}
tr.total td{font-weight:600;background:#f3f5f9}
.omitted{font-size:12px;color:#5b6475;margin:2px 0}
figure{margin:16px 0;border:1px solid #e4e8ef;border-radius:6px;padding:8px}
figure.half{display:inline-block;vertical-align:top;width:calc(50% - 30px);margin-right:8px}
.chart-title{font-weight:600;font-size:14px;margin-bottom:4px}
.chart-box{width:100%}
figcaption{font-size:13px;color:#3b4456;margin-top:6px}
pre{background:#f0f2f6;padding:8px 10px;border-radius:4px;overflow-x:auto;font-size:13px}
footer{font-size:12px;color:#5b6475;max-width:1180px;margin:0 auto;padding:0 32px 30px;white-space:pre-line}
</style>
<script>{{.ECharts}}</script>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
{{with .Subtitle}}<p>{{.}}</p>{{end}}
<nav>{{range .Sections}}<a href="#{{.ID}}">{{.Number}}. {{.Title}}</a>{{end}}</nav>
</header>
<main>
{{- range .Sections}}
<section id="{{.ID}}">
<h2>{{.Number}}. {{.Title}}</h2>
{{- range .Blocks}}
{{- with .Heading}}
<h3>{{.}}</h3>{{end}}
{{- with .Answer}}
<div class="answer">
<p class="lead">{{.Lead}}</p>{{if .Points}}
<ul class="points">{{range .Points}}<li>{{.}}</li>{{end}}</ul>{{end}}{{if .Items}}
<ul class="more">{{range .Items}}
<li>{{.Text}}{{if .Details}}<ul>{{range .Details}}<li>{{.}}</li>{{end}}</ul>{{end}}</li>{{end}}
</ul>{{end}}
</div>{{end}}
{{- with .Text}}
<p>{{.}}</p>{{end}}
{{- with .Items}}
<ul>{{range .}}<li>{{.}}</li>{{end}}</ul>{{end}}
{{- with .Note}}
<p class="note">{{.}}</p>{{end}}
{{- with .Code}}
<pre><code>{{.}}</code></pre>{{end}}
{{- with .Table}}
<div class="tablewrap"><table>
<caption>{{.Caption}}</caption>
<thead><tr>{{range .Columns}}<th{{if .Numeric}} class="num"{{end}}>{{.Name}}</th>{{end}}</tr></thead>
<tbody>
{{- $cols := .Columns}}
{{- range .Rows}}
<tr{{with .Tone}} class="{{.}}"{{end}}>{{range $i, $c := .Cells}}<td{{if numeric $cols $i}} class="num"{{else if long $c}} class="long"{{end}}>{{$c}}</td>{{end}}</tr>
{{- end}}
</tbody>
</table>{{if .Omitted}}
<p class="omitted">{{.Omitted}} more rows not shown.</p>{{end}}</div>{{end}}
{{- with .Chart}}
<figure{{if .Half}} class="half"{{end}}>
<div class="chart-title">{{.Title}}</div>
<div id="{{.ID}}" class="chart-box" style="height:{{.HeightPx}}px"></div>
<figcaption>{{.Caption}}</figcaption>
</figure>{{end}}
{{- end}}
</section>
{{- end}}
</main>
<footer>Charts drawn with Apache ECharts {{.EChartsVersion}}, embedded in this file under the Apache License 2.0.
{{.Notice}}</footer>
<script>
"use strict";
(function () {
  var charts = [];
  function draw(id, option) {
    var chart = echarts.init(document.getElementById(id), null, {renderer: "canvas"});
    chart.setOption(option);
    charts.push(chart);
  }
{{- range .Charts}}
  draw({{.ID}}, {{.Option}});
{{- end}}
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();
</script>
</body>
</html>
`

// hasLongToken reports whether a cell holds a run of more than 40
// characters without a space (a JSON list, a URL, a SPIFFE id): only such
// cells may break anywhere, so that short names never split but a long
// token cannot push its table past the page.
func hasLongToken(s string) bool {
	n := 0
	for _, r := range s {
		if r == ' ' || r == '\n' || r == '\t' {
			n = 0
			continue
		}
		n++
		if n > 40 {
			return true
		}
	}
	return false
}

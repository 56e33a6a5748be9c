package plots

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// findChromium returns the browser to drive: $CHROMIUM if set, else the
// first of the usual names on PATH. Under CI=true a missing browser fails
// the test (CI installs Debian's chromium); elsewhere it skips.
func findChromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but no chromium on PATH: the browser test must run in CI (apt-get install -y chromium), set CHROMIUM to its path")
	}
	t.Skip("no chromium on PATH (install Debian's chromium or set CHROMIUM to run the browser test; it is required when CI=true)")
	return ""
}

// artifactDir is where screenshots go: $ARTIFACT_DIR, or a directory under
// the system temp dir that outlives the test so a human can look.
func artifactDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("ARTIFACT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := filepath.Join(os.TempDir(), "ambientsim-report-shots")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}

// pageProblems collects everything the page must not do: JS exceptions,
// console errors, browser-log errors and any request that is not for a
// local file (the report must need no network).
type pageProblems struct {
	mu   sync.Mutex
	list []string
}

func (p *pageProblems) add(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.list = append(p.list, s)
}

func (p *pageProblems) get() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.list...)
}

func (p *pageProblems) listen(ev any) {
	switch e := ev.(type) {
	case *runtime.EventExceptionThrown:
		msg := e.ExceptionDetails.Text
		if e.ExceptionDetails.Exception != nil {
			msg += " " + e.ExceptionDetails.Exception.Description
		}
		p.add("exception: " + msg)
	case *runtime.EventConsoleAPICalled:
		if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeAssert {
			var parts []string
			for _, a := range e.Args {
				parts = append(parts, string(a.Value)+a.Description)
			}
			p.add("console." + string(e.Type) + ": " + strings.Join(parts, " "))
		}
	case *log.EventEntryAdded:
		if e.Entry != nil && e.Entry.Level == log.EntryLevelError {
			p.add("browser log error: " + e.Entry.Text + " " + e.Entry.URL)
		}
	case *network.EventRequestWillBeSent:
		if e.Request != nil {
			u := e.Request.URL
			if !strings.HasPrefix(u, "file:") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "about:") && !strings.HasPrefix(u, "blob:") {
				p.add("network request: " + u)
			}
		}
	}
}

// browserCheck is what the browser test asserts about one rendered report.
type browserCheck struct {
	Charts   int       `json:"charts"`   // chart containers
	Rendered int       `json:"rendered"` // containers with a canvas or svg of non-zero size and an echarts instance
	Headings []string  `json:"headings"` // section h2 texts
	XSS      bool      `json:"xss"`      // any injected script ran
	Injected int       `json:"injected"` // elements created from names (img, script from data)
	Tooltips int       `json:"tooltips"` // tooltips of markup-like names shown
	Answer   answerDOM `json:"answer"`   // the first section's answer as rendered
}

// answerDOM is what the page shows of the answer: where it sits in the
// first section and its text as a reader sees it (innerText).
type answerDOM struct {
	Section  string  `json:"section"`   // id of the first section
	Question string  `json:"question"`  // the paragraph after the "Question" heading
	Lead     string  `json:"lead"`      // the answer's lead
	Text     string  `json:"text"`      // the whole answer box
	Index    int     `json:"index"`     // position of the answer box among the section's children (-1: none)
	FirstBox int     `json:"first_box"` // position of the section's first table or chart (-1: none)
	LeadTop  float64 `json:"lead_top"`  // the lead's distance from the top of the page, px
}

// checkJS inspects the page. For every name that contains markup (a "<"),
// it shows the tooltip of that item and lets the browser run, because
// tooltip HTML is where an unescaped name would turn into elements; an
// <img onerror> in a name would then set window.__xss.
const checkJS = `(async () => {
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const hostile = v => String(v === undefined || v === null ? '' : v).includes('<');
  const boxes = [...document.querySelectorAll('.chart-box')];
  let rendered = 0, tooltips = 0, injected = 0;
  const count = () => document.querySelectorAll('img, script[src], iframe, b').length;
  for (const b of boxes) {
    const inst = window.echarts ? window.echarts.getInstanceByDom(b) : null;
    const c = b.querySelector('canvas, svg');
    if (inst && c && c.getBoundingClientRect().width > 0 && c.getBoundingClientRect().height > 0) rendered++;
    if (!inst) continue;
    const opt = inst.getOption();
    const cats = (opt.xAxis && opt.xAxis[0] && opt.xAxis[0].data) || [];
    for (const [si, s] of (opt.series || []).entries()) {
      const tips = [];
      const data = s.data || [];
      if (hostile(s.name)) tips.push({dataIndex: 0});
      data.forEach((d, i) => { if (d && typeof d === 'object' && hostile(d.name)) tips.push({dataIndex: i}); });
      cats.forEach((v, i) => { if (hostile(v)) tips.push({dataIndex: i}); });
      (s.links || []).forEach((l, i) => { if (hostile(l.source) || hostile(l.target)) tips.push({dataType: 'edge', dataIndex: i}); });
      for (const tip of tips.slice(0, 50)) {
        inst.dispatchAction(Object.assign({type: 'showTip', seriesIndex: si}, tip));
        tooltips++;
        await sleep(20);
        injected = Math.max(injected, count());
      }
    }
    inst.dispatchAction({type: 'hideTip'});
  }
  await sleep(200); // let any onerror handler of an injected image run
  return {
    charts: boxes.length,
    rendered: rendered,
    headings: [...document.querySelectorAll('section > h2')].map(h => h.textContent),
    xss: window.__xss !== undefined,
    injected: Math.max(injected, count()),
    tooltips: tooltips,
    answer: (() => {
      const sec = document.querySelector('main > section');
      if (!sec) return {index: -1, first_box: -1};
      const kids = [...sec.children];
      const box = sec.querySelector('.answer');
      const lead = box ? box.querySelector('.lead') : null;
      const q = kids.find((e, i) => i > 0 && kids[i - 1].tagName === 'H3' && kids[i - 1].textContent === 'Question');
      return {
        section: sec.id,
        question: q ? q.innerText : '',
        lead: lead ? lead.innerText : '',
        text: box ? box.innerText : '',
        index: box ? kids.indexOf(box) : -1,
        first_box: kids.findIndex(e => e.matches('.tablewrap, figure')),
        lead_top: lead ? lead.getBoundingClientRect().top + window.scrollY : -1,
      };
    })(),
  };
})()`

// startBrowser starts headless Chromium with the network cut off; tabs
// for each page are opened from the returned context.
func startBrowser(t *testing.T, chromium string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	t.Cleanup(cancel)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		// No network: every host resolves to nothing and every proxied
		// request goes to a closed port.
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"),
		chromedp.Flag("proxy-bypass-list", "<-loopback>"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	bctx, bcancel := chromedp.NewContext(actx)
	t.Cleanup(bcancel)
	if err := chromedp.Do(bctx); err != nil { // start the browser now
		t.Fatalf("starting %s: %v", chromium, err)
	}
	return bctx
}

// loadInBrowser opens the report at path in a new tab of browser and
// returns what checkJS sees and the problems the page reported; it saves a
// PNG screenshot of the first screen to shot and one per section beside it.
func loadInBrowser(t *testing.T, browser context.Context, path, shot string, sections []string, wait time.Duration) (browserCheck, []string) {
	t.Helper()
	var problems pageProblems
	bctx, cancel := chromedp.NewContext(browser, chromedp.WithListener(problems.listen))
	defer cancel()

	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.Navigate("file://"+abs)); err != nil {
		t.Fatalf("navigate: %v", err)
	}
	// Wait until every chart container holds a canvas (or give up and let
	// the assertions say which are missing).
	_, _ = chromedp.Run(bctx, chromedp.Poll[bool](
		`document.querySelectorAll('.chart-box').length > 0 && [...document.querySelectorAll('.chart-box')].every(b => b.querySelector('canvas, svg'))`,
		chromedp.WithPollingTimeout(wait)))
	check, err := chromedp.Run(bctx, chromedp.Evaluate[browserCheck](checkJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate checks: %v", err)
	}
	// The first screen as the page opens (a full-page PNG of a 20,000 px
	// report costs seconds to encode); then every section on its own.
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s: %s (set ARTIFACT_DIR for one per section)", filepath.Base(path), shot)
	// One picture per section too, when someone keeps the artifacts: the
	// whole page is too tall to look at in one image.
	if os.Getenv("ARTIFACT_DIR") == "" {
		sections = nil
	}
	for _, id := range sections {
		png, err := chromedp.Run(bctx, chromedp.Screenshot(chromedp.ID(id)))
		if err != nil {
			t.Fatalf("screenshot of section %s: %v", id, err)
		}
		p := strings.TrimSuffix(shot, ".png") + "-" + id + ".png"
		if err := os.WriteFile(p, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return check, problems.get()
}

func TestReportInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; the full suite (go test ./...) runs it")
	}
	browser := startBrowser(t, findChromium(t))
	dir := t.TempDir()
	shots := artifactDir(t)

	cases := []struct {
		name    string
		fixture string // "" = the synthetic 10,000-pod topology
		sweep   bool
	}{
		{"modes-compare", "testdata/modes-compare", false},
		{"fixture", "testdata/fixture", true},
		{"xss", "testdata/xss", false},
		{"10k-pods", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := bigSummary(2000, 5, 200)
			var err error
			if tc.fixture != "" {
				if s, err = LoadResults(tc.fixture); err != nil {
					t.Fatal(err)
				}
			}
			opts := Options{Command: "ambientsim report " + tc.fixture, SLO: SLO{P99Ms: 8}}
			if tc.sweep {
				if opts.Sweep, err = LoadSweep(tc.fixture); err != nil {
					t.Fatal(err)
				}
			}
			r, err := Build(s, opts)
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, tc.name+".html")
			if err := WriteReport(s, path, opts); err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, sec := range r.Sections {
				ids = append(ids, sec.ID)
			}
			got, problems := loadInBrowser(t, browser, path, filepath.Join(shots, "report-"+tc.name+".png"), ids, 15*time.Second)

			t.Logf("%d charts, %d rendered, %d tooltips of markup-like names shown", got.Charts, got.Rendered, got.Tooltips)
			for _, p := range problems {
				t.Errorf("page problem: %s", p)
			}
			var wantHeadings []string
			charts := 0
			for _, sec := range r.Sections {
				wantHeadings = append(wantHeadings, fmt.Sprintf("%d. %s", sec.Number, sec.Title))
				for _, b := range sec.Blocks {
					if b.Chart != nil {
						charts++
					}
				}
			}
			if got.Charts != charts || got.Rendered != charts {
				t.Errorf("charts in page %d, rendered %d; the model has %d", got.Charts, got.Rendered, charts)
			}
			if strings.Join(got.Headings, "|") != strings.Join(wantHeadings, "|") {
				t.Errorf("section headings\n got %q\nwant %q", got.Headings, wantHeadings)
			}
			for _, must := range []string{"Executive summary", "Topology", "Request paths and policy findings", "Latency", "Cost", "Rollout readiness", "Assumptions and reproducibility"} {
				if !strings.Contains(strings.Join(got.Headings, "|"), must) {
					t.Errorf("section %q missing from the page", must)
				}
			}
			if got.XSS || got.Injected != 0 {
				t.Errorf("names from the results became markup: xss ran=%v, injected elements=%d", got.XSS, got.Injected)
			}
			if tc.name == "xss" && got.Tooltips < 5 {
				t.Errorf("only %d tooltips of markup-like names were shown", got.Tooltips)
			}
		})
	}
}

// TestBrowserCheckCatchesBrokenPages shows the browser test can fail: a
// page that loads ECharts from a CDN (what go-echarts does by default) and
// a page that throws are both caught.
func TestBrowserCheckCatchesBrokenPages(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; the full suite (go test ./...) runs it")
	}
	browser := startBrowser(t, findChromium(t))
	dir := t.TempDir()
	cdn := filepath.Join(dir, "cdn.html")
	page := `<!DOCTYPE html><html><head><meta charset="utf-8">
<script src="https://go-echarts.github.io/go-echarts-assets/assets/echarts.min.js"></script></head>
<body><section><h2>1. Broken</h2><div id="c" class="chart-box" style="height:200px"></div></section>
<script>echarts.init(document.getElementById("c")).setOption({series: []});</script></body></html>`
	if err := os.WriteFile(cdn, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got, problems := loadInBrowser(t, browser, cdn, filepath.Join(dir, "cdn.png"), nil, time.Second)
	joined := strings.Join(problems, "\n")
	if got.Rendered != 0 || got.Charts != 1 {
		t.Errorf("CDN page: charts %d rendered %d, want 1 and 0", got.Charts, got.Rendered)
	}
	for _, want := range []string{"network request: https://go-echarts.github.io", "echarts is not defined"} {
		if !strings.Contains(joined, want) {
			t.Errorf("CDN page: problems do not report %q:\n%s", want, joined)
		}
	}

	// A tooltip that renders a name as HTML (a JS formatter returning it)
	// must be caught: the report's own template formatter escapes it.
	raw := filepath.Join(dir, "raw-tooltip.html")
	page = `<!DOCTYPE html><html><head><meta charset="utf-8"><script>` + echartsJS + `</script></head><body>
<div id="c" class="chart-box" style="height:300px"></div>
<script>echarts.init(document.getElementById("c")).setOption({animation: false, tooltip: {trigger: "item", formatter: function (p) { return p.name; }},
series: [{type: "graph", layout: "circular", data: [{name: '<img src=x onerror="window.__xss=9">'}, {name: "b"}]}]});</script></body></html>`
	if err := os.WriteFile(raw, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	got, _ = loadInBrowser(t, browser, raw, filepath.Join(dir, "raw.png"), nil, 2*time.Second)
	if !got.XSS || got.Injected == 0 {
		t.Errorf("raw-HTML tooltip not caught: %+v", got)
	}

	throws := filepath.Join(dir, "throws.html")
	if err := os.WriteFile(throws, []byte(`<!DOCTYPE html><html><body><script>console.error("boom"); null.x;</script></body></html>`), 0o644); err != nil {
		t.Fatal(err)
	}
	_, problems = loadInBrowser(t, browser, throws, filepath.Join(dir, "throws.png"), nil, time.Second)
	joined = strings.Join(problems, "\n")
	for _, want := range []string{`console.error: "boom"`, "exception: Uncaught"} {
		if !strings.Contains(joined, want) {
			t.Errorf("throwing page: problems do not report %q:\n%s", want, joined)
		}
	}
}

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
	Charts   int      `json:"charts"`   // chart containers
	Rendered int      `json:"rendered"` // containers with a canvas or svg of non-zero size and an echarts instance
	Headings []string `json:"headings"` // section h2 texts
	XSS      bool     `json:"xss"`      // any injected script ran
	Injected int      `json:"injected"` // elements created from names (img, script from data)
	Tooltips int      `json:"tooltips"` // tooltips shown without error
}

const checkJS = `(() => {
  const boxes = [...document.querySelectorAll('.chart-box')];
  let rendered = 0, tooltips = 0;
  for (const b of boxes) {
    const inst = echarts.getInstanceByDom(b);
    const c = b.querySelector('canvas, svg');
    if (inst && c && c.getBoundingClientRect().width > 0 && c.getBoundingClientRect().height > 0) rendered++;
    if (!inst) continue;
    // Show a tooltip for the first few data items of every series: tooltip
    // HTML is where unescaped names would turn into markup.
    const opt = inst.getOption();
    (opt.series || []).forEach((s, si) => {
      const n = Math.min((s.data || []).length, 5);
      for (let i = 0; i < n; i++) { inst.dispatchAction({type: 'showTip', seriesIndex: si, dataIndex: i}); tooltips++; }
    });
    inst.dispatchAction({type: 'hideTip'});
  }
  return {
    charts: boxes.length,
    rendered: rendered,
    headings: [...document.querySelectorAll('section > h2')].map(h => h.textContent),
    xss: window.__xss !== undefined,
    injected: document.querySelectorAll('img, script[src], iframe, b').length,
    tooltips: tooltips,
  };
})()`

// loadInBrowser opens the report at path in headless Chromium with the
// network cut off and returns what checkJS sees and the problems the page
// reported; it saves a full-page PNG screenshot to shot and one per
// section beside it.
func loadInBrowser(t *testing.T, chromium, path, shot string, sections []string) (browserCheck, []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
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
	defer acancel()
	var problems pageProblems
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(problems.listen))
	defer bcancel()

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
		chromedp.WithPollingTimeout(15*time.Second)))
	check, err := chromedp.Run(bctx, chromedp.Evaluate[browserCheck](checkJS))
	if err != nil {
		t.Fatalf("evaluate checks: %v", err)
	}
	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot of %s: %s", filepath.Base(path), shot)
	// One picture per section too: the full page is too tall to look at.
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
	chromium := findChromium(t)
	dir := t.TempDir()
	shots := artifactDir(t)

	cases := []struct {
		name    string
		fixture string
		sweep   bool
	}{
		{"fixture", "testdata/fixture", true},
		{"xss", "testdata/xss", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := LoadResults(tc.fixture)
			if err != nil {
				t.Fatal(err)
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
			got, problems := loadInBrowser(t, chromium, path, filepath.Join(shots, "report-"+tc.name+".png"), ids)

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
			if got.Tooltips == 0 {
				t.Error("no tooltip was exercised")
			}
		})
	}
}

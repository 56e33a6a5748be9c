package scenarios

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/expfmt"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
)

// referenceProm is metrics.prom as client_golang writes it: the registry
// gathered and encoded by prometheus.WriteToTextfile.
func referenceProm(t *testing.T, set models.MetricsSet) []byte {
	t.Helper()
	reg, err := set.Registry()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "ref.prom")
	if err := prometheus.WriteToTextfile(p, reg); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// referenceOM is metrics.om as expfmt's OpenMetrics encoder writes the
// timestamped families, moved by shiftMs.
func referenceOM(t *testing.T, set models.MetricsSet, shiftMs int64) []byte {
	t.Helper()
	fams, err := set.Timestamped()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fams {
		for _, m := range f.Metric {
			if m.TimestampMs != nil {
				ts := *m.TimestampMs + shiftMs
				m.TimestampMs = &ts
			}
		}
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeOpenMetrics))
	for _, f := range fams {
		if err := enc.Encode(f); err != nil {
			t.Fatal(err)
		}
	}
	if c, ok := enc.(expfmt.Closer); ok {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestStreamingExportMatchesRegistry: the streaming writers produce, byte
// for byte, what client_golang's registry and expfmt's OpenMetrics encoder
// produce, on built-in scenarios that between them have every reporter,
// HTTP and TCP, sidecars, waypoints, several modes, failures and denials.
func TestStreamingExportMatchesRegistry(t *testing.T) {
	names := []string{"modes-compare", "waypoint-bypass", "ztunnel-node-failure", "pooling", "canary-httproute"}
	if testing.Short() {
		names = names[:2]
	}
	for _, tc := range []struct{ name, detail string }{{names[0], "pod"}, {names[1], "pod"}} {
		names = append(names, tc.name+"@"+tc.detail)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			name, detail, _ := strings.Cut(name, "@")
			sc, err := Load(name)
			if err != nil {
				t.Fatal(err)
			}
			run, err := Execute(sc, Options{Duration: 12 * sim.Second, MetricsDetail: detail})
			if err != nil {
				t.Fatal(err)
			}
			set := make(models.MetricsSet, 0, len(run.Modes))
			for _, m := range run.Modes {
				set = append(set, m.Metrics)
			}
			var prom bytes.Buffer
			if err := set.WriteText(&prom); err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(prom.Bytes(), []byte("istio_tcp_connections_opened_total{")) {
				t.Fatalf("metrics.prom has no TCP series:\n%.500s", prom.Bytes())
			}
			if want := referenceProm(t, set); !bytes.Equal(prom.Bytes(), want) {
				t.Errorf("metrics.prom differs from client_golang's (%d vs %d bytes)%s", prom.Len(), len(want), firstDiff(prom.Bytes(), want))
			}
			for _, shift := range []int64{0, int64(90 * 24 * time.Hour / time.Millisecond)} {
				var om bytes.Buffer
				if err := set.WriteOpenMetrics(&om, shift); err != nil {
					t.Fatal(err)
				}
				if name == "modes-compare" && bytes.Count(om.Bytes(), []byte(" 1.7")) < 10 || !bytes.HasSuffix(om.Bytes(), []byte("# EOF\n")) {
					t.Fatalf("metrics.om has too few timestamped samples:\n%.500s", om.Bytes())
				}
				if want := referenceOM(t, set, shift); !bytes.Equal(om.Bytes(), want) {
					t.Errorf("metrics.om (shift %d ms) differs from expfmt's (%d vs %d bytes)%s", shift, om.Len(), len(want), firstDiff(om.Bytes(), want))
				}
			}
		})
	}
}

// firstDiff shows the first differing line of two outputs.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := 0; i < len(g) && i < len(w); i++ {
		if !bytes.Equal(g[i], w[i]) {
			return "\nline " + itoa(i+1) + ":\n got  " + string(g[i]) + "\n want " + string(w[i])
		}
	}
	return "\n(one is a prefix of the other)"
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestMetricsDetailPod: at pod detail every series names its reporting
// pod, the totals are the workload detail's split by pod, and summary.json
// is unchanged.
func TestMetricsDetailPod(t *testing.T) {
	sc, err := Load("modes-compare")
	if err != nil {
		t.Fatal(err)
	}
	write := func(detail string) (summary, prom []byte) {
		run, err := Execute(sc, Options{Duration: 5 * sim.Second, MetricsDetail: detail})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		if _, err := run.Write(dir); err != nil {
			t.Fatal(err)
		}
		summary, _ = os.ReadFile(filepath.Join(dir, SummaryFile))
		prom, _ = os.ReadFile(filepath.Join(dir, MetricsFile))
		return summary, prom
	}
	sumW, promW := write("")
	sumP, promP := write("pod")
	if !bytes.Equal(sumW, sumP) {
		t.Error("summary.json depends on the metrics detail")
	}
	total := func(prom []byte, metric string) (sum float64, series int, withPod int) {
		for _, line := range strings.Split(string(prom), "\n") {
			if !strings.HasPrefix(line, metric+"{") {
				continue
			}
			series++
			if strings.Contains(line, `,pod="`) {
				withPod++
			}
			v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			sum += v
		}
		return sum, series, withPod
	}
	for _, metric := range []string{"istio_requests_total", "istio_tcp_sent_bytes_total", "istio_tcp_connections_opened_total"} {
		w, ws, wp := total(promW, metric)
		p, ps, pp := total(promP, metric)
		if ws == 0 || w != p {
			t.Errorf("%s: workload total %g over %d series, pod total %g", metric, w, ws, p)
		}
		if wp != 0 || pp != ps {
			t.Errorf("%s: %d of %d workload series and %d of %d pod series have a pod label", metric, wp, ws, pp, ps)
		}
		if ps <= ws {
			t.Errorf("%s: %d series at pod detail, not more than workload's %d", metric, ps, ws)
		}
	}
	for _, pod := range []string{`pod="frontend-0"`, `pod="ztunnel-node-1"`, `pod="waypoint-0"`} {
		if !bytes.Contains(promP, []byte(pod)) {
			t.Errorf("no series reported by %s", pod)
		}
	}
	if _, err := Execute(sc, Options{Duration: sim.Second, MetricsDetail: "node"}); err == nil || !strings.Contains(err.Error(), "metrics detail") {
		t.Errorf("bad detail: error %v", err)
	}
}

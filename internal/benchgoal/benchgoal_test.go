package benchgoal

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"
)

// testdata/bench.txt is a real run of the goal benchmarks (2026-12-06, the
// project's 2-vCPU VM, with another engineer's tests running).
func TestMarkdownGolden(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "bench.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rep, err := Read(f, "bench.txt")
	if err != nil {
		t.Fatal(err)
	}
	md, err := rep.Markdown("2026-12-06, load 0.3–2.5")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, filepath.Join("testdata", "bench.md"), md)
}

func TestReadGoals(t *testing.T) {
	const in = `goos: linux
goarch: amd64
pkg: example.com/m/sim
cpu: Test CPU
BenchmarkA-2	1	5 ns/op	3 CPU-s/run	10 goal-max-CPU-s/run
BenchmarkA-2	1	5 ns/op	12 CPU-s/run	10 goal-max-CPU-s/run
BenchmarkA-2	1	5 ns/op	4 CPU-s/run	10 goal-max-CPU-s/run
--- BENCH: BenchmarkA-2
    a_test.go:1: a log line
BenchmarkHop/up	10	5 ns/op	900 MB/s	1000 goal-min-MB/s
BenchmarkHop/up-2	10	5 ns/op	1500 MB/s
BenchmarkB-2	1	5 ns/op	2 x	1 goal-min-x
PASS
ok	example.com/m/sim	1.0s
`
	rep, err := Read(strings.NewReader(in), "in.txt")
	if err != nil {
		t.Fatal(err)
	}
	if rep.CPU != "Test CPU" || rep.OS != "linux" || rep.Arch != "amd64" {
		t.Errorf("machine = %q %s/%s", rep.CPU, rep.OS, rep.Arch)
	}
	if len(rep.Goals) != 3 {
		t.Fatalf("%d goals, want 3: %+v", len(rep.Goals), rep.Goals)
	}
	a, hop := rep.Goals[0], rep.Goals[1]
	if a.Benchmark != "A" || a.Procs != 2 || a.Unit != "CPU-s/run" || !a.Ceiling || a.Limit != 10 || len(a.Values) != 3 {
		t.Errorf("A = %+v", a)
	}
	if a.Median() != 4 || !a.Met() {
		t.Errorf("A median %v met %v, want 4 true", a.Median(), a.Met())
	}
	// MB/s as reported, not benchfmt's tidied B/s.
	if hop.Benchmark != "Hop/up" || hop.Procs != 1 || hop.Unit != "MB/s" || hop.Ceiling || hop.Limit != 1000 || hop.Median() != 900 || hop.Met() {
		t.Errorf("Hop = %+v median %v met %v", hop, hop.Median(), hop.Met())
	}
	md, err := rep.Markdown("")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"| sim | `A` | CPU-s/run | ≤ 10 | 4 (median of 3, 3–12) | yes |",
		"| sim | `Hop/up (GOMAXPROCS=1)` | MB/s | ≥ 1000 | 900 | **no** (0.90× the goal) |",
		"| sim | `B` | x | ≥ 1 | 2 | yes |",
		"on Test CPU (linux/amd64), GOMAXPROCS=2 unless a row says otherwise.",
	} {
		if !strings.Contains(string(md), want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
}

func TestReadErrors(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"goal without its figure", "BenchmarkA-2\t1\t5 ns/op\t10 goal-max-CPU-s/run\n",
			"in.txt:1: BenchmarkA-2 reports goal-max-CPU-s/run but no CPU-s/run"},
		{"malformed line", "pkg: x\nBenchmarkA-2\tmany\t5 ns/op\n", "in.txt:2: parsing iteration count"},
		{"goal changes between lines", "BenchmarkA-2\t1\t1 x\t2 goal-min-x\nBenchmarkA-2\t1\t1 x\t3 goal-min-x\n",
			"in.txt:2: BenchmarkA-2 reports goal-min-x 3, an earlier line goal-min-x 2"},
		{"direction changes between lines", "BenchmarkA-2\t1\t1 x\t2 goal-min-x\nBenchmarkA-2\t1\t1 x\t2 goal-max-x\n",
			"in.txt:2: BenchmarkA-2 reports goal-max-x 2, an earlier line goal-min-x 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Read(strings.NewReader(tc.in), "in.txt")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	rep, err := Read(strings.NewReader("BenchmarkA-2\t1\t5 ns/op\n"), "in.txt")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rep.Markdown(""); err != ErrNoGoals {
		t.Errorf("Markdown without goals: %v, want ErrNoGoals", err)
	}
}

func TestMedianAndMet(t *testing.T) {
	for _, tc := range []struct {
		values  []float64
		limit   float64
		ceiling bool
		median  float64
		met     bool
	}{
		{[]float64{5}, 5, true, 5, true},          // at the ceiling is within it
		{[]float64{5}, 5, false, 5, true},         // at the floor too
		{[]float64{1, 9, 2, 8}, 5, true, 5, true}, // even count: mean of the middle two
		{[]float64{1, 9, 2, 8, 7}, 5, true, 7, false},
		{[]float64{1, 9, 2, 8, 7}, 5, false, 7, true},
		{[]float64{0.9, 1.3, 1.1}, 1.2, true, 1.1, true},
	} {
		g := Goal{Values: tc.values, Limit: tc.limit, Ceiling: tc.ceiling}
		if m := g.Median(); m != tc.median || g.Met() != tc.met {
			t.Errorf("%v against %v (ceiling %v): median %v met %v, want %v %v", tc.values, tc.limit, tc.ceiling, m, g.Met(), tc.median, tc.met)
		}
	}
}

func TestNum(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{
		{0, "0"}, {1, "1"}, {1.2, "1.2"}, {0.03942, "0.0394"}, {29.7, "29.7"}, {29.704, "29.7"},
		{418.6, "419"}, {1024, "1024"}, {1.8, "1.8"}, {17183066, "17.2 M"}, {2e7, "20 M"}, {-2.583, "-2.58"},
	} {
		if got := num(tc.x); got != tc.want {
			t.Errorf("num(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

func TestSplice(t *testing.T) {
	const table = "| new |\n"
	for _, tc := range []struct{ name, doc, want, err string }{
		{"replaces the block", "a\n<!-- benchtable:begin -->\n| old |\n| old |\n<!-- benchtable:end -->\nb\n",
			"a\n<!-- benchtable:begin -->\n| new |\n<!-- benchtable:end -->\nb\n", ""},
		{"empty block", "<!-- benchtable:begin -->\n<!-- benchtable:end -->\n",
			"<!-- benchtable:begin -->\n| new |\n<!-- benchtable:end -->\n", ""},
		{"CRLF lines", "a\r\n<!-- benchtable:begin -->\r\n| old |\r\n<!-- benchtable:end -->\r\n",
			"a\r\n<!-- benchtable:begin -->\r\n| new |\n<!-- benchtable:end -->\r\n", ""},
		{"no begin", "<!-- benchtable:end -->\n", "", "no line <!-- benchtable:begin -->"},
		{"no end", "<!-- benchtable:begin -->\n", "", "no line <!-- benchtable:end -->"},
		{"marker inside a line is not one", "x <!-- benchtable:begin -->\n<!-- benchtable:end -->\n", "", "no line <!-- benchtable:begin -->"},
		{"two begins", "<!-- benchtable:begin -->\n<!-- benchtable:begin -->\n<!-- benchtable:end -->\n", "", "2 lines <!-- benchtable:begin -->"},
		{"end first", "<!-- benchtable:end -->\n<!-- benchtable:begin -->\n", "", "comes before"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Splice([]byte(tc.doc), []byte(table))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Errorf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

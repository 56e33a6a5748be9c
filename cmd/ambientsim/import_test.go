package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// savedResponses are the real server's responses the round trip saved
// (scenarios/trafficimport, go test -update).
var savedResponses = filepath.Join("..", "..", "scenarios", "trafficimport", "testdata", "sidecar.responses.json")

func savedEnd(t *testing.T) string {
	t.Helper()
	var r struct {
		Queries []struct {
			Time string `json:"time"`
		} `json:"queries"`
	}
	if err := json.Unmarshal(readFile(t, savedResponses), &r); err != nil || len(r.Queries) == 0 {
		t.Fatalf("%s: %v", savedResponses, err)
	}
	return r.Queries[0].Time
}

// TestImportTrafficCommand: import from saved responses into a whole
// scenario, run it, and see predicted vs observed per edge.
func TestImportTrafficCommand(t *testing.T) {
	dir := t.TempDir()
	imported := filepath.Join(dir, "imported.yaml")
	args := []string{"import", "traffic", "--from-file", savedResponses, "--range", "1m", "--peak-window", "30s",
		"--end", savedEnd(t), "--selector", `mode="sidecar"`, "--scenario", "modes-compare", "-o", imported}
	out, code := runCLI(t, args...)
	if code != 0 || !strings.Contains(out, "imported 4 edges") {
		t.Fatalf("import: exit %d: %s", code, out)
	}
	yml := string(readFile(t, imported))
	for _, want := range []string{"traffic:", "from: loadgen/client", "fanout: 0.49", "observed:", "reporter: destination", "p99_ms:"} {
		if !strings.Contains(yml, want) {
			t.Errorf("imported scenario lacks %q", want)
		}
	}
	out, code = runCLI(t, "run", imported, "--duration", "5s", "--out", filepath.Join(dir, "run"))
	if code != 0 || !strings.Contains(out, "predicted vs observed per edge") || !strings.Contains(out, "shop/frontend -> shop/reviews") {
		t.Fatalf("run of the imported scenario: exit %d: %s", code, out)
	}
	var sum struct {
		Observed struct {
			Edges []struct {
				Mode, Source  string
				PredictedFrom string `json:"predicted_from"`
			} `json:"edges"`
		} `json:"observed"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dir, "run", "summary.json")), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Observed.Edges) != 16 { // 4 edges × 4 modes
		t.Errorf("summary.json observed has %d rows, want 16", len(sum.Observed.Edges))
	}

	// The fragment alone goes to stdout; the queries print without a server.
	if out, code := runCLI(t, append(args[:len(args)-4], "--end", savedEnd(t))...); code != 0 || !strings.HasPrefix(out, "# Traffic imported") {
		t.Errorf("fragment: exit %d: %.200s", code, out)
	}
	if out, code := runCLI(t, "import", "traffic", "--print-queries", "--range", "1h"); code != 0 || strings.Count(out, "\n") != 11 {
		t.Errorf("--print-queries: exit %d: %s", code, out)
	}
}

func TestImportTrafficUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import", "traffic"}, 2, "one of --prometheus"},
		{[]string{"import", "traffic", "--prometheus", "http://127.0.0.1:9", "--from-file", bad}, 2, "one of --prometheus"},
		{[]string{"import", "traffic", "--from-file", bad, "--range", "soon"}, 2, "--range"},
		{[]string{"import", "traffic", "--from-file", bad, "--end", "yesterday"}, 2, "--end"},
		{[]string{"import", "traffic", "--from-file", bad, "--range", "30s"}, 2, "peak window"},
		{[]string{"import", "traffic", "--from-file", bad}, 1, "format"},
		{[]string{"import", "traffic", "--from-file", savedResponses, "--range", "1m", "--peak-window", "30s", "--selector", `mode="sidecar"`, "--scenario", "modes-compar"}, 2, `did you mean "modes-compare"?`},
	} {
		out, code := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(out, tt.want) {
			t.Errorf("%v: exit %d, output %q; want exit %d and %q", tt.args, code, out, tt.code, tt.want)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/internal/golden"
)

// TestHostileInputs runs every case of testdata/hostile: a file whose
// second line is the command to run on it ("# ambientsim run FILE --out
// OUT"; FILE is the case file, OUT a fresh directory). Each must fail
// clearly, as its .golden file records: exit 1 or 2, no panic, and the
// file named with a line when the input is a file. The cases are the
// reproductions of issue 18 and their neighbours; new hostile inputs go
// here as files (go test -update writes their .golden).
func TestHostileInputs(t *testing.T) {
	files, err := filepath.Glob("testdata/hostile/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	fileLine := regexp.MustCompile(`[\w./-]+\.yaml:\d+: `)
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.SplitN(string(data), "\n", 3)
		if len(lines) < 2 || !strings.HasPrefix(lines[1], "# ambientsim ") {
			continue // a helper file (base-scenario.yaml)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			if strings.Contains(lines[1], "/dev/zero") && testing.Short() {
				t.Skip("reads 256 MiB")
			}
			out := filepath.Join(t.TempDir(), "out")
			var args []string
			for _, a := range strings.Fields(strings.TrimPrefix(lines[1], "# ambientsim ")) {
				switch a {
				case "FILE":
					a = file
				case "OUT":
					a = out
				}
				args = append(args, a)
			}
			got, code := runCLI(t, args...)
			got = strings.ReplaceAll(got, out, "OUT")
			if code != 1 && code != 2 {
				t.Errorf("exit %d, want 1 or 2:\n%s", code, got)
			}
			if strings.Contains(got, "panic") || strings.Contains(got, "goroutine ") {
				t.Errorf("panicked:\n%s", got)
			}
			if strings.Contains(lines[1], "FILE") && (!strings.Contains(got, filepath.Base(file)) || !fileLine.MatchString(got)) {
				t.Errorf("the error does not name a file and line:\n%s", got)
			}
			if _, err := os.Stat(out); err == nil {
				t.Errorf("a failed run wrote %s", out)
			}
			golden.Check(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte("exit "+string(rune('0'+code))+"\n"+got))
		})
	}
}

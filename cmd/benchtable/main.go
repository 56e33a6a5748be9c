// Command benchtable turns `go test -bench` output into the table of
// performance goals that README.md and docs/performance.md show: every
// figure a benchmark reports next to a goal-max-… or goal-min-… metric
// (internal/benchgoal), its goal, the measured median and whether it is met.
//
//	go test -run '^$' -bench 'SchedulerGoal|LargeCluster|Scale|SweepCores|Hop|PathsExport' \
//	    ./sim ./scenarios/ ./validation/hbone/ ./topology/ | tee bench.txt
//	go run ./cmd/benchtable -note "2026-12-06, load 0.3" bench.txt             # print the table
//	go run ./cmd/benchtable -note "2026-12-06, load 0.3" -readme README.md bench.txt
//
// With -readme the table replaces the lines between <!-- benchtable:begin -->
// and <!-- benchtable:end --> in that file (written whole or not at all).
// Several files are read as one report (say, a GOMAXPROCS=1 run beside the
// default one); "-" or no file reads standard input.
//
// Exit codes: 0 success, 1 failure (unreadable or malformed input, no goals,
// missing markers), 2 usage error.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/ambientsim/ambientsim/internal/benchgoal"
	"github.com/ambientsim/ambientsim/internal/outdir"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the command without os.Exit, so tests can drive it.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	fs.SetOutput(stderr)
	readme := fs.String("readme", "", "rewrite the table between the benchtable markers of this file instead of printing it")
	note := fs.String("note", "", "free text after the machine line: the date, the load average")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: benchtable [-readme FILE] [-note TEXT] [BENCH-OUTPUT ...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if err := table(fs.Args(), *readme, *note, stdin, stdout); err != nil {
		fmt.Fprintf(stderr, "benchtable: %v\n", err)
		return 1
	}
	return 0
}

func table(files []string, readme, note string, stdin io.Reader, stdout io.Writer) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	rep := &benchgoal.Report{}
	for _, f := range files {
		if err := add(rep, f, stdin); err != nil {
			return err
		}
	}
	md, err := rep.Markdown(note)
	if err != nil {
		return err
	}
	if readme == "" {
		_, err := stdout.Write(md)
		return err
	}
	doc, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	out, err := benchgoal.Splice(doc, md)
	if err != nil {
		return fmt.Errorf("%s: %w", readme, err)
	}
	st, err := os.Stat(readme)
	if err != nil {
		return err
	}
	return outdir.WriteFile(readme, out, st.Mode().Perm())
}

func add(rep *benchgoal.Report, name string, stdin io.Reader) error {
	if name == "-" {
		return rep.Add(stdin, "<stdin>")
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return rep.Add(f, name)
}

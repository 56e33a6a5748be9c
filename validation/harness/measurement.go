package harness

import (
	"time"

	dto "github.com/prometheus/client_model/go"
)

// Measurement is everything one Run measured.
type Measurement struct {
	Backend    string
	RunID      string
	Experiment string
	Start, End time.Time
	// Loads holds one result per Experiment.Loads entry, in order.
	Loads []LoadResult
	// Processes holds the CPU and memory of every harness process,
	// long-running ones first, in start order.
	Processes []ProcessUsage
	// Metrics holds one scrape per process that serves metrics.
	Metrics []Scrape
	// Events lists the failures injected, with their actual times.
	Events []Event
	// NotEmulated lists wishes of the plan this backend could not honour;
	// a report must print them next to the results.
	NotEmulated []string
}

// LoadResult is one load generator's outcome.
type LoadResult struct {
	Load    Load
	Process string
	// Result is the parsed fortio-style JSON; nil if none was written.
	Result *FortioResult
	// Err is why the load generator failed ("" = it exited cleanly).
	Err string
}

// ProcessUsage is one process's resource use.
type ProcessUsage struct {
	Process string
	Kind    ProcessKind
	Node    string
	// CPUSeconds is CPU time (user+system) used during the Run, from just
	// before the loads start to the end of Settle; for a load generator,
	// its whole life.
	CPUSeconds float64
	// PeakMemoryBytes is the high-water mark since the process started
	// (cgroup memory peak, or peak RSS in /proc mode).
	PeakMemoryBytes int64
	// PeakRSSBytes is the process's peak resident set (VmHWM) read at the
	// end of the Run, 0 if it had exited. Unlike a cgroup's memory it
	// includes file-backed pages (the binary's text) charged elsewhere.
	PeakRSSBytes int64
	// Source says where the numbers come from (cgroup-v1, cgroup-v2, proc).
	Source   CgroupMode
	Restarts int
}

// Scrape is one Prometheus scrape of a process, parsed with the
// client_golang text parser.
type Scrape struct {
	Process  string
	URL      string
	Families map[string]*dto.MetricFamily `json:"-"`
	// Samples is Families flattened (see Flatten), for JSON output.
	Samples []Sample
	Err     string
}

// Event is something the harness did to the system during a Run.
type Event struct {
	At     time.Duration // since the loads started
	Action FailureKind
	Target string
	Err    string
}

// Process returns the usage of the named process.
func (m *Measurement) Process(name string) (ProcessUsage, bool) {
	for _, p := range m.Processes {
		if p.Process == name {
			return p, true
		}
	}
	return ProcessUsage{}, false
}

// Scrape returns the scrape of the named process.
func (m *Measurement) Scrape(name string) (Scrape, bool) {
	for _, s := range m.Metrics {
		if s.Process == name {
			return s, true
		}
	}
	return Scrape{}, false
}

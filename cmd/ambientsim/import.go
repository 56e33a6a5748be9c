package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/ambientsim/ambientsim/internal/outdir"
	"github.com/ambientsim/ambientsim/scenarios/sweep"
	"github.com/ambientsim/ambientsim/scenarios/trafficimport"
)

func init() { register(newImportCmd) }

func newImportCmd(v *viper.Viper) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import scenario inputs from a running cluster",
	}
	traffic := &cobra.Command{
		Use:   "traffic",
		Short: "Write a scenario's traffic (and observed latency) from the cluster's Prometheus",
		Long: `Traffic reads Istio's standard metrics (istio_requests_total,
istio_request_duration_milliseconds, istio_request_bytes, istio_response_bytes,
istio_tcp_connections_opened_total, istio_tcp_sent/received_bytes_total) over
--range ending at --end, from a Prometheus server (--prometheus URL) or from
saved API responses (--from-file), and writes:

  traffic:   one edge per source workload → destination service: the mean
             rate of clients, the fan-out of workloads that serve requests,
             protocol, request and response sizes fitted to the byte
             histograms (tcp edges: one call per connection)
  observed:  per edge, the reporter used, mean and peak rate, p50/p99 of
             istio_request_duration_milliseconds, error ratio, sizes

With --scenario BASE the output is BASE with these sections in place
(its traffic.defaults kept); "ambientsim run" then reports predicted vs
observed rate and latency per edge. Each edge takes one reporter's figures
(HTTP: destination, else waypoint, else source; TCP-only: source, else
destination), so nothing is counted twice. See docs/import.md.`,
		Example: `  ambientsim import traffic --prometheus http://localhost:9090 --range 1h --scenario cluster.yaml -o imported.yaml
  ambientsim import traffic --prometheus http://prom:9090 --namespace shop --save-responses prom.json -o traffic.yaml
  ambientsim import traffic --from-file prom.json --scenario cluster.yaml -o imported.yaml   # air-gapped
  ambientsim import traffic --print-queries --range 1h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runImportTraffic(cmd, v) },
	}
	f := traffic.Flags()
	f.String("prometheus", "", "Prometheus base URL, e.g. http://prometheus.istio-system:9090")
	f.String("from-file", "", "saved query responses instead of a server: a JSON file (--save-responses) or a directory of <id>.json")
	f.String("range", "1h", "length of the range the rates and quantiles cover, e.g. 1h, 30m")
	f.String("end", "now", "end of the range: now, RFC 3339 (2026-12-05T10:00:00Z) or unix seconds")
	f.String("peak-window", "1m", "rate window of the peak rate (at least twice the scrape interval)")
	f.StringSlice("namespace", nil, "keep edges whose source or destination is in these namespaces (repeatable)")
	f.String("selector", "", `extra PromQL label matchers for every query, e.g. cluster="prod"`)
	f.String("scenario", "", "base scenario (file or built-in name): write it whole with the imported traffic")
	f.StringP("output", "o", "", "file to write (default stdout)")
	f.String("save-responses", "", "also save the query responses to FILE (replay with --from-file)")
	f.Bool("print-queries", false, "print the queries (id, time, PromQL, tab-separated) and exit")
	cmd.AddCommand(traffic)
	for _, c := range cmd.Commands() {
		c.Args = wrapArgs(c.Args)
	}
	return cmd
}

// parseTimeFlag reads "now", RFC 3339 or unix seconds (fractions allowed).
func parseTimeFlag(name, s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "now" {
		return now, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	var secs float64
	if _, err := fmt.Sscanf(s, "%g", &secs); err == nil && !strings.ContainsAny(s, "-:TZ ") && secs > 0 {
		return time.Unix(0, int64(secs*1e9)).UTC(), nil
	}
	return time.Time{}, usageErrorf("--%s %q: want now, RFC 3339 (2026-12-05T10:00:00Z) or unix seconds", name, s)
}

func parseDurationFlag(name, s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, usageErrorf("--%s %q: want a positive duration like 1h or 30s", name, s)
	}
	return d, nil
}

func runImportTraffic(cmd *cobra.Command, v *viper.Viper) error {
	o, err := importOptions(v)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if v.GetBool("print-queries") {
		ts := o.End.UTC().Format(time.RFC3339)
		for _, q := range trafficimport.Queries(o) {
			fmt.Fprintf(w, "%s\t%s\t%s\n", q.ID, ts, q.PromQL)
		}
		return nil
	}
	if base := v.GetString("scenario"); base != "" {
		if err := checkScenarioArg(base, "scenario", scenarioNames()); err != nil {
			return err
		}
	}
	url, file := v.GetString("prometheus"), v.GetString("from-file")
	if (url == "") == (file == "") {
		return usageErrorf("give one of --prometheus URL or --from-file FILE")
	}
	out := v.GetString("output")
	if err := checkImportOutput(out); err != nil {
		return err
	}
	src, err := importSource(url, file)
	if err != nil {
		return err
	}
	var rec *trafficimport.Recorder
	if v.GetString("save-responses") != "" {
		rec = &trafficimport.Recorder{Source: src}
		src = rec
	}
	res, err := trafficimport.Import(cmd.Context(), src, o)
	if err != nil {
		return err
	}
	if rec != nil {
		if err := saveResponses(cmd, rec, v.GetString("save-responses")); err != nil {
			return err
		}
	}
	var data []byte
	if base := v.GetString("scenario"); base != "" {
		data, err = res.Scenario(base, out)
	} else {
		data, err = res.Fragment()
	}
	if err != nil {
		return err
	}
	for _, warn := range res.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "ambientsim: note:", warn)
	}
	if out == "" {
		_, err = w.Write(data)
		return err
	}
	if err := sweep.WriteFileAtomic(out, data); err != nil {
		return err
	}
	fmt.Fprintf(w, "imported %d edges from %s over %s ending %s\nwrote %s\n", len(res.Edges), res.Source, o.Range, o.End.UTC().Format(time.RFC3339), out)
	return nil
}

// importOptions are the import's options from the flags: the range, its
// end, the peak-rate window and the filters.
func importOptions(v *viper.Viper) (trafficimport.Options, error) {
	var o trafficimport.Options
	var err error
	if o.Range, err = parseDurationFlag("range", v.GetString("range")); err != nil {
		return o, err
	}
	if o.PeakWindow, err = parseDurationFlag("peak-window", v.GetString("peak-window")); err != nil {
		return o, err
	}
	if o.End, err = parseTimeFlag("end", v.GetString("end"), time.Now()); err != nil {
		return o, err
	}
	o.Namespaces = v.GetStringSlice("namespace")
	o.Selector = v.GetString("selector")
	if err := o.Validate(); err != nil {
		return o, usageErrorf("%v", err)
	}
	return o, nil
}

// checkImportOutput checks -o before querying: not a directory, and
// writable. "" is stdout.
func checkImportOutput(out string) error {
	if out == "" {
		return nil
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return fmt.Errorf("-o %s: is a directory; give a file", out)
	}
	return outdir.CheckWritable(filepath.Dir(out))
}

// importSource is the Prometheus server at url, else the responses saved
// in file.
func importSource(url, file string) (trafficimport.Source, error) {
	if url == "" {
		return trafficimport.ReadResponses(file)
	}
	src, err := trafficimport.Prometheus(url)
	if err != nil {
		return nil, usageErrorf("--prometheus: %v", err)
	}
	return src, nil
}

// saveResponses writes the responses rec recorded to p (--save-responses),
// for an air-gapped --from-file replay.
func saveResponses(cmd *cobra.Command, rec *trafficimport.Recorder, p string) error {
	js, err := json.MarshalIndent(rec.Responses(), "", "  ")
	if err != nil {
		return err
	}
	if err := sweep.WriteFileAtomic(p, append(js, '\n')); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "saved %d query responses to %s\n", len(rec.Responses().Queries), p)
	return nil
}

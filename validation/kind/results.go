package kind

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// ResultFromLogs finds the load generator's fortio-style JSON result in
// its log (kubectl logs mixes stdout and stderr): the last top-level JSON
// object, starting at the beginning of a line, that decodes as a result
// with a histogram or outcome counts. Log lines of a JSON logger decode
// too, but carry neither, so they are skipped.
func ResultFromLogs(logs []byte) (*harness.FortioResult, error) {
	s := string(logs)
	var starts []int
	if strings.HasPrefix(s, "{") {
		starts = append(starts, 0)
	}
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '\n' && s[i+1] == '{' {
			starts = append(starts, i+1)
		}
	}
	for i := len(starts) - 1; i >= 0; i-- {
		res, err := harness.ParseFortio(strings.NewReader(s[starts[i]:]))
		if err == nil && (res.DurationHistogram.Count > 0 || len(res.RetCodes) > 0) {
			return res, nil
		}
	}
	return nil, errors.New("no fortio-style JSON result in the load generator's log")
}

// ContainerStats is one container's usage from the kubelet stats summary.
type ContainerStats struct {
	CPUSeconds      float64 // cumulative
	WorkingSetBytes int64   // current
}

// ParseSummary decodes the kubelet's /stats/summary and returns usage per
// "namespace/pod/container".
func ParseSummary(data []byte) (map[string]ContainerStats, error) {
	var sum struct {
		Pods []struct {
			PodRef struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"podRef"`
			Containers []struct {
				Name string `json:"name"`
				CPU  *struct {
					UsageCoreNanoSeconds *uint64 `json:"usageCoreNanoSeconds"`
				} `json:"cpu"`
				Memory *struct {
					WorkingSetBytes *uint64 `json:"workingSetBytes"`
				} `json:"memory"`
			} `json:"containers"`
		} `json:"pods"`
	}
	if err := json.Unmarshal(data, &sum); err != nil {
		return nil, fmt.Errorf("stats summary: %w", err)
	}
	out := map[string]ContainerStats{}
	for _, p := range sum.Pods {
		for _, c := range p.Containers {
			var cs ContainerStats
			if c.CPU != nil && c.CPU.UsageCoreNanoSeconds != nil {
				cs.CPUSeconds = float64(*c.CPU.UsageCoreNanoSeconds) / 1e9
			}
			if c.Memory != nil && c.Memory.WorkingSetBytes != nil {
				cs.WorkingSetBytes = int64(*c.Memory.WorkingSetBytes)
			}
			out[p.PodRef.Namespace+"/"+p.PodRef.Name+"/"+c.Name] = cs
		}
	}
	return out, nil
}

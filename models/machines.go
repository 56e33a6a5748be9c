package models

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Machine types: a node's processors. A cloud vCPU is usually one
// hardware thread (hyperthread) of a physical core, so a busy node does
// less work per vCPU than an idle one: SMT 2 with a yield below 2.
//
// Speeds are per vCPU running alone on its physical core, relative to the
// reference core — one vCPU of an AWS m5 (Intel Xeon Skylake-SP /
// Cascade Lake, 3.1 GHz sustained all-core turbo). Each family's speed is
// its published sustained all-core turbo frequency divided by 3.1 GHz,
// times an IPC factor for the core generation: 1.0 for Skylake and Cascade
// Lake, 1.18 for Ice Lake (assumed: Intel's ~18 % IPC claim for Sunny Cove
// over Skylake, not measured here). The frequency sources are the
// providers' pages cited per family.

// MachineType is a family of instance types with the same processor.
type MachineType struct {
	Family   string  // e.g. "m5", "n2-standard", "Standard_D*s_v5"
	Provider string  // aws | gcp | azure | generic
	Speed    float64 // per vCPU alone, relative to the reference core
	SMT      int     // hardware threads per physical core
	SMTYield float64 // throughput of a core with both threads busy, relative to one
	Sizes    []int   // vCPU counts offered
	Source   string  // where the speed comes from
}

// smtYield is the assumed throughput gain of a physical core with both
// hyperthreads busy: Intel quotes up to 30 % for Hyper-Threading; server
// request-processing workloads gain roughly 15–30 %.
const smtYield = 1.25

const smtYieldSource = "assumed 1.25 (Intel's Hyper-Threading gains of up to 30 %; request-processing workloads 15–30 %)"

var machineTypes = []MachineType{
	{Family: "m5", Provider: "aws", Speed: 1.0, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 32, 48, 64, 96},
		Source: "reference: Intel Xeon Platinum 8175M/8259CL, sustained all-core turbo 3.1 GHz (https://aws.amazon.com/ec2/instance-types/m5/)"},
	{Family: "c5", Provider: "aws", Speed: 3.6 / 3.1, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 36, 48, 72, 96},
		Source: "Intel Xeon Platinum 8275CL (Cascade Lake), sustained all-core turbo 3.6 GHz (https://aws.amazon.com/ec2/instance-types/c5/): 3.6/3.1"},
	{Family: "m6i", Provider: "aws", Speed: 3.5 / 3.1 * 1.18, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 32, 48, 64, 96, 128},
		Source: "Intel Xeon 8375C (Ice Lake), all-core turbo 3.5 GHz (https://aws.amazon.com/ec2/instance-types/m6i/): 3.5/3.1 × 1.18 (Ice Lake IPC, assumed)"},
	{Family: "c6i", Provider: "aws", Speed: 3.5 / 3.1 * 1.18, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 32, 48, 64, 96, 128},
		Source: "Intel Xeon 8375C (Ice Lake), all-core turbo 3.5 GHz (https://aws.amazon.com/ec2/instance-types/c6i/): 3.5/3.1 × 1.18 (Ice Lake IPC, assumed)"},
	{Family: "e2-standard", Provider: "gcp", Speed: 2.7 / 3.1, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 32},
		Source: "assumed Intel Skylake, all-core turbo 2.7 GHz (https://cloud.google.com/compute/docs/cpu-platforms); E2 runs on whichever platform is available, so this is the low end: 2.7/3.1"},
	{Family: "n2-standard", Provider: "gcp", Speed: 3.4 / 3.1, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 32, 48, 64, 80, 96, 128},
		Source: "Intel Cascade Lake, all-core turbo 3.4 GHz (https://cloud.google.com/compute/docs/cpu-platforms): 3.4/3.1"},
	{Family: "c2-standard", Provider: "gcp", Speed: 3.8 / 3.1, SMT: 2, SMTYield: smtYield, Sizes: []int{4, 8, 16, 30, 60},
		Source: "Intel Cascade Lake, sustained all-core turbo 3.8 GHz (https://cloud.google.com/compute/docs/cpu-platforms): 3.8/3.1"},
	{Family: "Standard_D*s_v5", Provider: "azure", Speed: 3.5 / 3.1 * 1.18, SMT: 2, SMTYield: smtYield, Sizes: []int{2, 4, 8, 16, 32, 48, 64, 96},
		Source: "Intel Xeon Platinum 8370C (Ice Lake), all-core turbo 3.5 GHz (https://learn.microsoft.com/azure/virtual-machines/dv5-dsv5-series): 3.5/3.1 × 1.18 (Ice Lake IPC, assumed)"},
}

// Machine is a resolved node machine: its type name, CPUs and speed.
type Machine struct {
	Type     string
	Cores    float64
	Speed    float64
	SMT      int
	SMTYield float64
	Source   string
}

// MachineTypes returns the built-in families, sorted by provider then family.
func MachineTypes() []MachineType {
	out := append([]MachineType(nil), machineTypes...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Provider != out[j].Provider {
			return out[i].Provider < out[j].Provider
		}
		return out[i].Family < out[j].Family
	})
	return out
}

// LookupMachine resolves an instance type name: AWS "m5.2xlarge",
// GCP "n2-standard-8", Azure "Standard_D8s_v5". The error lists the known
// families and sizes.
func LookupMachine(name string) (Machine, error) {
	fam, vcpus, ok := splitInstanceType(name)
	if ok {
		for _, t := range machineTypes {
			if t.Family != fam {
				continue
			}
			for _, n := range t.Sizes {
				if n == vcpus {
					return Machine{Type: name, Cores: float64(n), Speed: t.Speed, SMT: t.SMT, SMTYield: t.SMTYield,
						Source: t.Source + "; SMT yield " + smtYieldSource}, nil
				}
			}
			return Machine{}, fmt.Errorf("instance type %q: %s has no %d-vCPU size (have %s)", name, fam, vcpus, sizesOf(t))
		}
	}
	var fams []string
	for _, t := range MachineTypes() {
		fams = append(fams, t.Family)
	}
	return Machine{}, fmt.Errorf("unknown instance type %q; known families: %s (e.g. m5.2xlarge, n2-standard-8, Standard_D8s_v5), or give cores: and speed: instead", name, strings.Join(fams, ", "))
}

func sizesOf(t MachineType) string {
	var s []string
	for _, n := range t.Sizes {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ", ") + " vCPUs"
}

// splitInstanceType returns a type's family and vCPU count.
func splitInstanceType(name string) (family string, vcpus int, ok bool) {
	switch {
	case strings.HasPrefix(name, "Standard_D") && strings.HasSuffix(name, "s_v5"):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, "Standard_D"), "s_v5"))
		return "Standard_D*s_v5", n, err == nil
	case strings.Contains(name, "."):
		fam, size, _ := strings.Cut(name, ".")
		switch {
		case size == "large":
			return fam, 2, true
		case size == "xlarge":
			return fam, 4, true
		case strings.HasSuffix(size, "xlarge"):
			n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge"))
			return fam, 4 * n, err == nil
		}
	case strings.Count(name, "-") == 2:
		i := strings.LastIndexByte(name, '-')
		n, err := strconv.Atoi(name[i+1:])
		return name[:i], n, err == nil
	}
	return "", 0, false
}

package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"

	"github.com/ambientsim/ambientsim/topology"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshconfig"
)

// runMesh writes the data plane's mesh file for a topology (spec or
// Kubernetes/Istio manifests), so one description drives the simulator and
// the processes.
func runMesh(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("mesh", flag.ContinueOnError)
	out := fs.String("out", "", "mesh file to write")
	base := fs.String("base", "127.20.0.0/16", "IPv4 /16 for loopback pod, service and waypoint addresses")
	keep := fs.Bool("keep-pod-ips", false, "keep the topology's pod IPs (network-namespace runs)")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if fs.NArg() == 0 || *out == "" {
		return usageError{fmt.Errorf("mesh: usage: meshnode mesh --out mesh.yaml TOPOLOGY...")}
	}
	prefix, err := netip.ParsePrefix(*base)
	if err != nil {
		return usageError{fmt.Errorf("mesh: --base: %w", err)}
	}
	top, _, err := topology.Load(fs.Args(), topology.LoadOptions{})
	if err != nil {
		return err
	}
	m, rep, err := meshconfig.Build(top, meshconfig.Options{Base: prefix, KeepPodIPs: *keep})
	if err != nil {
		return err
	}
	for _, w := range rep.Warnings {
		fmt.Fprintln(os.Stderr, "meshnode mesh: warning:", w)
	}
	if err := mesh.Write(*out, m); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d pods, %d services, %d waypoints, %d routes, %d L4 and %d L7 policies\n",
		*out, len(m.Workloads), len(m.Services), len(m.Waypoints), len(m.Routes), len(m.L4Policies), len(m.L7Policies))
	return nil
}

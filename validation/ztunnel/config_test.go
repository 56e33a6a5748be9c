package ztunnel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/ztunnel"
)

func TestNewRejectsBadConfig(t *testing.T) {
	ix, err := mesh.Compile(&mesh.Mesh{Workloads: []mesh.Workload{
		{Name: "a", Namespace: "d", IP: "127.0.99.1", Node: "n1"},
		{Name: "b", Namespace: "d", IP: "127.0.99.2", Node: "n2"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  ztunnel.Config
		want string
	}{
		{ztunnel.Config{Node: "n1"}, "required"},
		{ztunnel.Config{Node: "n1", Mesh: ix, Issuer: ca.ForNode("n1"),
			Outbound: []ztunnel.OutboundListener{{Listen: "127.0.99.1:0", Source: "d/b", Destination: "127.0.99.2:80"}}}, "not an ambient pod on this node"},
		{ztunnel.Config{Node: "n1", Mesh: ix, Issuer: ca.ForNode("n1"),
			Outbound: []ztunnel.OutboundListener{{Listen: "127.0.99.1:0", Source: "d/a", Destination: "b:80"}}}, "destination \"b:80\""},
	} {
		if _, err := ztunnel.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New error = %v, want %q", err, tc.want)
		}
	}
}

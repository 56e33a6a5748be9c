package sidecar_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/sidecar"
)

func TestNewRejectsBadConfig(t *testing.T) {
	ix, err := mesh.Compile(&mesh.Mesh{Workloads: []mesh.Workload{
		{Name: "amb", Namespace: "d", IP: "127.0.97.1"},
		{Name: "sc", Namespace: "d", IP: "127.0.97.2", Mode: mesh.ModeSidecar},
	}})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		cfg  sidecar.Config
		want string
	}{
		{sidecar.Config{Pod: "d/amb", Mesh: ix, Issuer: ca.Unrestricted()}, "not a sidecar-mode workload"},
		{sidecar.Config{Pod: "d/sc", Mesh: ix, Issuer: ca.Unrestricted(),
			Outbound: []sidecar.OutboundListener{{Listen: "127.0.97.2:0", Destination: "svc:80"}}}, "destination \"svc:80\""},
	} {
		if _, err := sidecar.New(tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New = %v, want %q", err, tc.want)
		}
	}
}

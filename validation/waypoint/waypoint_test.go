package waypoint_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/waypoint"
)

func TestNewAndShutdownWithoutStart(t *testing.T) {
	ix, err := mesh.Compile(&mesh.Mesh{Waypoints: []mesh.Waypoint{{Name: "wp", Namespace: "d", IP: "127.0.98.50"}}})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := waypoint.New(waypoint.Config{Name: "d/ghost", Mesh: ix, Issuer: ca.Unrestricted()}); err == nil || !strings.Contains(err.Error(), "not in the mesh") {
		t.Fatalf("unknown waypoint: %v", err)
	}
	wp, err := waypoint.New(waypoint.Config{Name: "d/wp", Mesh: ix, Issuer: ca.Unrestricted(), Listen: "127.0.98.50:0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := wp.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := wp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
}

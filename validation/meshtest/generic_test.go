package meshtest_test

import (
	"os"

	"fmt"
	"go.uber.org/goleak"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"testing"

	"github.com/ambientsim/ambientsim/validation/mesh"
	"github.com/ambientsim/ambientsim/validation/meshtest"
)

func TestStartMesh(t *testing.T) {
	base := fmt.Sprintf("127.%d.%d.", 100+rand.IntN(150), 1+rand.IntN(250))
	m := &mesh.Mesh{
		Workloads: []mesh.Workload{
			{Name: "a", Namespace: "x", IP: base + "1", Node: "n1"},
			{Name: "b", Namespace: "x", IP: base + "2", Node: "n2"},
			{Name: "c", Namespace: "x", IP: base + "3", Node: "n2", Mode: mesh.ModeSidecar},
		},
		Waypoints: []mesh.Waypoint{{Name: "wp", Namespace: "x", IP: base + "50"}},
		Services: []mesh.Service{
			{Name: "b", Namespace: "x", VIP: base + "100", Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"b"}},
			{Name: "b-wp", Namespace: "x", VIP: base + "101", Ports: []mesh.ServicePort{{Port: 80, TargetPort: 8080}}, Endpoints: []string{"b"}, Waypoint: "wp"},
			{Name: "c", Namespace: "x", VIP: base + "102", Ports: []mesh.ServicePort{{Port: 80, TargetPort: 9090}}, Endpoints: []string{"c"}},
		},
	}
	env := meshtest.StartMesh(t, m, meshtest.Options{})
	for _, src := range []string{"x/a", "x/c"} {
		for _, vip := range []string{base + "100:80", base + "101:80", base + "102:80"} {
			if src == "x/c" && vip == base+"102:80" {
				continue // a sidecar calling its own service
			}
			tr := &http.Transport{Dial: func(_, _ string) (net.Conn, error) { return net.Dial("tcp", env.Outbound(src, vip)) }}
			resp, err := (&http.Client{Transport: tr}).Get("http://" + vip + "/")
			if err != nil {
				t.Fatalf("%s → %s: %v", src, vip, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			tr.CloseIdleConnections()
			if resp.StatusCode != 200 {
				t.Errorf("%s → %s: %d", src, vip, resp.StatusCode)
			}
		}
	}
}

func TestMain(m *testing.M) { goleak.VerifyTestMain(m); _ = os.Stdout }

package scenarios

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/models"
	"github.com/ambientsim/ambientsim/sim"
)

const scopeManifests = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: other, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: c, image: i}]}}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
`

// otherServices adds n services of 2 pods each in namespace other.
func otherServices(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		name := "svc-" + string(rune('a'+i))
		b.WriteString("---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: other}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: " + name +
			"}}\n  template: {metadata: {labels: {app: " + name + "}}, spec: {containers: [{name: c, image: i}]}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: " + name +
			", namespace: other}\nspec: {selector: {app: " + name + "}, ports: [{port: 80}]}\n")
	}
	return b.String()
}

// TestManifestScopeDrivesMemory: a Sidecar resource in the manifests shrinks
// the sidecars it selects by the services it drops, and discoverySelectors
// in the istio ConfigMap hide a namespace from every sidecar.
func TestManifestScopeDrivesMemory(t *testing.T) {
	const sidecarRes = "---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n  egress: [{hosts: [\"./*\"]}]\n"
	const discovery = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |\n    discoverySelectors:\n    - matchLabels: {kubernetes.io/metadata.name: shop}\n"
	webMemory := func(extra string) float64 {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "m.yaml"), []byte(scopeManifests+otherServices(6)+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		scen := "name: scope\nmodes: [as-manifests]\ntopology: {manifests: [m.yaml]}\noutputs: {metrics: false, openmetrics: false}\n"
		if err := os.WriteFile(filepath.Join(dir, "s.yaml"), []byte(scen), 0o644); err != nil {
			t.Fatal(err)
		}
		sc, err := Load(filepath.Join(dir, "s.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		run, err := Execute(sc, Options{Duration: sim.Second})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range run.Summary.Modes[0].Components {
			if c.Kind == "sidecar" && strings.HasPrefix(c.Instance, "sidecar/shop/web") {
				return c.MemoryMiB
			}
		}
		t.Fatal("no sidecar for shop/web")
		return 0
	}
	prof, _ := models.LoadProfile("")
	drop := 6 * (prof.Sidecar.MemoryPerSvc.Value + 2*prof.Sidecar.MemoryPerEP.Value) / 1024
	all := webMemory("")
	for name, extra := range map[string]string{"Sidecar ./*": sidecarRes, "discoverySelectors": discovery} {
		if got := all - webMemory(extra); math.Abs(got-drop) > 0.002 {
			t.Errorf("%s: web's sidecar saves %.4f MiB, want the 6 services of namespace other: %.4f", name, got, drop)
		}
	}
}

package topology

import (
	"strings"
	"testing"
)

const scopeManifests = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-discovery: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: pay, labels: {istio-discovery: enabled}}
---
apiVersion: v1
kind: Namespace
metadata: {name: legacy}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |-
    accessLogFile: /dev/stdout
    discoverySelectors:
    - matchLabels: {istio-discovery: enabled}
    - matchLabels: {kubernetes.io/metadata.name: istio-system}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-settings, namespace: shop}
data: {a: b}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-system}
spec:
  egress: [{hosts: ["./*", "istio-system/*"]}]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress:
  - hosts: ["./*", "pay/api.pay.svc.cluster.local"]
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: frontend, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  egress:
  - hosts: ["*/*"]
`

func TestSidecarScopeAndDiscovery(t *testing.T) {
	top, rep := parse(t, scopeManifests)
	if top.MeshConfig == nil || len(top.MeshConfig.DiscoverySelectors) != 2 {
		t.Fatalf("mesh config %+v: want two discovery selectors", top.MeshConfig)
	}
	if !strings.HasPrefix(top.MeshConfig.Source, "in.yaml:") {
		t.Errorf("mesh config source %q", top.MeshConfig.Source)
	}
	if rep.Skipped["v1 ConfigMap"] != 1 || rep.Kinds["ConfigMap"] != 1 {
		t.Errorf("ConfigMaps: kinds %v skipped %v; want the mesh config decoded and app-settings skipped", rep.Kinds, rep.Skipped)
	}
	for ns, want := range map[string]bool{"shop": true, "pay": true, "legacy": false, "istio-system": true, "absent": false} {
		if got := top.Discovered(ns); got != want {
			t.Errorf("Discovered(%s) = %v, want %v", ns, got, want)
		}
	}
	web := &Pod{Namespace: "shop", Labels: map[string]string{"app": "web"}}
	cart := &Pod{Namespace: "shop", Labels: map[string]string{"app": "cart"}}
	other := &Pod{Namespace: "pay", Labels: map[string]string{"app": "api"}}
	for _, tc := range []struct {
		pod  *Pod
		want string
	}{{web, "shop/frontend"}, {cart, "shop/default"}, {other, "istio-system/default"}} {
		if got := top.SidecarConfigFor(tc.pod); got == nil || got.ID() != tc.want {
			t.Errorf("SidecarConfigFor(%s %v) = %v, want %s", tc.pod.Namespace, tc.pod.Labels, got, tc.want)
		}
	}
	svc := func(ns, name string) *Service { return &Service{Namespace: ns, Name: name} }
	shopDefault := top.SidecarConfigFor(cart)
	root := top.SidecarConfigFor(other)
	for _, tc := range []struct {
		sc    *SidecarConfig
		podNS string
		s     *Service
		want  bool
	}{
		{shopDefault, "shop", svc("shop", "cart"), true},
		{shopDefault, "shop", svc("pay", "api"), true},
		{shopDefault, "shop", svc("pay", "ledger"), false},
		{root, "pay", svc("pay", "ledger"), true},
		{root, "pay", svc("istio-system", "istiod"), true},
		{root, "pay", svc("shop", "cart"), false},
		{&SidecarConfig{EgressHosts: []string{"~/*"}}, "pay", svc("pay", "a"), false},
		{&SidecarConfig{EgressHosts: []string{"*/*.pay.svc.cluster.local"}}, "shop", svc("pay", "a"), true},
		{&SidecarConfig{EgressHosts: []string{"*/*.pay.svc.cluster.local"}}, "shop", svc("shop", "a"), false},
	} {
		if got := tc.sc.Imports(tc.s, tc.podNS); got != tc.want {
			t.Errorf("%v.Imports(%s) from %s = %v, want %v", tc.sc.EgressHosts, tc.s.ID(), tc.podNS, got, tc.want)
		}
	}
}

func TestScopeErrors(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: s, namespace: a}
spec:
  egress:
  - hosts:
    - "reviews"
`, `in.yaml:8: spec.egress[0].hosts[0]: egress host "reviews": want namespace/dnsName`},
		{`
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: |
    discoverySelectors:
    - matchLabels: {a: b}
      matchExpressions: [{key: x, operator: Maybe}]
`, `in.yaml:9: data.mesh.discoverySelectors[0].matchExpressions[0].operator: unknown value "Maybe"`},
		{`
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: {name: a, namespace: istio-system}
spec: {meshConfig: {discoverySelectors: [{matchLabels: {a: b}}]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data:
  mesh: "discoverySelectors: [{matchLabels: {c: d}}]"
`, `a second mesh config with discoverySelectors`},
	} {
		_, _, err := ParseManifests("in.yaml", []byte(tc.doc), LoadOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want it to contain %q", err, tc.want)
		}
	}
}

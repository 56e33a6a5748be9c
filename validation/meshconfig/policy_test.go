package meshconfig_test

import (
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/topology"
	"github.com/ambientsim/ambientsim/validation/l4policy"
	"github.com/ambientsim/ambientsim/validation/meshconfig"
)

const base = `
nodes: {count: 1}
namespaces:
  - name: app
    mode: ambient
    services:
      - name: api
        ports: [{name: http, port: 80, targetPort: 8080, appProtocol: http}]
policies:
`

// ztunnel semantics: an ALLOW rule with L7 fields is dropped (leaving an
// ALLOW policy that matches nothing: deny all); a DENY rule's L7 fields are
// stripped, and a DENY rule of only L7 fields disappears.
func TestPolicySplit(t *testing.T) {
	for _, tc := range []struct {
		name, policy string
		wantL4       int // rules in the one L4 policy, -1 for no L4 policy
		wantAction   l4policy.Action
		warn         string
	}{
		{"allow with L7 becomes deny-all", `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: p, namespace: app}
    spec:
      selector: {matchLabels: {app: api}}
      rules: [{to: [{operation: {methods: [GET]}}]}]`, 0, l4policy.Allow, "drops an ALLOW rule"},
		{"deny with only L7 fields is a no-op", `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: p, namespace: app}
    spec:
      action: DENY
      rules: [{to: [{operation: {paths: ["/admin"]}}]}]`, -1, "", "no-op at ztunnel"},
		{"deny strips L7 and keeps principals", `
  - apiVersion: security.istio.io/v1
    kind: AuthorizationPolicy
    metadata: {name: p, namespace: app}
    spec:
      action: DENY
      rules: [{from: [{source: {principals: [cluster.local/ns/x/sa/y]}}], to: [{operation: {methods: [POST], ports: ["8080"]}}]}]`, 1, l4policy.Deny, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			top, err := topology.ParseSpec("spec.yaml", []byte(base+tc.policy))
			if err != nil {
				t.Fatal(err)
			}
			m, rep, err := meshconfig.Build(top, meshconfig.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantL4 < 0 {
				if len(m.L4Policies) != 0 {
					t.Fatalf("L4 policies = %+v, want none", m.L4Policies)
				}
			} else {
				if len(m.L4Policies) != 1 || len(m.L4Policies[0].Rules) != tc.wantL4 || m.L4Policies[0].Action != tc.wantAction {
					t.Fatalf("L4 policies = %+v", m.L4Policies)
				}
			}
			if tc.warn != "" && !strings.Contains(strings.Join(rep.Warnings, "\n"), tc.warn) {
				t.Errorf("warnings %v lack %q", rep.Warnings, tc.warn)
			}
		})
	}
}

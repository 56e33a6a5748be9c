package l4policy_test

import (
	"fmt"
	"testing"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/l4policy"
)

var (
	client = identity.MustParse("spiffe://cluster.local/ns/default/sa/client")
	other  = identity.MustParse("spiffe://cluster.local/ns/other/sa/app")
	server = l4policy.Workload{Name: "server", Namespace: "default"}
)

func TestEvaluate(t *testing.T) {
	allowClient := l4policy.Policy{Name: "allow-client", Namespace: "default", Action: l4policy.Allow,
		Rules: []l4policy.Rule{{Principals: []string{"cluster.local/ns/default/sa/client"}, Ports: []uint16{8080}}}}
	denyOther := l4policy.Policy{Name: "deny-other", Namespace: "istio-system", Action: l4policy.Deny,
		Rules: []l4policy.Rule{{Namespaces: []string{"other"}}}}
	denyAllClients := l4policy.Policy{Name: "deny-all", Namespace: "default", Action: l4policy.Deny,
		Rules: []l4policy.Rule{{Principals: []string{"*"}}}}
	allowNothing := l4policy.Policy{Name: "allow-nothing", Namespace: "default", Action: l4policy.Allow}
	otherWorkload := l4policy.Policy{Name: "only-db", Namespace: "default", Workloads: []string{"db"}, Action: l4policy.Allow}

	for _, tc := range []struct {
		name     string
		policies []l4policy.Policy
		src      identity.ID
		port     uint16
		want     bool
	}{
		{"no policies", nil, client, 8080, true},
		{"allow matches", []l4policy.Policy{allowClient}, client, 8080, true},
		{"allow wrong port", []l4policy.Policy{allowClient}, client, 9090, false},
		{"allow wrong principal", []l4policy.Policy{allowClient}, other, 8080, false},
		{"plaintext vs principal rule", []l4policy.Policy{allowClient}, identity.ID{}, 8080, false},
		{"mesh-wide deny wins over allow", []l4policy.Policy{allowClient, denyOther}, other, 8080, false},
		{"deny before allow", []l4policy.Policy{allowClient, denyAllClients}, client, 8080, false},
		{"deny * skips plaintext", []l4policy.Policy{denyAllClients}, identity.ID{}, 8080, true},
		{"empty allow denies all", []l4policy.Policy{allowNothing}, client, 8080, false},
		{"policy for another workload", []l4policy.Policy{otherWorkload}, client, 8080, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			set := l4policy.Set{Policies: tc.policies}
			if err := set.Validate(); err != nil {
				t.Fatal(err)
			}
			d := set.Evaluate(l4policy.Connection{Source: tc.src, Destination: server, Port: tc.port})
			if d.Allowed != tc.want {
				t.Fatalf("Evaluate = %+v, want allowed=%v", d, tc.want)
			}
		})
	}
}

func TestGlob(t *testing.T) {
	for _, tc := range []struct {
		p, v string
		want bool
	}{
		{"*", "x", true}, {"*", "", false}, {"cluster.local/ns/a/*", "cluster.local/ns/a/sa/b", true},
		{"*/sa/b", "cluster.local/ns/a/sa/b", true}, {"a", "ab", false},
	} {
		if got := l4policy.Glob(tc.p, tc.v); got != tc.want {
			t.Errorf("Glob(%q,%q)=%v want %v", tc.p, tc.v, got, tc.want)
		}
	}
}

func ExampleSet_Evaluate() {
	set := l4policy.Set{Policies: []l4policy.Policy{{
		Name: "allow-client", Namespace: "default", Action: l4policy.Allow,
		Rules: []l4policy.Rule{{Principals: []string{"cluster.local/ns/default/sa/client"}}},
	}}}
	d := set.Evaluate(l4policy.Connection{Source: other, Destination: server, Port: 8080})
	fmt.Println(d.Allowed, d.Reason)
	// Output: false ALLOW policies apply but none matched
}

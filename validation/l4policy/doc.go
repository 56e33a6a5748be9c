// Package l4policy evaluates Istio AuthorizationPolicies at layer 4, the way
// ztunnel does on the destination node: only principals, namespaces and
// ports are visible. DENY policies are checked first; if none matches and no
// ALLOW policy applies to the workload the connection is allowed; otherwise
// it is allowed only if some ALLOW rule matches.
//
// Usage story:
//
//	set := l4policy.Set{RootNamespace: "istio-system", Policies: []l4policy.Policy{{
//		Name: "allow-client", Namespace: "default", Action: l4policy.Allow,
//		Rules: []l4policy.Rule{{Principals: []string{"cluster.local/ns/default/sa/client"}, Ports: []uint16{8080}}},
//	}}}
//	d := set.Evaluate(l4policy.Connection{Source: clientID, Destination: l4policy.Workload{Name: "server", Namespace: "default"}, Port: 8080})
//	if !d.Allowed { /* reset the connection: 401 on the HBONE stream */ }
package l4policy

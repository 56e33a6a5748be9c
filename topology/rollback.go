package topology

import (
	"fmt"
	"sort"
	"strings"
)

// RollbackBreak is one piece of ambient-only configuration that stops
// being enforced (or starts refusing traffic) when ambient workloads go
// back to sidecar mode.
type RollbackBreak struct {
	Object string // Kind ns/name
	Why    string
	Fix    string // the sidecar-mode equivalent to prepare
}

// RollbackBreaks lists what a rollback from ambient to sidecars breaks:
//
//   - AuthorizationPolicies and RequestAuthentications with targetRefs:
//     sidecars do not apply them (targetRefs kind Service and ServiceEntry
//     are "only supported for waypoints" in the Istio API; Gateway and
//     GatewayClass name waypoints or gateways), so their rules stop;
//   - selector ALLOW policies that admit only waypoint identities: with no
//     waypoint on the path the clients' own identities arrive and are
//     refused;
//   - NetworkPolicies that admit only port 15008 or only waypoint pods:
//     sidecar traffic arrives from the clients on the application port;
//   - EnvoyFilters with targetRefs (waypoint-scoped) stop applying.
//
// HTTPRoutes parented to Services (GAMMA), VirtualServices,
// DestinationRules, PeerAuthentications and selector policies keep working
// with sidecars.
func (t *Topology) RollbackBreaks() []RollbackBreak {
	t.index()
	var out []RollbackBreak
	wpPrincipals := map[string]bool{}
	for _, wp := range t.Waypoints {
		wpPrincipals[principalOf(t.TrustDomain, wp.Namespace, wp.Name)] = true
	}
	for _, ap := range t.sortedPolicies() {
		if len(ap.TargetRefs) > 0 {
			var refs []string
			for _, ref := range ap.TargetRefs {
				refs = append(refs, ref.Kind+" "+refNS(ref.Namespace, ap.Namespace)+"/"+ref.Name)
			}
			out = append(out, RollbackBreak{Object: "AuthorizationPolicy " + ap.ID(),
				Why: fmt.Sprintf("targetRefs (%s) are applied only by waypoints and gateways: with sidecars its %s rules are enforced nowhere", strings.Join(refs, ", "), ap.Action),
				Fix: "a selector policy with the same rules on the target Service's pods (its selector labels)"})
			continue
		}
		if ap.Action != ActionAllow || !onlyWaypointPrincipals(ap, wpPrincipals, t.TrustDomain) {
			continue
		}
		if amb, _ := t.selectedPods(ap); len(amb) == 0 {
			continue
		}
		out = append(out, RollbackBreak{Object: "AuthorizationPolicy " + ap.ID(),
			Why: "its ALLOW rules admit only waypoint identities; with sidecars no waypoint is on the path, the clients' identities arrive and every request is denied",
			Fix: "replace the waypoint principals with the clients' (the rules of the waypoint's targetRefs policy, as a selector policy)"})
	}
	for _, ra := range t.RequestAuthentications {
		if len(ra.TargetRefs) > 0 {
			out = append(out, RollbackBreak{Object: "RequestAuthentication " + ra.ID(),
				Why: "targetRefs are applied only by waypoints: with sidecars no JWT is validated",
				Fix: "a selector RequestAuthentication on the target's pods"})
		}
	}
	for _, np := range t.NetworkPolicies {
		if why := waypointOnlyNetworkPolicy(np); why != "" {
			out = append(out, RollbackBreak{Object: "NetworkPolicy " + np.ID(), Why: why,
				Fix: "admit the clients on the application ports as well (sidecar mTLS arrives there)"})
		}
	}
	for _, r := range t.SidecarResources {
		if r.Kind == "EnvoyFilter" && r.HasTargetRefs {
			out = append(out, RollbackBreak{Object: "EnvoyFilter " + r.ID(),
				Why: "targetRefs attach it to a waypoint or gateway: sidecars do not apply it",
				Fix: "an EnvoyFilter with a workloadSelector for the sidecars"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Object < out[j].Object })
	return out
}

// onlyWaypointPrincipals reports whether every rule of ap admits sources
// by principals that are all waypoint identities.
func onlyWaypointPrincipals(ap *AuthorizationPolicy, wp map[string]bool, td string) bool {
	if len(ap.Rules) == 0 {
		return false
	}
	for _, r := range ap.Rules {
		if len(r.From) == 0 {
			return false
		}
		for _, s := range r.From {
			if len(s.Principals) == 0 || len(s.Namespaces)+len(s.ServiceAccounts)+len(s.IPBlocks) > 0 {
				return false
			}
			for _, p := range s.Principals {
				if !wp[strings.TrimPrefix(p, "spiffe://")] {
					return false
				}
			}
		}
	}
	return true
}

// waypointOnlyNetworkPolicy says why an ingress NetworkPolicy admits only
// HBONE from waypoints (so sidecar traffic would be refused), or "".
func waypointOnlyNetworkPolicy(np *NetworkPolicy) string {
	if !np.AffectsIngress() || len(np.Ingress) == 0 {
		return ""
	}
	only15008, onlyWaypoints := true, true
	for _, r := range np.Ingress {
		if len(r.Ports) == 0 {
			only15008 = false
		}
		for _, p := range r.Ports {
			if p.Port != hbonePort {
				only15008 = false
			}
		}
		if len(r.Peers) == 0 {
			onlyWaypoints = false
		}
		for _, peer := range r.Peers {
			if peer.PodSelector == nil {
				onlyWaypoints = false
				continue
			}
			if _, ok := peer.PodSelector.MatchLabels[lblGatewayName]; !ok {
				onlyWaypoints = false
			}
		}
	}
	switch {
	case only15008:
		return "it admits only port 15008 (HBONE): sidecar traffic arrives on the application ports and is dropped"
	case onlyWaypoints:
		return "it admits only waypoint pods: with sidecars the clients connect themselves and are dropped"
	}
	return ""
}

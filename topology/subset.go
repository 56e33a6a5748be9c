package topology

// A VirtualService destination's subset names a group of a Service's pods
// defined by a DestinationRule for that host: subset {name, labels}. Istio
// builds one cluster per subset whose endpoints are the Service's endpoints
// carrying every subset label (pilot/pkg/xds/endpoints/endpoint_builder.go,
// getSubSetLabels and subsetLabels.SubsetOf(ep.Labels)); a route to a
// subset no DestinationRule defines points at a cluster that is never
// built (pilot/pkg/networking/core/route/route.go GetDestinationCluster),
// and istioctl analyze reports it (IST0101,
// pkg/config/analysis/analyzers/virtualservice/destinationrules.go).

// subsetLabels finds a DestinationRule subset's labels for Service s: the
// first DestinationRule (namespace/name order) whose host is s and that
// defines the subset.
func (t *Topology) subsetLabels(s *Service, subset string) (map[string]string, bool) {
	for _, res := range t.sortedSidecarResources() {
		if res.Kind != "DestinationRule" || len(res.Hosts) == 0 {
			continue
		}
		if h := t.resolveHost(res.Hosts[0], res.Namespace); h != s {
			continue
		}
		if l, ok := res.SubsetLabels[subset]; ok {
			return l, true
		}
	}
	return nil, false
}

// subsetPods returns the pods a backend to Service s with subset (""
// for none) reaches, and whether the subset is undefined (then no pod).
func (t *Topology) subsetPods(s *Service, subset string) (pods []*Pod, missing bool) {
	eps := t.EndpointsOf(s)
	if subset == "" {
		return eps, false
	}
	labels, ok := t.subsetLabels(s, subset)
	if !ok {
		return nil, true
	}
	for _, p := range eps {
		if labelsMatch(labels, p.Labels) {
			pods = append(pods, p)
		}
	}
	return pods, false
}

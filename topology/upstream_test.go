package topology

import (
	"reflect"
	"testing"
)

// The List-shaped export of Bookinfo stage 1 answers exactly as the
// multi-document files it was made from.
func TestUpstreamListMatchesFiles(t *testing.T) {
	files, _ := loadCase(t, []string{"testdata/upstream/istio/bookinfo.yaml", "testdata/upstream/istio/bookinfo-gateway.yaml",
		"testdata/upstream/overlays/ambient", "testdata/upstream/overlays/ambient-l4"}, LoadOptions{})
	list, _ := loadCase(t, []string{"testdata/upstream/list/bookinfo-ambient-l4.list.yaml"}, LoadOptions{})
	render := func(top *Topology) []string {
		var out []string
		r := top.Paths()
		for _, p := range r.Pairs {
			out = append(out, p.Source.ID()+">"+p.Destination.ID()+" "+string(p.Path.Category)+" "+p.Path.String()+deniedSuffix(p.Path))
		}
		for _, f := range r.Findings {
			out = append(out, f.Code+" "+f.Source+">"+f.Destination)
		}
		for _, st := range r.Status {
			out = append(out, st.Line())
		}
		return out
	}
	if a, b := render(files), render(list); !reflect.DeepEqual(a, b) {
		t.Errorf("List and files differ:\nfiles %q\nlist  %q", a, b)
	}
}

// The ingress pod istiod deploys is a gateway, never a sidecar (issue 14
// item 8: node-compromise named it sidecar/...).
func TestIngressPodInstance(t *testing.T) {
	top, _ := loadCase(t, []string{"testdata/upstream/istio/bookinfo.yaml", "testdata/upstream/istio/bookinfo-gateway.yaml",
		"testdata/upstream/overlays/ambient"}, LoadOptions{})
	w := top.Workload("default", "bookinfo-gateway-istio")
	if w == nil || !w.Ingress || w.ServiceAccount != "bookinfo-gateway-istio" {
		t.Fatalf("istiod's gateway Deployment: %+v", w)
	}
	pods := top.PodsOf(w)
	if len(pods) != 1 || pods[0].Instance() != "gateway/default/bookinfo-gateway-istio-0" {
		t.Fatalf("ingress pod instance: %v", pods)
	}
	s := top.Service("default", "bookinfo-gateway-istio")
	if s == nil || s.Type != "LoadBalancer" {
		t.Fatalf("istiod's gateway Service: %+v", s)
	}
}

package models

import (
	"testing"

	"github.com/ambientsim/ambientsim/sim"
)

// TestRetryAfterDependencyFailureStartsClean: reviews calls ratings once
// per request, and half of ratings' requests go to a Service without
// endpoints (503), so half of reviews' attempts answer 500. frontend's
// route to reviews retries 5xx up to 3 times, and each retry is a new
// attempt with its own call to ratings: a request fails only when all 4
// attempts draw the empty half, 1/16 of them. (An attempt used to inherit
// the failure of the attempt before it, and failed half of all requests.)
func TestRetryAfterDependencyFailureStartsClean(t *testing.T) {
	const spec = `
nodes: {count: 2, zones: [zone-a]}
namespaces:
  - name: shop
    mode: sidecar
    services:
      - {name: reviews, replicas: 1}
      - {name: ratings, replicas: 1}
    workloads:
      - {name: frontend, replicas: 1}
policies:
  - apiVersion: v1
    kind: Service
    metadata: {name: ratings-none, namespace: shop}
    spec: {selector: {app: nothing-runs-this}, ports: [{name: http, port: 8080}]}
  - apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: ratings, namespace: shop}
    spec:
      hosts: [ratings]
      http:
        - route: [{destination: {host: ratings}, weight: 50}, {destination: {host: ratings-none}, weight: 50}]
  - apiVersion: networking.istio.io/v1
    kind: VirtualService
    metadata: {name: reviews, namespace: shop}
    spec:
      hosts: [reviews]
      http:
        - route: [{destination: {host: reviews}}]
          retries: {attempts: 3, retryOn: 5xx}
calls:
  - {from: shop/frontend, to: shop/reviews, rate: 100}
  - {from: shop/reviews, to: shop/ratings}
`
	top := mustTopology(t, spec)
	edges := edgesOf(top, EdgeConfig{KeepAlive: true, Pool: 4})
	for i := range edges {
		if edges[i].Call.From.Name == "reviews" {
			edges[i].FanOut = 1
		}
	}
	cfg := Config{Topology: top, Profile: mustProfile(t), Mode: "sidecar", Seed: 11, Duration: 40 * sim.Second, Warmup: sim.Second, Edges: edges}
	_, res := runMesh(t, cfg)
	rq := res.Measured.Requests
	if rq.Offered < 3000 {
		t.Fatalf("only %d requests offered", rq.Offered)
	}
	got := float64(rq.Failed) / float64(rq.Offered)
	// 1/16 = 0.0625; with ~3,900 requests the binomial s.d. is 0.004.
	t.Logf("%.4f of %d requests failed: %v", got, rq.Offered, res.Measured.Errors)
	if got < 0.0625-0.02 || got > 0.0625+0.02 {
		t.Errorf("%.4f of %d requests failed (%v), want 1/16 (every retry draws ratings' backend again)", got, rq.Offered, res.Measured.Errors)
	}
	if n := errorsBy(res.Measured, "dependency_failed_500"); n != rq.Failed {
		t.Errorf("%d of %d failures are dependency_failed_500 (%v)", n, rq.Failed, res.Measured.Errors)
	}
}

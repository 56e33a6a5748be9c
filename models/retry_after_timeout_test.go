package models

import "testing"

// TestNoRetryAfterTheTimeout: every try outlives its 50 ms per-try timeout
// (both pods take 200 ms), the retry waits Envoy's jittered back-off,
// uniform in [0, 300 ms) before the first retry, and the route's timeout
// ends the request at 100 ms. Only a retry whose back-off ends before the
// timeout (under 50 ms: 1/6) is sent; once the router has given up, a
// retry still waiting is dropped. So the apps see 1 + 1/6 tries per
// request, not 2 (the retry used to be sent after the timeout).
func TestNoRetryAfterTheTimeout(t *testing.T) {
	for _, mode := range []string{"sidecar", "ambient"} {
		t.Run(mode, func(t *testing.T) {
			route := "timeout: 100ms\nretries: {attempts: 3, perTryTimeout: 50ms, retryOn: 5xx, backoff: 300ms}"
			_, res := perTryRun(t, perTrySpec(mode, route, false), mode, 200, 200)
			rq := res.Measured.Requests
			if rq.Offered < 300 || rq.Failed != rq.Offered-rq.InFlight {
				t.Fatalf("requests %+v: want every one to fail", rq)
			}
			slow, fast := appRequests(res.Measured)
			perReq := float64(slow+fast) / float64(rq.Offered)
			if want := 1 + 1.0/6; perReq < want-0.06 || perReq > want+0.06 {
				t.Errorf("the apps saw %.3f tries per request, want %.3f", perReq, want)
			}
		})
	}
}

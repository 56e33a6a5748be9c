package istiometrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ambientsim/ambientsim/validation/istiometrics"
)

func TestTCPRecordSemantics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := istiometrics.MustTCP(reg)
	rec := m.Open(istiometrics.TCPConn{Reporter: "destination", SecurityPolicy: "mutual_tls",
		Source:      istiometrics.Peer{Workload: "client", Namespace: "default", Principal: "spiffe://cluster.local/ns/default/sa/client"},
		Destination: istiometrics.Peer{Workload: "server", Namespace: "default"}})
	rec.Received(100)
	rec.Sent(40)
	rec.Close("DENY")
	rec.Close("-") // counted once
	const want = `
# HELP istio_tcp_connections_closed_total The total number of TCP connections closed
# TYPE istio_tcp_connections_closed_total counter
istio_tcp_connections_closed_total{connection_security_policy="mutual_tls",destination_app="unknown",destination_canonical_revision="unknown",destination_canonical_service="unknown",destination_cluster="unknown",destination_principal="unknown",destination_region="unknown",destination_service="unknown",destination_service_name="unknown",destination_service_namespace="unknown",destination_version="unknown",destination_workload="server",destination_workload_namespace="default",destination_zone="unknown",reporter="destination",request_protocol="tcp",response_flags="DENY",source_app="unknown",source_canonical_revision="unknown",source_canonical_service="unknown",source_cluster="unknown",source_principal="spiffe://cluster.local/ns/default/sa/client",source_region="unknown",source_version="unknown",source_workload="client",source_workload_namespace="default",source_zone="unknown"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "istio_tcp_connections_closed_total"); err != nil {
		t.Fatal(err)
	}
	if n, _ := testutil.GatherAndCount(reg, "istio_tcp_connections_opened_total"); n != 1 {
		t.Fatalf("opened series = %d", n)
	}
}

func TestHTTPUsesEnvoyBuckets(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := istiometrics.MustHTTP(reg)
	m.Record(istiometrics.Request{Reporter: "waypoint", Code: 200, Duration: 3 * time.Millisecond})
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "istio_request_duration_milliseconds" {
			continue
		}
		h := mf.GetMetric()[0].GetHistogram()
		if len(h.GetBucket()) != len(istiometrics.EnvoyDefaultBuckets) || h.GetBucket()[2].GetCumulativeCount() != 1 || h.GetBucket()[1].GetCumulativeCount() != 0 {
			t.Fatalf("buckets = %v", h.GetBucket())
		}
		labels := map[string]string{}
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["reporter"] != "waypoint" || labels["response_code"] != "200" || labels["response_flags"] != "-" || len(labels) != 25 {
			t.Fatalf("labels = %v", labels)
		}
		return
	}
	t.Fatal("no duration histogram")
}

package istiometrics

import (
	"fmt"
	"sync"

	"github.com/ambientsim/ambientsim/internal/istiometric"

	"github.com/prometheus/client_golang/prometheus"
)

// TCP holds ztunnel's four TCP counters.
type TCP struct {
	opened, closed, sent, received *prometheus.CounterVec
}

// NewTCP registers the TCP counters on reg.
func NewTCP(reg prometheus.Registerer) (*TCP, error) {
	mk := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, tcpLabelNames)
	}
	m := &TCP{
		opened:   mk(istiometric.TCPOpened, "The total number of TCP connections opened"),
		closed:   mk(istiometric.TCPClosed, "The total number of TCP connections closed"),
		sent:     mk(istiometric.TCPSent, "The size of total bytes sent during response in case of a TCP connection"),
		received: mk(istiometric.TCPReceived, "The size of total bytes received during request in case of a TCP connection"),
	}
	for _, c := range []prometheus.Collector{m.opened, m.closed, m.sent, m.received} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register istio TCP metrics: %w", err)
		}
	}
	return m, nil
}

// MustTCP is NewTCP that panics on a registration conflict (a programming error).
func MustTCP(reg prometheus.Registerer) *TCP {
	m, err := NewTCP(reg)
	if err != nil {
		panic(err)
	}
	return m
}

// TCPConn is the label content of one proxied connection.
type TCPConn struct {
	Reporter       string // "source" or "destination"
	Source         Peer
	Destination    Peer
	Service        Service
	SecurityPolicy string // "mutual_tls" for HBONE, "unknown" for plaintext
}

func (c TCPConn) values(flag string) []string {
	s, d := c.Source, c.Destination
	return []string{
		v(c.Reporter),
		v(s.Workload), v(s.CanonicalService), v(s.CanonicalRevision), v(s.Namespace),
		v(s.Principal), v(s.App), v(s.Version), v(s.Cluster),
		v(c.Service.Host), v(c.Service.Namespace), v(c.Service.Name),
		v(d.Workload), v(d.CanonicalService), v(d.CanonicalRevision),
		v(d.Namespace), v(d.Principal), v(d.App), v(d.Version),
		v(d.Cluster),
		"tcp", v(flag), v(c.SecurityPolicy),
		v(s.Region), v(s.Zone), v(d.Region), v(d.Zone),
	}
}

// TCPRecord accounts for one connection. Its methods are safe for
// concurrent use (the two copy directions run in parallel).
type TCPRecord struct {
	m              *TCP
	conn           TCPConn
	sent, received prometheus.Counter
	once           sync.Once
}

// Open counts a new connection (flag "-") and returns its record.
func (m *TCP) Open(c TCPConn) *TCPRecord {
	vals := c.values("-")
	m.opened.WithLabelValues(vals...).Inc()
	return &TCPRecord{m: m, conn: c, sent: m.sent.WithLabelValues(vals...), received: m.received.WithLabelValues(vals...)}
}

// Sent adds n bytes sent towards the connection's client (the response direction).
func (r *TCPRecord) Sent(n int) { r.sent.Add(float64(n)) }

// Received adds n bytes received from the connection's client (the request direction).
func (r *TCPRecord) Received(n int) { r.received.Add(float64(n)) }

// Close counts the connection as closed with the final response flag
// ("-", "DENY", "CONNECT"). Later calls do nothing.
func (r *TCPRecord) Close(flag string) {
	r.once.Do(func() { r.m.closed.WithLabelValues(r.conn.values(flag)...).Inc() })
}

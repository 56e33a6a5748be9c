package ztunnel

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ambientsim/ambientsim/validation/identity"
	"github.com/ambientsim/ambientsim/validation/mesh"
)

// Config configures one node proxy.
type Config struct {
	Node   string
	Mesh   *mesh.Index
	Issuer identity.Issuer // normally the CA's NodeAuthorizer for Node
	// CertTTL is the workload certificate lifetime (24 h if zero); certificates
	// rotate at half of it.
	CertTTL time.Duration

	// Outbound lists explicit capture listeners, one per (source pod, destination).
	Outbound []OutboundListener
	// Capture lists transparent capture listeners (harness iptables rules).
	Capture []CaptureListener
	// InboundListen, if set, is a single transparent (TPROXY) HBONE listener;
	// otherwise the proxy listens on podIP:15008 for each of its ambient pods.
	InboundListen string

	PoolMaxStreams  int           // 100
	PoolIdleTimeout time.Duration // 5 min
	ConnectTimeout  time.Duration // 10 s, HBONE and pod dials
	ServerStreams   uint32        // 200 advertised to HBONE clients

	// Dial opens every TCP connection the proxy originates (HBONE to the next
	// hop, and the pod dial after an inbound CONNECT), with the local address
	// bound to source when that is valid and local. nil means hbone.DialFrom.
	// It is ztunnel's socket factory: in-pod mode supplies one that creates
	// the socket inside the pod's network namespace with the proxy's SO_MARK,
	// so the pod's capture rules skip the proxy's own traffic.
	Dial func(ctx context.Context, source netip.Addr, addr string) (net.Conn, error)

	Registry *prometheus.Registry // metrics go here; a fresh registry if nil
	Logger   *slog.Logger
}

// OutboundListener is an explicit capture point: connections accepted on
// Listen come from Source (namespace/name) and go to Destination (ip:port).
type OutboundListener struct {
	Listen      string `yaml:"listen"`
	Source      string `yaml:"source"`
	Destination string `yaml:"destination"`
}

// CaptureListener is a transparent capture listener: the source pod is found
// by the client IP, the destination by the capture mode.
type CaptureListener struct {
	Listen string `yaml:"listen"`
	Mode   string `yaml:"mode"` // redirect or tproxy
}

package topology

import "strings"

// Protocols a Service port is treated as, after Istio's
// pkg/config/kube/conversion.go ConvertProtocol and
// pkg/config/protocol/instance.go Parse.
const (
	ProtoHTTP    = "HTTP"
	ProtoHTTP2   = "HTTP2"
	ProtoGRPC    = "GRPC"
	ProtoGRPCWeb = "GRPC-Web"
	ProtoHTTPS   = "HTTPS"
	ProtoTLS     = "TLS"
	ProtoTCP     = "TCP"
	ProtoUDP     = "UDP"
	ProtoMongo   = "Mongo"
	ProtoRedis   = "Redis"
	ProtoMySQL   = "MySQL"
	// ProtoUnknown is Istio's "UnsupportedProtocol": the proxy sniffs the
	// first bytes, so HTTP clients get HTTP handling and others TCP.
	ProtoUnknown = "unknown"
)

// wellKnownTCPPorts are treated as TCP when nothing names the protocol
// (conversion.go wellKnownPorts: SMTP, DNS, MySQL, MongoDB).
var wellKnownTCPPorts = map[int]bool{25: true, 53: true, 3306: true, 27017: true}

// ProtocolName returns the protocol Istio assigns the port: UDP from the
// protocol field; else appProtocol, else the port name's prefix before the
// first '-' (http-web, tcp-echo, grpc); unknown names sniff, except on
// well-known TCP ports.
func (p ServicePort) ProtocolName() string {
	if strings.EqualFold(p.Protocol, "UDP") {
		return ProtoUDP
	}
	name := p.Name
	if p.AppProtocol != "" {
		name = p.AppProtocol
		switch name {
		case "kubernetes.io/h2c":
			return ProtoHTTP2
		case "kubernetes.io/ws":
			return ProtoHTTP
		case "kubernetes.io/wss":
			return ProtoHTTPS
		}
	}
	if len(name) >= 8 && strings.EqualFold(name[:8], "grpc-web") {
		return ProtoGRPCWeb
	}
	if i := strings.IndexByte(name, '-'); i >= 0 {
		name = name[:i]
	}
	switch strings.ToLower(name) {
	case "tcp":
		return ProtoTCP
	case "udp":
		return ProtoUDP
	case "grpc":
		return ProtoGRPC
	case "http", "http_proxy":
		return ProtoHTTP
	case "http2":
		return ProtoHTTP2
	case "https":
		return ProtoHTTPS
	case "tls":
		return ProtoTLS
	case "mongo":
		return ProtoMongo
	case "redis":
		return ProtoRedis
	case "mysql":
		return ProtoMySQL
	}
	if wellKnownTCPPorts[p.Port] {
		return ProtoTCP
	}
	return ProtoUnknown
}

// IsHTTP reports whether the proxy gives the port HTTP filter chains
// (protocol.Instance.IsHTTP: HTTP, HTTP2, gRPC, gRPC-Web).
func (p ServicePort) IsHTTP() bool {
	switch p.ProtocolName() {
	case ProtoHTTP, ProtoHTTP2, ProtoGRPC, ProtoGRPCWeb:
		return true
	}
	return false
}

// IsTCP reports whether the proxy gives the port TCP filter chains only
// (protocol.Instance.IsTCP: TCP, HTTPS, TLS, Mongo, Redis, MySQL): HTTP
// attributes never exist on it.
func (p ServicePort) IsTCP() bool {
	switch p.ProtocolName() {
	case ProtoTCP, ProtoHTTPS, ProtoTLS, ProtoMongo, ProtoRedis, ProtoMySQL:
		return true
	}
	return false
}

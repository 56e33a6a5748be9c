package hbone

import (
	"fmt"
	"net/http"
	"net/netip"
)

// Response flags as ztunnel reports them in istio_tcp_* metrics.
const (
	FlagNone    = "-"
	FlagDeny    = "DENY"
	FlagConnect = "CONNECT"
)

// ParseConnect validates the method and :authority of an HBONE request the
// way ztunnel's inbound does: anything but CONNECT, or an authority that is
// not a literal ip:port, is a 400.
func ParseConnect(method, authority string) (netip.AddrPort, int, error) {
	if method != http.MethodConnect {
		return netip.AddrPort{}, http.StatusBadRequest, fmt.Errorf("hbone request: method %q, want CONNECT", method)
	}
	ap, err := netip.ParseAddrPort(authority)
	if err != nil {
		return netip.AddrPort{}, http.StatusBadRequest, fmt.Errorf("hbone request: authority %q is not ip:port: %w", authority, err)
	}
	if ap.Port() == 0 {
		return netip.AddrPort{}, http.StatusBadRequest, fmt.Errorf("hbone request: authority %q has port 0", authority)
	}
	if ap.Addr().Zone() != "" {
		return netip.AddrPort{}, http.StatusBadRequest, fmt.Errorf("hbone request: authority %q has a zone", authority)
	}
	return ap, http.StatusOK, nil
}

// StatusError is returned by Client.Dial when the server answered the
// CONNECT with a status other than 200.
type StatusError struct {
	Code int
	// Target is the authority that was asked for.
	Target string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("hbone CONNECT %s: server answered %d %s", e.Target, e.Code, http.StatusText(e.Code))
}

package meshtest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/sidecar"
	"github.com/ambientsim/ambientsim/validation/waypoint"
)

func (e *Env) startL7(t testing.TB, ctx context.Context, logger *slog.Logger) {
	t.Helper()
	wp, err := waypoint.New(waypoint.Config{Name: "default/waypoint", Mesh: e.Index, Issuer: e.CA.Unrestricted(), Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := wp.Start(ctx); err != nil {
		t.Fatal(err)
	}
	e.Waypoint = wp
	e.extra = append(e.extra, wp.Shutdown)

	e.Sidecars = map[string]*sidecar.Proxy{}
	for _, pod := range []string{"sc-server", "sc-client"} {
		cfg := sidecar.Config{Pod: "default/" + pod, Mesh: e.Index, Issuer: e.CA.Unrestricted(), AppPort: HTTPPort, Logger: logger}
		if pod == "sc-client" {
			cfg.Outbound = []sidecar.OutboundListener{{Listen: e.IP(21) + ":0", Destination: e.SidecarHTTP}}
		}
		sc, err := sidecar.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := sc.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if pod == "sc-client" {
			e.outbound[[2]string{"sc-client", e.SidecarHTTP}] = sc.OutboundAddrs()[0].String()
		}
		e.Sidecars[pod] = sc
		e.extra = append(e.extra, sc.Shutdown)
	}
}

// HTTPClient returns a client for the app in pod src: every connection to
// host:port goes to src's capture listener for that destination. Keep-alive
// connections are closed in t.Cleanup.
func (e *Env) HTTPClient(t testing.TB, src string) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", e.Outbound(src, addr))
		},
		MaxIdleConnsPerHost: 64,
		DisableCompression:  true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

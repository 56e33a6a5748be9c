package hbone_test

import (
	"net/http"
	"testing"

	"github.com/ambientsim/ambientsim/validation/hbone"
)

func TestParseConnect(t *testing.T) {
	for _, tc := range []struct {
		method, authority string
		want              int
	}{
		{"CONNECT", "10.0.0.5:8080", 200},
		{"CONNECT", "[fd00::5]:8080", 200},
		{"GET", "10.0.0.5:8080", 400},
		{"CONNECT", "echo.default:80", 400},
		{"CONNECT", "10.0.0.5", 400},
		{"CONNECT", "10.0.0.5:0", 400},
		{"CONNECT", "[fe80::1%eth0]:80", 400},
		{"CONNECT", "", 400},
	} {
		_, code, err := hbone.ParseConnect(tc.method, tc.authority)
		if code != tc.want || (err == nil) != (tc.want == http.StatusOK) {
			t.Errorf("ParseConnect(%q, %q) = %d, %v; want %d", tc.method, tc.authority, code, err, tc.want)
		}
	}
}

func FuzzParseConnect(f *testing.F) {
	for _, s := range []string{"10.0.0.5:8080", "[fd00::5]:8080", "host:80", "1.2.3.4:99999", ":80", "[::ffff:1.2.3.4]:1"} {
		f.Add("CONNECT", s)
	}
	f.Add("GET", "1.2.3.4:80")
	f.Fuzz(func(t *testing.T, method, authority string) {
		ap, code, err := hbone.ParseConnect(method, authority)
		switch code {
		case http.StatusOK:
			if err != nil || method != http.MethodConnect || !ap.IsValid() || ap.Port() == 0 {
				t.Fatalf("accepted %q %q as %v (err %v)", method, authority, ap, err)
			}
			// What we accept must be what a client would send back to us.
			again, code2, _ := hbone.ParseConnect(method, ap.String())
			if code2 != http.StatusOK || again != ap {
				t.Fatalf("%q → %v does not round-trip", authority, ap)
			}
		case http.StatusBadRequest:
			if err == nil {
				t.Fatalf("400 without an error for %q %q", method, authority)
			}
		default:
			t.Fatalf("unexpected status %d", code)
		}
	})
}

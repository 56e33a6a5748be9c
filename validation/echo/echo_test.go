package echo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/echo"
)

func TestHandler(t *testing.T) {
	srv := httptest.NewServer((&echo.Server{Name: "p", ResponseSize: 100}).Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	if resp, body := get("/"); resp.StatusCode != 200 || len(body) != 100 || resp.Header.Get("x-echo-pod") != "p" {
		t.Errorf("/ = %d %d bytes %q", resp.StatusCode, len(body), resp.Header.Get("x-echo-pod"))
	}
	if resp, body := get("/?size=7&status=503"); resp.StatusCode != 503 || len(body) != 7 {
		t.Errorf("status/size override = %d %d", resp.StatusCode, len(body))
	}
	start := time.Now()
	if _, _ = get("/?delay=30ms"); time.Since(start) < 30*time.Millisecond {
		t.Error("delay not applied")
	}
	_, body := get("/bytes?size=1000")
	h := sha256.Sum256([]byte(body))
	resp, err := http.Post(srv.URL+"/sha256", "x", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("%s 1000\n", hex.EncodeToString(h[:])); string(got) != want {
		t.Errorf("sha256 = %q, want %q", got, want)
	}
}

package echo_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ambientsim/ambientsim/validation/echo"
)

// An echo server on loopback answers plain GETs with ResponseSize bytes and
// names itself in x-echo-pod, so a test behind a proxy can tell which pod
// answered.
func ExampleServer_ListenHTTP() {
	ctx := context.Background()
	srv := &echo.Server{Name: "server-0", ResponseSize: 1024}
	addr, err := srv.ListenHTTP(ctx, "127.0.0.1:0") // port 0: any free port
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 5 * time.Second}

	resp, err := client.Get("http://" + addr.String() + "/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.StatusCode, resp.Header.Get("x-echo-pod"), len(body), "bytes")

	resp, err = client.Post("http://"+addr.String()+"/echo", "text/plain", strings.NewReader("hello mesh"))
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s\n", body)
	fmt.Println("requests served:", srv.Requests())
	// Output:
	// 200 server-0 1024 bytes
	// hello mesh
	// requests served: 2
}

// The TCP echo returns every byte until the client half-closes.
func ExampleServer_ListenTCP() {
	ctx := context.Background()
	srv := &echo.Server{Name: "server-0"}
	addr, err := srv.ListenTCP(ctx, "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Shutdown(ctx)

	c, err := net.DialTimeout("tcp", addr.String(), 5*time.Second)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "ping over tcp"); err != nil {
		fmt.Println(err)
		return
	}
	_ = c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(c)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", got)
	// Output:
	// ping over tcp
}

// Handler serves the same endpoints without a listener, e.g. inside
// httptest or behind an in-process proxy. /sha256 checks the integrity of
// a large upload.
func ExampleServer_Handler() {
	srv := &echo.Server{Name: "in-process"}
	w := httptest.NewRecorder()
	srv.Handler().ServeHTTP(w, httptest.NewRequest("POST", "/sha256", strings.NewReader("abc")))
	fmt.Println(w.Code, w.Header().Get("x-echo-pod"))
	fmt.Println(strings.TrimSpace(w.Body.String()))
	// Output:
	// 200 in-process
	// ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad 3
}

// Pattern produces the deterministic bytes /bytes serves, so a client can
// verify a download without storing it.
func ExamplePattern() {
	var p echo.Pattern
	b := make([]byte, 40)
	_, _ = io.ReadFull(&p, b)
	fmt.Printf("%q\n", b)
	// Output:
	// "abcdefghijklmnopqrstuvwxyzabcdefghijklmn"
}

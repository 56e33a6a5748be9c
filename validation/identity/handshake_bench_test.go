package identity_test

import (
	"crypto/tls"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/identity"
)

// rusageThread is Linux's RUSAGE_THREAD: the calling thread's usage.
const rusageThread = 1

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		tb.Skipf("per-thread CPU accounting unavailable: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sideCPU runs f on a goroutine locked to its own OS thread and returns
// the CPU that thread used.
func sideCPU(tb testing.TB, f func() error) (time.Duration, error) {
	type res struct {
		cpu time.Duration
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before := threadCPU(tb)
		err := f()
		ch <- res{threadCPU(tb) - before, err}
	}()
	r := <-ch
	return r.cpu, r.err
}

// BenchmarkMTLSHandshake measures the CPU of one HBONE mutual-TLS handshake
// as the project's data plane does it (crypto/tls, TLS 1.3 only, ALPN h2,
// ECDSA P-256 SPIFFE certificates from the mesh CA, X25519, no session
// resumption), on each side: the client's (dialling proxy) and the
// server's (accepting proxy). Each side runs on an OS thread of its own and
// is charged that thread's CPU (getrusage RUSAGE_THREAD), over an in-memory
// pipe, so no kernel network work is included. The results are the
// profile's handshake CPU figures (client-µs/op, server-µs/op).
func BenchmarkMTLSHandshake(b *testing.B) {
	ca, err := identity.NewCA("cluster.local", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	m := identity.NewManager(ca.Unrestricted(), 30*time.Minute)
	client := identity.MustParse("spiffe://cluster.local/ns/a/sa/client")
	server := identity.MustParse("spiffe://cluster.local/ns/b/sa/server")
	cconf := identity.ClientTLS(m, client, server)
	sconf := identity.ServerTLS(m, server)
	var clientCPU, serverCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c, s := net.Pipe()
		sc := make(chan time.Duration, 1)
		go func() {
			cpu, err := sideCPU(b, func() error { return tls.Server(s, sconf).Handshake() })
			if err != nil {
				b.Error(err)
			}
			sc <- cpu
		}()
		cpu, err := sideCPU(b, func() error { return tls.Client(c, cconf).Handshake() })
		if err != nil {
			b.Fatal(err)
		}
		clientCPU += cpu
		serverCPU += <-sc
		c.Close()
		s.Close()
	}
	b.ReportMetric(float64(clientCPU.Microseconds())/float64(b.N), "client-µs/op")
	b.ReportMetric(float64(serverCPU.Microseconds())/float64(b.N), "server-µs/op")
}

// BenchmarkTCPConnect measures the CPU of one loopback TCP connection's
// set-up and tear-down on each side (connect + close on the dialler,
// accept + close on the listener), each side on an OS thread of its own:
// the profile's network.tcp_handshake_cpu (the kernel work of the
// handshake lands partly in softirq context, which Linux charges to
// whichever thread was running; loopback puts both ends on this machine).
func BenchmarkTCPConnect(b *testing.B) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Skipf("no loopback: %v", err)
	}
	defer l.Close()
	addr := l.Addr().String()
	var dialCPU, acceptCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ac := make(chan time.Duration, 1)
		go func() {
			cpu, err := sideCPU(b, func() error {
				conn, err := l.Accept()
				if err != nil {
					return err
				}
				var one [1]byte
				_, _ = conn.Read(one[:]) // until the dialler closes
				return conn.Close()
			})
			if err != nil {
				b.Error(err)
			}
			ac <- cpu
		}()
		cpu, err := sideCPU(b, func() error {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				return err
			}
			return conn.Close()
		})
		if err != nil {
			b.Fatal(err)
		}
		dialCPU += cpu
		acceptCPU += <-ac
	}
	b.ReportMetric(float64(dialCPU.Microseconds())/float64(b.N), "dial-µs/op")
	b.ReportMetric(float64(acceptCPU.Microseconds())/float64(b.N), "accept-µs/op")
}

package echo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server is an echo application; configure fields before listening.
type Server struct {
	Name         string        // reported in x-echo-pod
	ServiceTime  time.Duration // added before each HTTP response
	ResponseSize int           // bytes of the default HTTP response body

	mu       sync.Mutex
	https    []*http.Server
	tcp      []net.Listener
	conns    map[net.Conn]struct{}
	wg       sync.WaitGroup
	requests int64
}

// Requests returns how many HTTP requests were served.
func (s *Server) Requests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// ListenHTTP serves the HTTP endpoints on addr (HTTP/1.1 and h2c prior knowledge).
func (s *Server) ListenHTTP(ctx context.Context, addr string) (net.Addr, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echo %s: listen http %s: %w", s.Name, addr, err)
	}
	var protos http.Protocols
	protos.SetHTTP1(true)
	protos.SetUnencryptedHTTP2(true)
	hs := &http.Server{Handler: s.Handler(), Protocols: &protos, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.https = append(s.https, hs)
	s.mu.Unlock()
	s.wg.Add(1)
	go func() { defer s.wg.Done(); _ = hs.Serve(ln) }()
	return ln.Addr(), nil
}

// ListenTCP echoes every byte back on addr until the client half-closes.
func (s *Server) ListenTCP(ctx context.Context, addr string) (net.Addr, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echo %s: listen tcp %s: %w", s.Name, addr, err)
	}
	s.mu.Lock()
	s.tcp = append(s.tcp, ln)
	if s.conns == nil {
		s.conns = map[net.Conn]struct{}{}
	}
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = struct{}{}
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() { s.mu.Lock(); delete(s.conns, c); s.mu.Unlock(); c.Close() }()
				buf := make([]byte, 64<<10)
				if _, err := io.CopyBuffer(c, onlyReader{c}, buf); err == nil {
					if tc, ok := c.(*net.TCPConn); ok {
						_ = tc.CloseWrite()
					}
				}
			}()
		}
	}()
	return ln.Addr(), nil
}

type onlyReader struct{ io.Reader }

// Shutdown stops listening and waits for in-flight work until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	hs := s.https
	for _, ln := range s.tcp {
		_ = ln.Close()
	}
	s.mu.Unlock()
	var errs []error
	for _, h := range hs {
		if err := h.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			_ = h.Close()
		}
	}
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			_ = c.Close()
		}
		s.mu.Unlock()
		<-done
		errs = append(errs, ctx.Err())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("echo %s shutdown: %w", s.Name, err)
	}
	return nil
}

// Handler returns the HTTP handler (usable without listening).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		s.count()
		s.header(w)
		s.wait(r)
		bp := make([]byte, 32<<10)
		_, _ = io.CopyBuffer(w, r.Body, bp)
	})
	mux.HandleFunc("/sha256", func(w http.ResponseWriter, r *http.Request) {
		s.count()
		s.header(w)
		h := sha256.New()
		n, err := io.Copy(h, r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		fmt.Fprintf(w, "%s %d\n", hex.EncodeToString(h.Sum(nil)), n)
	})
	mux.HandleFunc("/bytes", func(w http.ResponseWriter, r *http.Request) {
		s.count()
		s.header(w)
		n, err := strconv.ParseInt(r.URL.Query().Get("size"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "size: want a non-negative integer", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		_, _ = io.Copy(w, io.LimitReader(&Pattern{}, n))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.count()
		s.header(w)
		_, _ = io.Copy(io.Discard, r.Body)
		s.wait(r)
		size := s.ResponseSize
		if q := r.URL.Query().Get("size"); q != "" {
			if n, err := strconv.Atoi(q); err == nil && n >= 0 {
				size = n
			}
		}
		code := http.StatusOK
		if c := r.URL.Query().Get("status"); c != "" {
			if v, err := strconv.Atoi(c); err == nil && v >= 200 && v < 600 {
				code = v
			}
		}
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(code)
		_, _ = io.Copy(w, io.LimitReader(&Pattern{}, int64(size)))
	})
	return mux
}

func (s *Server) count() {
	s.mu.Lock()
	s.requests++
	s.mu.Unlock()
}

func (s *Server) header(w http.ResponseWriter) { w.Header().Set("x-echo-pod", s.Name) }

func (s *Server) wait(r *http.Request) {
	d := s.ServiceTime
	if q := r.URL.Query().Get("delay"); q != "" {
		if v, err := time.ParseDuration(q); err == nil && v >= 0 && v <= time.Minute {
			d = v
		}
	}
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-r.Context().Done():
	}
}

// Pattern is an endless reader of a fixed, position-dependent byte pattern.
type Pattern struct{ off int64 }

// Read fills p with the pattern.
func (p *Pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte('a' + (p.off+int64(i))%26)
	}
	p.off += int64(len(b))
	return len(b), nil
}

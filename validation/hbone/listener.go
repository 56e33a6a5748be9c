package hbone

import (
	"net"
	"sync"
)

// StreamListener is a net.Listener fed with accepted tunnels, so that an
// http.Server can serve the HTTP carried inside HBONE streams (a waypoint,
// or a sidecar accepting HBONE).
type StreamListener struct {
	addr   net.Addr
	ch     chan net.Conn
	done   chan struct{}
	closed sync.Once
}

// NewStreamListener returns a listener reporting addr as its address.
func NewStreamListener(addr net.Addr) *StreamListener {
	return &StreamListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the next pushed connection.
func (l *StreamListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Push hands c to the server; it returns false once the listener is closed.
func (l *StreamListener) Push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

// Close stops Accept and Push.
func (l *StreamListener) Close() error {
	l.closed.Do(func() { close(l.done) })
	return nil
}

// Addr returns the address given to NewStreamListener.
func (l *StreamListener) Addr() net.Addr { return l.addr }

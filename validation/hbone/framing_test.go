package hbone_test

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/ambientsim/ambientsim/validation/hbone"
)

// writeCounter counts the writes a client makes on its TCP connection.
type writeCounter struct {
	net.Conn
	mu     sync.Mutex
	writes int
	bytes  int
}

func (c *writeCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writes++
	c.bytes += len(p)
	c.mu.Unlock()
	return c.Conn.Write(p)
}

// count is the writes so far, read under the lock Write takes (the
// connection's flush goroutine writes concurrently with the test).
func (c *writeCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.writes
}

// TestFirstStreamUsesLargeFrames guards the SETTINGS wait in the client: the
// first stream on a new connection must send DATA frames sized by the
// server's SETTINGS_MAX_FRAME_SIZE (1 MiB, capped at 512 KiB by x/net), not
// the 16 KiB default. A 16 KiB frame plus its 9-byte header is two TLS
// records, i.e. two socket writes per 16 KiB: 128+ writes per MiB instead of
// ~65 (one per full 16 KiB TLS record). Counting writes makes it
// independent of timing.
func TestFirstStreamUsesLargeFrames(t *testing.T) {
	f := newFixture(t, 0)
	var (
		mu sync.Mutex
		wc *writeCounter
	)
	c := f.client(t, hbone.ClientConfig{Dial: func(ctx context.Context, src netip.Addr, addr string) (net.Conn, error) {
		raw, err := hbone.DialFrom(ctx, src, addr)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		wc = &writeCounter{Conn: raw}
		return wc, nil
	}})
	s, err := c.Dial(context.Background(), f.target(clientID, f.echo))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const mib = 8
	// Drain the echo so flow control never stalls the writer.
	drained := make(chan int64, 1)
	go func() { n, _ := hbone.CopyCounted(discard{}, s, nil); drained <- n }()
	mu.Lock()
	counter := wc
	mu.Unlock()
	before := counter.count()
	chunk := make([]byte, 1<<20)
	for range mib {
		if _, err := s.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n := <-drained; n != mib<<20 {
		t.Fatalf("echoed %d bytes, want %d", n, mib<<20)
	}
	writes := counter.count() - before
	// 64 full records per MiB, plus a small record per frame and the
	// occasional WINDOW_UPDATE for the echoed direction.
	perMiB := float64(writes) / mib
	t.Logf("%.1f socket writes per MiB", perMiB)
	if perMiB > 110 {
		t.Errorf("%.0f socket writes per MiB sent, want <= 110 (16 KiB DATA frames split into two TLS records each?)", perMiB)
	}
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

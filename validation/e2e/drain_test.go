package e2e_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/meshtest"
)

// ztunnel's drain: on shutdown the destination node proxy stops taking new
// tunnels at once, lets established ones carry on until the deadline, then
// cuts them.
func TestNodeProxyDrain(t *testing.T) {
	env := meshtest.Start(t, meshtest.Options{})
	c, err := env.Dial("client", env.ServerTCP)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 5)
	echoOnce := func(msg string) error {
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write([]byte(msg)); err != nil {
			return err
		}
		_, err := io.ReadFull(c, buf)
		return err
	}
	if err := echoOnce("hello"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		done <- env.Ztunnels["node-b"].Shutdown(ctx)
	}()
	time.Sleep(100 * time.Millisecond)
	// Established tunnel: still works while draining.
	if err := echoOnce("again"); err != nil || string(buf) != "again" {
		t.Fatalf("established connection during drain: %q %v", buf, err)
	}
	// New connection: the destination no longer listens, the app is reset.
	c2, err := env.Dial("client", env.PodTCP)
	if err == nil {
		_ = c2.SetDeadline(time.Now().Add(5 * time.Second))
		_, _ = c2.Write([]byte("x"))
		_, err = io.ReadAll(c2)
		c2.Close()
		if err == nil {
			err = errors.New("closed cleanly")
		}
	}
	t.Logf("new connection during drain: %v", err)
	// At the deadline the established tunnel is cut.
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want the drain deadline", err)
	}
	if el := time.Since(start); el < 450*time.Millisecond || el > 3*time.Second {
		t.Errorf("drain took %v, want about 500ms", el)
	}
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(buf); err == nil {
		t.Error("established connection survived the drain deadline")
	}
}

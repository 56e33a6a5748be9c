package promtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readyTimeout bounds the wait for the server to load its blocks.
const readyTimeout = 60 * time.Second

// InCI reports whether the tests run in CI (CI=true), where a missing
// binary is a failure, not a skip.
func InCI() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v == "true" || v == "1"
}

// Binary returns the path of a Prometheus binary (prometheus, promtool).
// When it is missing the test is skipped with the install command, or
// fails under CI=true.
func Binary(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s not found: install Debian's prometheus package (bash .ci/deps, or apt-get install prometheus)", name)
	if InCI() {
		t.Fatalf("%s; CI=true, so this test must run", msg)
	}
	t.Skip(msg)
	return ""
}

// Backfill turns an OpenMetrics file into TSDB blocks in dataDir with
// promtool tsdb create-blocks-from openmetrics.
func Backfill(t testing.TB, promtool, om, dataDir string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool, "tsdb", "create-blocks-from", "openmetrics", om, dataDir).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool tsdb create-blocks-from openmetrics %s: %v\n%s", om, err, out)
	}
}

// freePort asks the kernel for a free loopback port.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs a Prometheus server on the blocks in dataDir, listening on
// 127.0.0.1 only, scraping nothing, and returns its base URL once
// /-/ready answers 200 (at most readyTimeout). The server is killed when
// the test ends, and if the test process dies (SIGKILL on parent death).
func Start(t testing.TB, prometheus, dataDir string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\nscrape_configs: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ { // the port can be taken between freePort and bind
		port := freePort(t)
		addr := "127.0.0.1:" + strconv.Itoa(port)
		logPath := filepath.Join(dir, fmt.Sprintf("prometheus-%d.log", attempt))
		logf, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(prometheus, "--config.file="+cfg, "--storage.tsdb.path="+dataDir,
			"--web.listen-address="+addr, "--storage.tsdb.retention.time=30d", "--log.level=warn")
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
		if err := cmd.Start(); err != nil {
			logf.Close()
			t.Fatalf("starting %s: %v", prometheus, err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
			logf.Close()
		}
		url := "http://" + addr
		if lastErr = waitReady(url, done); lastErr == nil {
			t.Cleanup(stop)
			return url
		}
		stop()
		log, _ := os.ReadFile(logPath)
		lastErr = fmt.Errorf("%w\nprometheus log:\n%s", lastErr, log)
	}
	t.Fatalf("prometheus did not become ready: %v", lastErr)
	return ""
}

func waitReady(url string, exited <-chan struct{}) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("prometheus exited before it was ready")
		default:
		}
		resp, err := client.Get(url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("no 200 from %s/-/ready within %s", url, readyTimeout)
}

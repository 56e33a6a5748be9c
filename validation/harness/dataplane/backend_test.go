package dataplane

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindModule(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := FindModule(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "validation", "cmd", "meshnode")); err != nil {
		t.Errorf("FindModule = %s: no validation/cmd/meshnode there", root)
	}
	if _, err := FindModule(t.TempDir()); err == nil || !strings.Contains(err.Error(), "meshnode") {
		t.Errorf("outside a checkout: error %v, want one suggesting a built meshnode", err)
	}
}

func TestLocalBackendChecksFirst(t *testing.T) {
	if os.Geteuid() == 0 {
		if _, _, err := LocalBackend(context.Background(), LocalOptions{}); err == nil || !strings.Contains(err.Error(), "Dir") {
			t.Errorf("no Dir: error %v", err)
		}
		if _, _, err := LocalBackend(context.Background(), LocalOptions{Dir: t.TempDir(), Binary: "/nonexistent/meshnode"}); err == nil {
			t.Error("missing binary: no error")
		}
		return
	}
	if _, _, err := LocalBackend(context.Background(), LocalOptions{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "needs root") {
		t.Errorf("not root: error %v, want the needs-root error", err)
	}
}

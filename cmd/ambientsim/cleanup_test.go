package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ambientsim/ambientsim/validation/harness"
)

// `validate --cleanup` and `calibrate --cleanup` remove what a dead
// owner's file still claims (here a scratch directory of credentials) and
// exit 0; validation/harness's TestKilledHarnessLeavesNothing kills a real
// run for the full story.
func TestCleanupFlag(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but the test is not running as root")
		}
		t.Skip("--cleanup needs root (it removes network namespaces); CI runs it as root")
	}
	if err := harness.CheckPrerequisites(); err != nil {
		t.Skip(err)
	}
	for _, sub := range []string{"validate", "calibrate"} {
		t.Run(sub, func(t *testing.T) {
			owners := t.TempDir()
			t.Setenv(harness.OwnerDirEnv, owners)
			scratch := filepath.Join(t.TempDir(), "ambientsim-validate-1")
			if err := os.MkdirAll(filepath.Join(scratch, "pki"), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(scratch, "pki", "root.pem"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
			// An owner file nobody holds a lock on: its process is gone.
			owner := filepath.Join(owners, "999999-1.owner")
			if err := os.WriteFile(owner, []byte("pid 999999\nstart 1\ndir "+scratch+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			out, code := runCLI(t, sub, "--cleanup")
			if code != 0 || !strings.Contains(out, "removed directory "+scratch) {
				t.Fatalf("exit %d, output:\n%s", code, out)
			}
			for _, p := range []string{scratch, owner} {
				if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s still there after --cleanup: %v", p, err)
				}
			}
		})
	}
}

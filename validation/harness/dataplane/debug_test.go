package dataplane

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ambientsim/ambientsim/validation/harness"
)

func TestDebugL4(t *testing.T) {
	if os.Getenv("ASDBG") == "" {
		t.Skip()
	}
	ctx := context.Background()
	dir := "/tmp/asdbg"
	os.RemoveAll(dir)
	os.MkdirAll(dir, 0o755)
	moduleDir, _ := filepath.Abs("../../..")
	bin, err := Build(ctx, moduleDir, dir)
	if err != nil {
		t.Fatal(err)
	}
	cmdr := NewCommander(Options{Binary: bin, Dir: dir, LogLevel: "debug"})
	b, _ := harness.NewLocal(harness.LocalOptions{Commander: cmdr, WorkDir: dir + "/work"})
	m, err := harness.Session(ctx, b, TwoNodeAmbient(), CrossNodeL4(10, 1*time.Second, 1), time.Minute)
	t.Log(err)
	if m != nil {
		t.Logf("%+v", m.Loads[0].Result.RetCodes)
	}
}

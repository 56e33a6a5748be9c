// Command ambientsim simulates Istio ambient-mesh and sidecar topologies,
// audits request paths and policy placement, and writes review reports.
//
// Exit codes: 0 success, 1 failure, 2 usage error.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"context"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first Ctrl-C cancels ctx (the run stops, outputs are not
	// committed); once it has, the default action returns, so a second one
	// ends the process even while it waits on something ctx cannot stop
	// (a read from a pipe).
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run executes the CLI and maps errors to exit codes; it never calls os.Exit,
// so tests can drive it.
func run(ctx context.Context, args []string) int {
	root := newRootCmd()
	root.SetArgs(args)
	err := execute(ctx, root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ambientsim:", err)
	}
	return exitCode(err)
}

// execute runs the command tree; a usage error caused by a value from the
// environment or the config file says where that value came from.
func execute(ctx context.Context, root *cobra.Command) error {
	c, err := root.ExecuteContextC(ctx)
	if c != nil {
		err = explainOrigin(err, settingsOf(c))
	}
	return err
}

// exitCode maps an error from the command tree to the process exit code.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		return 2
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return 1
}

// exitError carries a specific non-zero exit code (e.g. `paths --fail-on`).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

package harness

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync"
)

// Runner runs the system commands (ip, tc, sysctl) that build a local
// environment. The default runs them; tests record them instead.
type Runner interface {
	Run(ctx context.Context, name string, args ...string) (stdout []byte, err error)
}

// ExecRunner runs commands with os/exec. Errors carry the command line and
// its standard error.
type ExecRunner struct{}

// Run runs name with args and returns its standard output.
func (ExecRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), &CommandError{Line: commandLine(name, args), Stderr: strings.TrimSpace(stderr.String()), Err: err}
	}
	return stdout.Bytes(), nil
}

// CommandError is a failed system command.
type CommandError struct {
	Line   string // the command line
	Stderr string
	Err    error
}

func (e *CommandError) Error() string {
	if e.Stderr == "" {
		return fmt.Sprintf("%s: %v", e.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v: %s", e.Line, e.Err, e.Stderr)
}

func (e *CommandError) Unwrap() error { return e.Err }

// RecordingRunner records command lines instead of running them. Fail, if
// set, decides per command line whether to fail it (for error-path tests).
type RecordingRunner struct {
	mu    sync.Mutex
	lines []string
	Fail  func(line string) error
}

// Run records the command line and returns no output.
func (r *RecordingRunner) Run(ctx context.Context, name string, args ...string) ([]byte, error) {
	line := commandLine(name, args)
	r.mu.Lock()
	r.lines = append(r.lines, line)
	r.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.Fail != nil {
		if err := r.Fail(line); err != nil {
			return nil, &CommandError{Line: line, Err: err}
		}
	}
	return nil, nil
}

// Lines returns the recorded command lines in order.
func (r *RecordingRunner) Lines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

func commandLine(name string, args []string) string {
	return strings.TrimSpace(name + " " + strings.Join(args, " "))
}

//go:build !linux

package harness

import (
	"os/exec"
	"syscall"
)

func spawn(cmd *exec.Cmd) error { return cmd.Start() }

func childAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

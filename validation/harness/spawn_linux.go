//go:build linux

package harness

import (
	"os/exec"
	"runtime"
	"sync"
	"syscall"
)

// Children are started with Pdeathsig=SIGKILL so that they die with the
// harness if it crashes. The kernel sends that signal when the *thread*
// that forked the child exits, and Go discards threads (for instance the
// ones DialInNetns moved into a namespace), so every child is forked from
// one goroutine locked to its thread for the life of the process.
var (
	spawnOnce sync.Once
	spawnReq  chan spawnRequest
)

type spawnRequest struct {
	cmd  *exec.Cmd
	done chan error
}

// spawn starts cmd from the dedicated spawner thread.
func spawn(cmd *exec.Cmd) error {
	spawnOnce.Do(func() {
		spawnReq = make(chan spawnRequest)
		go func() {
			runtime.LockOSThread() // never unlocked: the thread must outlive every child
			for r := range spawnReq {
				r.done <- r.cmd.Start()
			}
		}()
	})
	done := make(chan error, 1)
	spawnReq <- spawnRequest{cmd: cmd, done: done}
	return <-done
}

// childAttr puts the child in its own process group (Ctrl-C reaches only
// the harness, which stops children in order) and kills it when the
// harness dies.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

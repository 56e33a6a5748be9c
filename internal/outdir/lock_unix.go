//go:build unix

package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Lock is held on an output directory while one process writes it.
type Lock struct {
	f    *os.File
	path string
}

// lockPath is the lock file of output directory final: beside it, since
// the directory itself is replaced at commit.
func lockPath(final string) string {
	return filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".lock")
}

// TryLock takes the lock of output directory dir without waiting: while
// another process holds it, it fails naming that process. The lock is an
// flock(2) on a file beside dir, so the kernel drops it when its holder
// dies, however it dies.
func TryLock(dir string) (*Lock, error) {
	final, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return tryLock(final, dir)
}

// tryLock locks absolute directory final, naming it dir in errors.
func tryLock(final, dir string) (*Lock, error) {
	p := lockPath(final)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("output directory %s: cannot lock it: %w", dir, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			holder, _ := os.ReadFile(p)
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				who := "another ambientsim"
				if pid := strings.TrimSpace(string(holder)); pid != "" {
					who += " (pid " + pid + ")"
				}
				return nil, fmt.Errorf("output directory %s: %s is writing it; wait for it to finish or give another --out", dir, who)
			}
			return nil, fmt.Errorf("output directory %s: cannot lock it: %w", dir, err)
		}
		// The previous holder unlinks the file before unlocking it: if
		// the name now leads elsewhere, we locked a dead file; retry.
		var fst, pst syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &fst) == nil && syscall.Stat(p, &pst) == nil && fst.Ino == pst.Ino && fst.Dev == pst.Dev {
			f.Truncate(0)
			f.WriteAt(pidText(), 0)
			return &Lock{f: f, path: p}, nil
		}
		f.Close()
		if attempt > 100 {
			return nil, fmt.Errorf("output directory %s: cannot lock it: the lock file keeps changing", dir)
		}
	}
}

// Unlock removes the lock file and releases the lock. It is a no-op on a
// nil or released Lock.
func (l *Lock) Unlock() {
	if l == nil || l.f == nil {
		return
	}
	os.Remove(l.path)
	l.f.Close()
	l.f = nil
}

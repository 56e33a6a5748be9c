//go:build !unix

package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Lock is held on an output directory while one process writes it.
type Lock struct{ path string }

// TryLock takes the lock of output directory dir without waiting. Without
// flock(2) it is an exclusively created file, which a crashed holder
// leaves behind: the error says to remove it.
func TryLock(dir string) (*Lock, error) {
	final, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	return tryLock(final, dir)
}

func tryLock(final, dir string) (*Lock, error) {
	p := filepath.Join(filepath.Dir(final), "."+filepath.Base(final)+".lock")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("output directory %s: another ambientsim is writing it (lock %s; remove it if no run is)", dir, p)
	}
	if err != nil {
		return nil, fmt.Errorf("output directory %s: cannot lock it: %w", dir, err)
	}
	f.Write(pidText())
	f.Close()
	return &Lock{path: p}, nil
}

// Unlock releases the lock.
func (l *Lock) Unlock() {
	if l == nil || l.path == "" {
		return
	}
	os.Remove(l.path)
	l.path = ""
}

package outdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Marker is the file every committed output directory holds: a
// directory with it is one this tool wrote and may replace.
const Marker = ".ambientsim-output"

// Dir is an output directory being written: the files go into a staging
// directory beside it, which Commit puts in its place in one rename.
// Until then the previous contents stay as they were; Abort (or a crash)
// leaves them untouched.
type Dir struct {
	final string // the output directory, absolute
	stage string // where the files are written
	lock  *Lock
	done  bool
}

// Options say what Begin may replace.
type Options struct {
	// Known are the names the command writes (files or directories): an
	// existing directory holding only these may be replaced even without
	// the Marker (one written before this package existed).
	Known []string
}

// Begin checks, before any work, that dir can become the output
// directory: it is not a file, its parent can be created and written, it
// is not the working directory or one of its parents, and it is absent,
// empty, or a directory this tool wrote (Marker, or only Options.Known
// files). It then takes dir's lock (a second writer fails at once, naming
// the holder's pid), removes staging directories left by dead runs, and
// creates the staging directory the caller writes into (Path).
func Begin(dir string, o Options) (*Dir, error) {
	final, err := checkTarget(dir, o)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	lock, err := tryLock(final, dir)
	if err != nil {
		return nil, err
	}
	base := filepath.Base(final)
	for _, pat := range []string{stagePrefix(base) + "*", oldPrefix(base) + "*"} {
		old, _ := filepath.Glob(filepath.Join(filepath.Dir(final), pat))
		for _, o := range old {
			os.RemoveAll(o) // a dead run's leftovers: we hold the lock
		}
	}
	// Re-check under the lock: another run may have committed meanwhile.
	if _, err := checkTarget(dir, o); err != nil {
		lock.Unlock()
		return nil, err
	}
	stage, err := os.MkdirTemp(filepath.Dir(final), stagePrefix(base))
	if err != nil {
		lock.Unlock()
		return nil, fmt.Errorf("output directory %s: cannot write beside it: %w", dir, err)
	}
	if err := os.Chmod(stage, 0o755); err != nil {
		os.RemoveAll(stage)
		lock.Unlock()
		return nil, fmt.Errorf("output directory %s: %w", dir, err)
	}
	return &Dir{final: final, stage: stage, lock: lock}, nil
}

func stagePrefix(base string) string { return "." + base + ".tmp-" }
func oldPrefix(base string) string   { return "." + base + ".old-" }

// checkTarget returns dir's absolute path if it may be (re)placed.
func checkTarget(dir string, o Options) (string, error) {
	if dir == "" {
		return "", errors.New("no output directory given")
	}
	final, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("output directory %s: %w", dir, err)
	}
	if final == filepath.Dir(final) {
		return "", fmt.Errorf("output directory %s: the root cannot be an output directory", dir)
	}
	if wd, err := os.Getwd(); err == nil {
		if rel, err := filepath.Rel(final, wd); err == nil && (rel == "." || !strings.HasPrefix(rel, "..")) {
			return "", fmt.Errorf("output directory %s: it holds the working directory; outputs replace the directory as a whole, so give a new or empty one", dir)
		}
	}
	st, err := os.Lstat(final)
	switch {
	case errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		// The parent may not exist yet: its nearest existing ancestor
		// must be a directory.
		for p := filepath.Dir(final); ; p = filepath.Dir(p) {
			pst, err := os.Stat(p)
			if err == nil {
				if !pst.IsDir() {
					return "", fmt.Errorf("output directory %s: %s is a file, not a directory", dir, p)
				}
				return final, nil
			}
			if p == filepath.Dir(p) {
				return final, nil
			}
		}
	case err != nil:
		return "", fmt.Errorf("output directory %s: %w", dir, err)
	case st.Mode()&os.ModeSymlink != 0:
		return "", fmt.Errorf("output directory %s: is a symbolic link; give the directory it points to", dir)
	case !st.IsDir():
		return "", fmt.Errorf("output directory %s: is a file, not a directory", dir)
	}
	entries, err := os.ReadDir(final)
	if err != nil {
		return "", fmt.Errorf("output directory %s: %w", dir, err)
	}
	var foreign []string
	marked := false
	for _, e := range entries {
		switch {
		case e.Name() == Marker:
			marked = true
		case slices.Contains(o.Known, e.Name()):
		default:
			foreign = append(foreign, e.Name())
		}
	}
	if len(foreign) > 0 && !marked {
		if len(foreign) > 3 {
			foreign = append(foreign[:3], "…")
		}
		return "", fmt.Errorf("output directory %s: holds files that are not this command's outputs (%s); outputs replace the directory as a whole, so give a new or empty one", dir, strings.Join(foreign, ", "))
	}
	return final, nil
}

// Path is the staging directory to write the outputs into.
func (d *Dir) Path() string { return d.stage }

// Final is the output directory (absolute) the outputs appear in at
// Commit.
func (d *Dir) Final() string { return d.final }

// File is the path a file named name will have once committed.
func (d *Dir) File(name string) string { return filepath.Join(d.final, name) }

// Commit syncs the staged files, marks the directory as this tool's and
// puts it in place of the output directory in one rename (swapping with
// the previous one, which is then removed), and releases the lock.
// After an error the previous directory is intact (or absent, if there
// was none) and the staging directory is removed.
func (d *Dir) Commit() error { return d.commitWith(exchange) }

// commitWith is Commit with the atomic exchange given (tests take it away).
func (d *Dir) commitWith(exchange func(a, b string) error) error {
	if d.done {
		return errors.New("outdir: Commit after Commit or Abort")
	}
	err := d.commit(exchange)
	if err != nil {
		os.RemoveAll(d.stage)
	}
	d.done = true
	d.lock.Unlock()
	return err
}

func (d *Dir) commit(exchange func(a, b string) error) error {
	if err := os.WriteFile(filepath.Join(d.stage, Marker), []byte("written by ambientsim; the directory is replaced as a whole by the next run into it\n"), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", d.final, err)
	}
	if err := syncTree(d.stage); err != nil {
		return fmt.Errorf("writing %s: %w", d.final, err)
	}
	if _, err := os.Lstat(d.final); errors.Is(err, os.ErrNotExist) {
		if err := rename(d.stage, d.final); err != nil {
			return fmt.Errorf("writing %s: %w", d.final, err)
		}
		return syncDir(filepath.Dir(d.final))
	}
	if st, err := os.Stat(d.final); err == nil {
		os.Chmod(d.stage, st.Mode().Perm())
	}
	switch err := exchange(d.stage, d.final); {
	case err == nil:
		// The stage path now holds the previous outputs.
		syncDir(filepath.Dir(d.final))
		os.RemoveAll(d.stage)
		return nil
	case !errors.Is(err, errNoExchange):
		return fmt.Errorf("writing %s: %w", d.final, err)
	}
	// No atomic exchange here: move the old directory aside, then the new
	// one in; a crash between the two leaves the old one beside (the next
	// Begin removes it).
	old, err := os.MkdirTemp(filepath.Dir(d.final), oldPrefix(filepath.Base(d.final)))
	if err != nil {
		return fmt.Errorf("writing %s: %w", d.final, err)
	}
	os.Remove(old)
	if err := rename(d.final, old); err != nil {
		return fmt.Errorf("writing %s: %w", d.final, err)
	}
	if err := rename(d.stage, d.final); err != nil {
		rename(old, d.final) // put the previous outputs back
		return fmt.Errorf("writing %s: %w", d.final, err)
	}
	syncDir(filepath.Dir(d.final))
	os.RemoveAll(old)
	return nil
}

// Abort removes the staging directory and releases the lock, leaving the
// output directory as it was. It is a no-op after Commit or Abort, so
// callers defer it.
func (d *Dir) Abort() {
	if d == nil || d.done {
		return
	}
	d.done = true
	os.RemoveAll(d.stage)
	d.lock.Unlock()
}

// rename is os.Rename, replaceable in tests to inject failures.
var rename = os.Rename

// syncTree fsyncs every regular file under dir and dir itself, so the
// rename that publishes them cannot outlive their contents in a crash.
func syncTree(dir string) error {
	err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.Type().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			serr := f.Sync()
			f.Close()
			return serr
		}
		return nil
	})
	if err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	f.Sync() // some file systems cannot sync a directory; not fatal
	return nil
}

// WriteFile writes data to path atomically: a temporary file beside it,
// synced, then renamed over it, so readers see the old file or the new
// one, never a torn one, and a full disk leaves the old one.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Chmod(perm)
	}
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, werr)
	}
	return nil
}

// CheckWritable creates dir if needed and proves a file can be created in
// it, for outputs written into a shared directory (sweep shards) rather
// than replacing it.
func CheckWritable(dir string) error {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return fmt.Errorf("output directory %s: is a file, not a directory", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".ambientsim-probe-*")
	if err != nil {
		return fmt.Errorf("output directory %s: cannot write in it: %w", dir, err)
	}
	f.Close()
	return os.Remove(f.Name())
}

// pidText is what a lock file holds: the holder's pid.
func pidText() []byte { return []byte(strconv.Itoa(os.Getpid()) + "\n") }

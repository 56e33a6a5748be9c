// Package outdir makes a command's output directory all-or-nothing: the
// outputs of one run appear together, or the previous run's stay as they
// were, and two runs never write one directory at once.
//
//	d, err := outdir.Begin(out, outdir.Options{Known: []string{"summary.json"}}) // before any work
//	if err != nil {
//		return err // a file, unwritable, foreign contents, or locked by pid N
//	}
//	defer d.Abort()                       // Ctrl-C, errors: the old directory stays
//	... write files into d.Path() ...
//	return d.Commit()                     // one rename puts them in place
//
// Begin checks the target before the work starts (not a file, creatable,
// writable, not the working directory, and either new, empty, or a
// directory this tool wrote, marked with Marker), takes an flock(2) on a
// lock file beside it (the kernel releases it when the holder dies) and
// makes a staging directory beside it, on the same file system. Commit
// fsyncs the staged files and swaps the staging directory with the
// output directory in one renameat2(RENAME_EXCHANGE) where the kernel has
// it, else two renames; staging or old directories of dead runs are
// removed by the next Begin. A full disk fails while writing into the
// staging directory, before anything is replaced (docs/limits.md).
//
// WriteFile is the single-file form (temporary file, fsync, rename), and
// CheckWritable the early check for a directory shared by several writers
// (sweep shards).
package outdir

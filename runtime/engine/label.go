package engine

// CommandLabel is how the engine names a command in its error messages ("command 'make
// all' exited with status 2"): the first line, at most 60 characters, quoted. Exported so
// that `ipcluster px` words the failures of commands it runs on Python engines the same.
func CommandLabel(code string) string { return quoteCommand(code) }

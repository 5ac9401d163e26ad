//go:build !(linux && cgo)

// Package cmalloc tunes glibc's malloc for the daemon's C and C++ side; on
// other platforms it does nothing.
package cmalloc

// DefaultArenas is the arena limit the package sets on Linux with cgo.
const DefaultArenas = 2

// Arenas reports one arena where there is no glibc malloc to inspect.
func Arenas() (int, error) { return 1, nil }

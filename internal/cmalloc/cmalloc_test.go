//go:build linux && cgo

package cmalloc

import (
	"os"
	"testing"
)

// TestArenasLimited: the constructor set the limit before the Go runtime
// started, so sixteen more threads that each allocate leave at most
// DefaultArenas arenas (glibc's default gives each thread its own, up to
// eight per core).
func TestArenasLimited(t *testing.T) {
	if os.Getenv("MALLOC_ARENA_MAX") != "" {
		t.Skip("MALLOC_ARENA_MAX is set: the package leaves it alone")
	}
	if err := spawnAllocating(16); err != nil {
		t.Fatal(err)
	}
	n, err := Arenas()
	if err != nil {
		t.Fatal(err)
	}
	if n > DefaultArenas {
		t.Fatalf("%d malloc arenas after 16 allocating threads, want at most %d", n, DefaultArenas)
	}
}

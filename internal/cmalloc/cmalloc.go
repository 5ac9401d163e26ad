//go:build linux && cgo

// Package cmalloc tunes glibc's malloc for the daemon's C and C++ side
// (OpenCV, ZXing). glibc gives each thread that allocates a malloc arena of
// its own, up to eight per core, and every arena keeps freed memory for
// reuse: with Go's threads calling into OpenCV from different goroutines that
// is several arenas of a few MB each. Two arenas cost little contention at a
// gate's frame rate and measurably less memory (make mem: about 2-3 MB of the
// daemon's anonymous RSS on the demo).
//
// Importing the package sets the limit, DefaultArenas, from a C constructor:
// it runs when the program is loaded, before the Go runtime starts its
// threads (each of which would otherwise attach to an arena of its own). The
// MALLOC_ARENA_MAX environment variable, if set, wins: glibc has applied it
// and the constructor leaves it alone.
package cmalloc

/*
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GG_DEFAULT_ARENAS 2

__attribute__((constructor)) static void gg_limit_arenas(void) {
	if (getenv("MALLOC_ARENA_MAX") == NULL) mallopt(M_ARENA_MAX, GG_DEFAULT_ARENAS);
}

static void *gg_alloc(void *arg) {
	(void)arg;
	void *p = malloc(4096);
	memset(p, 1, 4096);
	free(p);
	return NULL;
}

// gg_spawn starts n threads that each allocate once (a thread's first
// allocation is where glibc attaches it to an arena, creating one while
// under the limit) and waits for them; it returns 0 or an errno.
static int gg_spawn(int n) {
	pthread_t t[64];
	if (n > 64) n = 64;
	for (int i = 0; i < n; i++) {
		int err = pthread_create(&t[i], NULL, gg_alloc, NULL);
		if (err != 0) return err;
	}
	for (int i = 0; i < n; i++) pthread_join(t[i], NULL);
	return 0;
}

// gg_arenas counts the arenas malloc_info reports (one <heap nr=...> each).
static int gg_arenas(void) {
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) return -1;
	if (malloc_info(0, f) != 0) { fclose(f); free(buf); return -1; }
	fclose(f);
	int n = 0;
	for (char *p = buf; (p = strstr(p, "<heap nr=")) != NULL; p++) n++;
	free(buf);
	return n;
}
*/
import "C"

import "fmt"

// DefaultArenas is the arena limit the package sets when it is loaded.
const DefaultArenas = C.GG_DEFAULT_ARENAS

// Arenas returns how many malloc arenas the process has (glibc's
// malloc_info), for diagnostics and tests.
func Arenas() (int, error) {
	n := int(C.gg_arenas())
	if n < 0 {
		return 0, fmt.Errorf("cmalloc: malloc_info failed")
	}
	return n, nil
}

// spawnAllocating starts n C threads that each allocate once, and waits.
func spawnAllocating(n int) error {
	if err := C.gg_spawn(C.int(n)); err != 0 {
		return fmt.Errorf("cmalloc: pthread_create: errno %d", int(err))
	}
	return nil
}

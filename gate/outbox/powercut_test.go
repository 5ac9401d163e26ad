package outbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/outbox/internal/lazyfs"
)

// TestPowerCutLosesNothingAcknowledged records through the durable outbox
// on a file system that keeps writes in memory until they are fsynced
// (internal/lazyfs), cuts the power (every unsynced write is discarded)
// while four goroutines are recording, and reopens the file as the disk
// kept it: every record whose Record or Append had returned must be there,
// in order, under its sequence number. A SIGKILL cannot tell whether Record
// waited for the fsync (the kernel still has the data); this can: with
// bbolt's NoSync the records are lost and this test fails.
func TestPowerCutLosesNothingAcknowledged(t *testing.T) {
	backing, mnt := t.TempDir(), t.TempDir()
	l := mountLazy(t, backing, mnt)

	d, err := Open(filepath.Join(mnt, "outbox.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	acked := map[uint64]bool{}
	for seq := uint64(1); seq <= 100; seq++ {
		if err := d.Record(msg(seq, int(seq%5)*40)); err != nil {
			t.Fatal(err)
		}
		acked[seq] = true
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	progress := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				seq, err := d.Append(func(seq uint64) gate.Message { return msg(seq, int(seq%5)*40) })
				if err != nil {
					continue // after the cut
				}
				mu.Lock()
				acked[seq] = true
				mu.Unlock()
				select {
				case progress <- struct{}{}:
				case <-ctx.Done():
				}
			}
		}()
	}
	for range 300 {
		<-progress
	}
	l.powerCut() // while the goroutines are recording
	cancel()
	wg.Wait()
	_ = d.Close()
	synced, dropped := l.unmount()

	d, err = Open(filepath.Join(backing, "outbox.db"), nil)
	if err != nil {
		t.Fatalf("reopen after the power cut: %v", err)
	}
	defer d.Close()
	all, err := d.Peek(len(acked) + 100)
	if err != nil {
		t.Fatal(err)
	}
	var last uint64
	for maxAcked := range acked {
		last = max(last, maxAcked)
	}
	t.Logf("%d records acknowledged (last %d), %d fsyncs reached the disk, %d unsynced writes dropped by the cut; %d records after it",
		len(acked), last, synced, dropped, len(all))
	if len(all) < int(last) || d.LastSeq() < last {
		t.Fatalf("after the power cut: %d records, last seq %d; seq %d had been acknowledged", len(all), d.LastSeq(), last)
	}
	for i, m := range all {
		want := msg(uint64(i+1), (i+1)%5*40)
		if m.Seq != want.Seq || m.ID != want.ID || string(m.Payload) != string(want.Payload) {
			t.Fatalf("record %d after the power cut is seq %d id %s", i+1, m.Seq, m.ID)
		}
	}
	// Numbering continues after the cut.
	if err := d.Record(msg(d.LastSeq()+1, 10)); err != nil {
		t.Fatal(fmt.Errorf("record after the power cut: %w", err))
	}
}

// lazyfsChildEnv makes a re-executed test binary serve a lazyfs mount:
// "backing\nmountpoint". The file system is served from another process
// than the one using it, because bbolt reads the file through mmap: a page
// fault that waits for a FUSE server in the same process can deadlock with
// the Go runtime stopping the world (it did, under -race).
const lazyfsChildEnv = "GATEGUARD_OUTBOX_LAZYFS_CHILD"

// lazyfsChild mounts lazyfs, says "ready" (or "unavailable: why"), then
// obeys its stdin: "cut" cuts the power; end of input unmounts, prints
// "stats SYNCED DROPPED" and exits.
func lazyfsChild(dirs string) {
	backing, mnt, _ := strings.Cut(dirs, "\n")
	l, err := lazyfs.Mount(backing, mnt)
	if errors.Is(err, lazyfs.ErrUnavailable) {
		fmt.Printf("unavailable: %v\n", err)
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("ready")
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		if sc.Text() == "cut" {
			l.PowerCut()
			fmt.Println("cut")
		}
	}
	err = l.Unmount()
	synced, dropped := l.Stats()
	fmt.Printf("stats %d %d\n", synced, dropped)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// lazyMount is a lazyfs mount served by a child process.
type lazyMount struct {
	t     *testing.T
	mnt   string
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	done  bool
	stats [2]int
}

// mountLazy starts a child serving lazyfs over backing at mnt; the mount is
// removed at the end of the test even when it fails. It skips the test when
// FUSE is unavailable or mounting is not permitted.
func mountLazy(t *testing.T, backing, mnt string) *lazyMount {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lazyfsChildEnv+"="+backing+"\n"+mnt)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &lazyMount{t: t, mnt: mnt, cmd: cmd, in: in, out: bufio.NewScanner(out)}
	t.Cleanup(l.cleanup)
	line := l.line()
	if why, ok := strings.CutPrefix(line, "unavailable: "); ok {
		t.Skipf("no power-cut test here: %s", why)
	}
	if line != "ready" {
		t.Fatalf("lazyfs child said %q", line)
	}
	return l
}

func (l *lazyMount) line() string {
	if !l.out.Scan() {
		return "(child exited)"
	}
	return l.out.Text()
}

// powerCut discards every write not yet fsynced.
func (l *lazyMount) powerCut() {
	l.t.Helper()
	if _, err := io.WriteString(l.in, "cut\n"); err != nil {
		l.t.Fatal(err)
	}
	if got := l.line(); got != "cut" {
		l.t.Fatalf("lazyfs child said %q, want cut", got)
	}
}

// unmount unmounts and returns the fsyncs that reached the backing files
// and the writes the cut discarded.
func (l *lazyMount) unmount() (synced, dropped int) {
	l.t.Helper()
	_ = l.in.Close()
	line := l.line()
	if _, err := fmt.Sscanf(line, "stats %d %d", &synced, &dropped); err != nil {
		l.t.Fatalf("lazyfs child said %q at unmount", line)
	}
	if err := l.cmd.Wait(); err != nil {
		l.t.Fatalf("lazyfs child: %v", err)
	}
	l.done = true
	return synced, dropped
}

// cleanup makes sure nothing is left mounted: it detaches the mount if it
// is still there (the child may be stuck or gone) and ends the child.
func (l *lazyMount) cleanup() {
	if l.done {
		return
	}
	_ = l.in.Close()
	if mounted(l.mnt) {
		if err := syscall.Unmount(l.mnt, syscall.MNT_DETACH); err != nil {
			l.t.Errorf("unmount %s: %v", l.mnt, err)
		}
	}
	_ = l.cmd.Process.Kill()
	_ = l.cmd.Wait()
}

// mounted reports whether dir is a mount point.
func mounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

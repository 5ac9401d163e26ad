package outbox

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// crashChildEnv names the outbox file a re-executed test binary records into
// until it is killed.
const crashChildEnv = "GATEGUARD_OUTBOX_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		crashChild(path)
		return
	}
	if dirs := os.Getenv(lazyfsChildEnv); dirs != "" {
		lazyfsChild(dirs)
		return
	}
	// A goroutine that outlives the tests fails them (deps_test.go lists
	// this package as pure).
	goleak.VerifyTestMain(m)
}

// crashChild records numbered messages as fast as it can and prints each
// number once Record has returned, until it is killed.
func crashChild(path string) {
	d, err := Open(path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriterSize(os.Stdout, 64)
	for seq := d.LastSeq() + 1; ; seq++ {
		if err := d.Record(msg(seq, 300)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Fprintf(w, "%d\n", seq)
		w.Flush()
	}
}

// TestKilledMidStreamLosesNothingAcknowledged SIGKILLs a process that is
// recording as fast as it can, twice, and checks that every record whose
// Record had returned is there, in order, and that numbering continues.
func TestKilledMidStreamLosesNothingAcknowledged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "outbox.db")
	var acked uint64
	for round := 1; round <= 2; round++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		target := acked + 300
		for acked < target && sc.Scan() {
			n, err := strconv.ParseUint(sc.Text(), 10, 64)
			if err != nil {
				t.Fatalf("child said %q", sc.Text())
			}
			acked = n
		}
		if acked < target {
			t.Fatalf("child stopped at %d: %s", acked, stderr.String())
		}
		_ = cmd.Process.Signal(syscall.SIGKILL) // mid-stream: it is recording the next one
		_ = cmd.Wait()
		// Lines the child printed after we stopped reading were acknowledged too.
		for sc.Scan() {
			if n, err := strconv.ParseUint(sc.Text(), 10, 64); err == nil {
				acked = n
			}
		}

		d, err := Open(path, nil)
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		all, err := d.Peek(int(acked) + 10)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(len(all)) < acked || d.LastSeq() < acked {
			t.Fatalf("round %d: %d records, last seq %d; %d were acknowledged", round, len(all), d.LastSeq(), acked)
		}
		for i, m := range all {
			if m.Seq != uint64(i+1) || m.ID != fmt.Sprintf("id-%d", i+1) {
				t.Fatalf("round %d: record %d is seq %d id %s", round, i+1, m.Seq, m.ID)
			}
		}
		acked = d.LastSeq() // a record committed just before the kill counts too
		_ = d.Close()
	}
}

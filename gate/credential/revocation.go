package credential

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Revocation is one line of a revocation list.
type Revocation struct {
	// ID is the revoked pass id.
	ID string
	// At is when it was revoked.
	At time.Time
	// Reason is free text, for the guard reading the event.
	Reason string
}

// ErrRevocationList is returned for an unreadable or malformed list.
var ErrRevocationList = errors.New("credential: revocation list")

// ParseRevocations reads a revocation list: one revoked pass per line,
// "ID<TAB>TIME<TAB>REASON" (TIME RFC 3339, REASON optional); blank lines and
// lines starting with # are ignored.
func ParseRevocations(b []byte) ([]Revocation, error) {
	var out []Revocation
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		r := Revocation{ID: f[0]}
		if err := checkPassID(r.ID); err != nil {
			return nil, fmt.Errorf("%w: line %d: %w", ErrRevocationList, n, err)
		}
		if len(f) > 1 && f[1] != "" {
			t, err := time.Parse(time.RFC3339, f[1])
			if err != nil {
				return nil, fmt.Errorf("%w: line %d: time: %w", ErrRevocationList, n, err)
			}
			r.At = t
		}
		if len(f) > 2 {
			r.Reason = f[2]
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRevocationList, err)
	}
	return out, nil
}

func checkPassID(id string) error {
	if id == "" || len(id) > 64 || strings.ContainsAny(id, " \t\r\n#") {
		return fmt.Errorf("pass id %q must be 1–64 characters without spaces or #", id)
	}
	return nil
}

// FormatRevocations writes a list in the format ParseRevocations reads.
func FormatRevocations(rs []Revocation) []byte {
	var b bytes.Buffer
	b.WriteString("# GateGuard revoked site passes: ID<TAB>revoked at<TAB>reason. Edit with `gateguard pass revoke`.\n")
	for _, r := range rs {
		at := ""
		if !r.At.IsZero() {
			at = r.At.UTC().Format(time.RFC3339)
		}
		reason := strings.NewReplacer("\n", " ", "\r", " ", "\t", " ").Replace(r.Reason)
		fmt.Fprintf(&b, "%s\t%s\t%s\n", r.ID, at, reason)
	}
	return b.Bytes()
}

// WriteFileAtomic replaces name with data: it writes a temporary file in the
// same folder, syncs it, renames it over name and syncs the folder, so a
// reader sees the old file or the new one, never half of one.
func WriteFileAtomic(name string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), name); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return nil // renamed; the folder sync is best effort
	}
	defer d.Close()
	_ = d.Sync()
	return nil
}

// WriteFileNew creates name with data and never replaces an existing file:
// it writes and syncs a temporary file in the same folder, then hard-links it
// to name, which fails if name exists (even one created a moment ago by
// another process), so name appears whole or not at all. On a file system
// without hard links it creates name with O_EXCL instead. An existing name
// gives an error satisfying errors.Is(err, fs.ErrExist).
func WriteFileNew(name string, data []byte, perm fs.FileMode) (err error) {
	dir := filepath.Dir(name)
	f, err := os.CreateTemp(dir, "."+filepath.Base(name)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := writeSync(f, data, perm); err != nil {
		return err
	}
	err = os.Link(tmp, name)
	switch {
	case err == nil:
		syncDir(dir)
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s exists; not overwriting it: %w", name, fs.ErrExist)
	}
	// No hard links here (FAT, some network file systems): create-new.
	f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; not overwriting it: %w", name, fs.ErrExist)
	}
	if err != nil {
		return err
	}
	if err := writeSync(f, data, perm); err != nil {
		os.Remove(name)
		return err
	}
	syncDir(dir)
	return nil
}

// writeSync writes data to f with mode perm, syncs and closes it.
func writeSync(f *os.File, data []byte, perm fs.FileMode) error {
	err := f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir syncs a folder after a rename or link into it, best effort.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Revoke adds a pass id to the list in file name (created if missing),
// atomically. It reports false when the id was already listed.
//
// Concurrent Revoke calls on one list, from any number of processes, all
// land: each holds an exclusive lock on name+".lock" (a file beside the list)
// around its read-modify-write, and reads the list back afterwards to confirm
// the id is in it.
func Revoke(name, id, reason string, at time.Time) (bool, error) {
	if err := checkPassID(id); err != nil {
		return false, fmt.Errorf("%w: %w", ErrRevocationList, err)
	}
	unlock, err := lockFile(name + ".lock")
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrRevocationList, err)
	}
	defer unlock()
	rs, err := readRevocations(name)
	if err != nil {
		return false, err
	}
	if slices.ContainsFunc(rs, func(r Revocation) bool { return r.ID == id }) {
		return false, nil
	}
	rs = append(rs, Revocation{ID: id, At: at, Reason: reason})
	if err := WriteFileAtomic(name, FormatRevocations(rs), 0o644); err != nil {
		return false, fmt.Errorf("%w: write %s: %w", ErrRevocationList, name, err)
	}
	after, err := readRevocations(name)
	if err != nil {
		return false, fmt.Errorf("read back: %w", err)
	}
	if !slices.ContainsFunc(after, func(r Revocation) bool { return r.ID == id }) {
		return false, fmt.Errorf("%w: %s: %s is not in the list after writing it (another writer without the lock?)",
			ErrRevocationList, name, id)
	}
	return true, nil
}

// readRevocations reads the list in file name; a missing file is an empty list.
func readRevocations(name string) ([]Revocation, error) {
	b, err := os.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrRevocationList, err)
	}
	rs, err := ParseRevocations(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return rs, nil
}

// RevocationList is a revocation file as the daemon sees it: Check reloads
// it whenever the file changed (another process replaced it), and Reload
// forces a reload. A list that cannot be read fails closed: Check returns
// the error and the verifier denies.
type RevocationList struct {
	path string

	mu   sync.Mutex // guards the fields below
	st   fs.FileInfo
	ids  map[string]Revocation
	err  error
	gen  int // counts loads, for tests and logs
	seen bool
	had  bool // a file was loaded once: its disappearance fails closed
}

// OpenRevocationList loads the list at path. A missing file is an empty
// list (nothing revoked yet); an unreadable or malformed one is an error. A
// file that disappears after it was loaded is an error too (fail closed):
// deleting the list must not un-revoke every pass; replacing it (even with an
// empty file) is how it changes.
func OpenRevocationList(path string) (*RevocationList, error) {
	r := &RevocationList{path: path}
	if err := r.Reload(); err != nil {
		return nil, err
	}
	return r, nil
}

// Path returns the file's name.
func (r *RevocationList) Path() string { return r.path }

// Reload reads the file again.
func (r *RevocationList) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.load()
}

func (r *RevocationList) load() error {
	st, err := os.Stat(r.path)
	if errors.Is(err, fs.ErrNotExist) && r.had {
		r.st, r.seen = nil, true
		r.gen++
		r.err = fmt.Errorf("%w %s: the file was removed; every pass is refused until it is back (an empty file revokes nothing)",
			ErrRevocationList, r.path)
		return r.err
	}
	if errors.Is(err, fs.ErrNotExist) {
		r.st, r.ids, r.err, r.seen = nil, map[string]Revocation{}, nil, true
		r.gen++
		return nil
	}
	var b []byte
	if err == nil {
		b, err = os.ReadFile(r.path)
	}
	var rs []Revocation
	if err == nil {
		rs, err = ParseRevocations(b)
	}
	r.st, r.seen = st, true
	r.gen++
	if err != nil {
		r.err = fmt.Errorf("%w %s: %w", ErrRevocationList, r.path, err)
		return r.err
	}
	r.ids = make(map[string]Revocation, len(rs))
	for _, x := range rs {
		r.ids[x.ID] = x
	}
	r.err, r.had = nil, true
	return nil
}

// changed reports whether the file differs from the one last loaded.
func (r *RevocationList) changed() bool {
	st, err := os.Stat(r.path)
	switch {
	case !r.seen:
		return true
	case err != nil:
		return r.st != nil || !errors.Is(err, fs.ErrNotExist)
	case r.st == nil:
		return true
	}
	return !os.SameFile(st, r.st) || !st.ModTime().Equal(r.st.ModTime()) || st.Size() != r.st.Size()
}

// Check reports whether id is revoked, and why.
func (r *RevocationList) Check(id string) (revoked bool, reason string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.changed() {
		_ = r.load()
	}
	if r.err != nil {
		return false, "", r.err
	}
	x, ok := r.ids[id]
	if !ok {
		return false, "", nil
	}
	reason = x.Reason
	if reason == "" {
		reason = "no reason given"
	}
	if !x.At.IsZero() {
		reason += " (" + x.At.UTC().Format(time.RFC3339) + ")"
	}
	return true, reason, nil
}

// Len returns the number of revoked ids in the last good load.
func (r *RevocationList) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.ids)
}

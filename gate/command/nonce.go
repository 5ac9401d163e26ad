package command

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// NonceStore keeps the last nonce accepted from each operator.
type NonceStore interface {
	// Last returns the last nonce accepted from op, 0 when none.
	Last(op string) (uint64, error)
	// Commit records n as the last nonce from op; it returns only once the
	// record is durable.
	Commit(op string, n uint64) error
}

// MemoryNonces is a NonceStore that forgets on restart, for tests and for
// gates without a nonce_file (where commands must then also be short-lived).
type MemoryNonces struct {
	mu   sync.Mutex // guards last
	last map[string]uint64
}

// Last implements NonceStore.
func (m *MemoryNonces) Last(op string) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.last[op], nil
}

// Commit implements NonceStore.
func (m *MemoryNonces) Commit(op string, n uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last == nil {
		m.last = map[string]uint64{}
	}
	m.last[op] = n
	return nil
}

// FileNonces is a NonceStore in a small JSON file ({"operator": nonce}),
// rewritten atomically on every commit: a temporary file in the same folder
// is written and fsynced, renamed over the old one, and the folder fsynced,
// so that a power cut leaves either the old or the new file, never a torn one.
type FileNonces struct {
	path string

	mu   sync.Mutex // guards last
	last map[string]uint64
}

// nonceFile is the file's format.
type nonceFile struct {
	V      int               `json:"v"`
	Nonces map[string]uint64 `json:"nonces"`
}

// OpenFileNonces reads the nonce file at path; a missing file is an empty
// store (it is created on the first commit). A file that cannot be read or
// parsed is an error: starting empty would accept replays.
func OpenFileNonces(path string) (*FileNonces, error) {
	f := &FileNonces{path: path, last: map[string]uint64{}}
	data, err := os.ReadFile(path)
	switch {
	case os.IsNotExist(err):
		return f, nil
	case err != nil:
		return nil, fmt.Errorf("command: nonce file: %w", err)
	}
	var nf nonceFile
	if err := strictDecode(data, &nf); err != nil {
		return nil, fmt.Errorf("command: nonce file %s: %w", path, err)
	}
	if nf.V != 1 {
		return nil, fmt.Errorf("command: nonce file %s: version %d, want 1", path, nf.V)
	}
	for k, v := range nf.Nonces {
		f.last[k] = v
	}
	return f, nil
}

// Last implements NonceStore.
func (f *FileNonces) Last(op string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.last[op], nil
}

// Commit implements NonceStore. On error the store is unchanged.
func (f *FileNonces) Commit(op string, n uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	next := make(map[string]uint64, len(f.last)+1)
	for k, v := range f.last {
		next[k] = v
	}
	next[op] = n
	data, err := json.Marshal(nonceFile{V: 1, Nonces: next})
	if err != nil {
		return fmt.Errorf("command: nonce file: %w", err)
	}
	if err := writeAtomic(f.path, data); err != nil {
		return err
	}
	f.last = next
	return nil
}

// writeAtomic replaces path with data: temp file, fsync, rename, fsync dir.
func writeAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("command: nonce file: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("command: nonce file: write: %w", err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("command: nonce file: fsync: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("command: nonce file: close: %w", err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("command: nonce file: rename: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("command: nonce file: open dir: %w", err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("command: nonce file: fsync dir: %w", err)
	}
	return nil
}

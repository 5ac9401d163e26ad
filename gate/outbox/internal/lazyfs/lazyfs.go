// Package lazyfs is a FUSE file system for power-cut tests, after Jepsen's
// LazyFS: it passes a flat directory through to a backing directory but
// keeps every file's writes in memory until the file is fsynced (fsync or
// fdatasync), and PowerCut discards every write not yet fsynced, as a power
// cut discards a disk's page cache. What is in the backing directory after
// a cut is what a real disk would have kept.
//
// Reads see the pending writes (the kernel's page cache stays coherent, so
// bbolt's mmap reads work). Metadata operations (create, link, rename,
// unlink, truncate on open) go to the backing directory at once: this
// simulates a file system that loses file data, not names. Only what the
// outbox tests need is implemented: one flat directory of regular files.
//
// Serve it from another process than the one using the mount: a program
// that reads a file on it through mmap (bbolt does) takes page faults that
// wait for the FUSE server, and if that server is in the same Go process a
// stop-the-world can deadlock the two (seen under -race).
package lazyfs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// FS is a mounted lazy file system.
type FS struct {
	backing string
	mnt     string
	server  *fuse.Server

	mu      sync.Mutex // guards the fields below and every file's state
	cut     bool
	synced  int // fsync calls that reached the backing files
	dropped int // writes discarded by PowerCut
	files   []*file
	unmount sync.Once
}

// ErrUnavailable reports that FUSE cannot be used here (no /dev/fuse, or
// mounting is not permitted).
var ErrUnavailable = errors.New("lazyfs: FUSE unavailable")

// Mount mounts a lazy view of backing (a directory) at mnt (an empty
// directory). Call Unmount when done, also after PowerCut.
func Mount(backing, mnt string) (*FS, error) {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	l := &FS{backing: backing, mnt: mnt}
	root := &dir{fs: l}
	zero := time.Duration(0)
	server, err := fs.Mount(mnt, root, &fs.Options{
		EntryTimeout: &zero, AttrTimeout: &zero, NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{FsName: "lazyfs", Name: "lazyfs", DirectMount: true},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: mount %s: %w", ErrUnavailable, mnt, err)
	}
	l.server = server
	return l, nil
}

// Dir returns the mount point.
func (l *FS) Dir() string { return l.mnt }

// PowerCut discards every write not yet fsynced; from then on every
// operation that would change the disk fails with EIO. Reads still see
// what the process had written (its page cache), so code still running
// does not fault on its mmap: the test, not the file system, stands for
// the process dying.
func (l *FS) PowerCut() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cut = true
	for _, f := range l.files {
		l.dropped += len(f.pending)
		f.pending = nil
	}
}

// Stats returns the fsyncs that reached the backing files and the writes
// PowerCut discarded.
func (l *FS) Stats() (synced, dropped int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.synced, l.dropped
}

// Unmount unmounts the file system and closes the backing files. It is
// idempotent.
func (l *FS) Unmount() error {
	var err error
	l.unmount.Do(func() {
		err = l.server.Unmount()
		l.server.Wait()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, f := range l.files {
			_ = f.backing.Close()
		}
	})
	return err
}

// op is a write or a truncate waiting for an fsync.
type op struct {
	off      int64
	data     []byte
	truncate bool // to off
}

// file is a regular file: its current content (what reads see), the
// backing file, and the operations not yet applied to it.
type file struct {
	fs.Inode
	l       *FS
	backing *os.File
	data    []byte
	pending []op
}

// dir is the one directory.
type dir struct {
	fs.Inode
	fs *FS
}

var (
	_ fs.NodeLookuper  = (*dir)(nil)
	_ fs.NodeCreater   = (*dir)(nil)
	_ fs.NodeUnlinker  = (*dir)(nil)
	_ fs.NodeRenamer   = (*dir)(nil)
	_ fs.NodeLinker    = (*dir)(nil)
	_ fs.NodeFsyncer   = (*dir)(nil)
	_ fs.NodeReaddirer = (*dir)(nil)
	_ fs.NodeOpener    = (*file)(nil)
	_ fs.NodeReader    = (*file)(nil)
	_ fs.NodeWriter    = (*file)(nil)
	_ fs.NodeFsyncer   = (*file)(nil)
	_ fs.NodeGetattrer = (*file)(nil)
	_ fs.NodeSetattrer = (*file)(nil)
)

func (d *dir) path(name string) string { return filepath.Join(d.fs.backing, name) }

// Lookup finds a file, from the backing directory the first time.
func (d *dir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	l := d.fs
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return nil, syscall.EIO
	}
	if ch := d.GetChild(name); ch != nil {
		ch.Operations().(*file).attr(&out.Attr)
		return ch, 0
	}
	bf, err := os.OpenFile(d.path(name), os.O_RDWR, 0)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	data, err := os.ReadFile(d.path(name))
	if err != nil {
		_ = bf.Close()
		return nil, fs.ToErrno(err)
	}
	f := &file{l: l, backing: bf, data: data}
	l.files = append(l.files, f)
	f.attr(&out.Attr)
	return d.NewInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG}), 0
}

// Create creates an empty file in the backing directory.
func (d *dir) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	l := d.fs
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cut {
		return nil, nil, 0, syscall.EIO
	}
	bf, err := os.OpenFile(d.path(name), os.O_RDWR|os.O_CREATE|os.O_EXCL, os.FileMode(mode&0o777))
	if err != nil {
		return nil, nil, 0, fs.ToErrno(err)
	}
	f := &file{l: l, backing: bf}
	l.files = append(l.files, f)
	f.attr(&out.Attr)
	return d.NewInode(ctx, f, fs.StableAttr{Mode: syscall.S_IFREG}), nil, fuse.FOPEN_KEEP_CACHE, 0
}

// Unlink removes a name.
func (d *dir) Unlink(ctx context.Context, name string) syscall.Errno {
	if d.fs.isCut() {
		return syscall.EIO
	}
	return fs.ToErrno(os.Remove(d.path(name)))
}

// Rename renames within the directory.
func (d *dir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if d.fs.isCut() {
		return syscall.EIO
	}
	if flags != 0 {
		return syscall.ENOTSUP
	}
	return fs.ToErrno(os.Rename(d.path(name), d.path(newName)))
}

// Link adds a name for a file.
func (d *dir) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if d.fs.isCut() {
		return nil, syscall.EIO
	}
	f, ok := target.(*file)
	if !ok {
		return nil, syscall.EPERM
	}
	oldName, _ := f.Parent()
	if err := os.Link(d.path(oldName), d.path(name)); err != nil {
		return nil, fs.ToErrno(err)
	}
	d.fs.mu.Lock()
	f.attr(&out.Attr)
	d.fs.mu.Unlock()
	return f.EmbeddedInode(), 0
}

// Fsync on the directory: names are durable at once.
func (d *dir) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	if d.fs.isCut() {
		return syscall.EIO
	}
	return 0
}

// Readdir lists the backing directory.
func (d *dir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	entries, err := os.ReadDir(d.fs.backing)
	if err != nil {
		return nil, fs.ToErrno(err)
	}
	var out []fuse.DirEntry
	for _, e := range entries {
		out = append(out, fuse.DirEntry{Name: e.Name(), Mode: syscall.S_IFREG})
	}
	return fs.NewListDirStream(out), 0
}

func (l *FS) isCut() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cut
}

// attr fills a's size and mode; called with l.mu held.
func (f *file) attr(a *fuse.Attr) {
	a.Mode = syscall.S_IFREG | 0o600
	a.Size = uint64(len(f.data))
	a.Blocks = (a.Size + 511) / 512
	a.Nlink = 1
}

// Open opens the file; O_TRUNC truncates it (pending until fsync).
func (f *file) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.cut {
		return nil, 0, syscall.EIO
	}
	if flags&syscall.O_TRUNC != 0 {
		f.truncate(0)
	}
	return nil, fuse.FOPEN_KEEP_CACHE, 0
}

// Getattr reports the current size.
func (f *file) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	f.attr(&out.Attr)
	return 0
}

// Setattr handles truncation (ftruncate); other changes are ignored.
func (f *file) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.cut {
		return syscall.EIO
	}
	if size, ok := in.GetSize(); ok {
		f.truncate(int64(size))
	}
	f.attr(&out.Attr)
	return 0
}

// truncate sets the size; called with l.mu held.
func (f *file) truncate(size int64) {
	if size <= int64(len(f.data)) {
		f.data = f.data[:size]
	} else {
		f.data = append(f.data, make([]byte, size-int64(len(f.data)))...)
	}
	f.pending = append(f.pending, op{off: size, truncate: true})
}

// Read reads the current content, pending writes included.
func (f *file) Read(ctx context.Context, fh fs.FileHandle, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if off >= int64(len(f.data)) {
		return fuse.ReadResultData(nil), 0
	}
	n := copy(dest, f.data[off:])
	return fuse.ReadResultData(dest[:n]), 0
}

// Write keeps data in memory until the next fsync.
func (f *file) Write(ctx context.Context, fh fs.FileHandle, data []byte, off int64) (uint32, syscall.Errno) {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.cut {
		return 0, syscall.EIO
	}
	if end := off + int64(len(data)); end > int64(len(f.data)) {
		f.data = append(f.data, make([]byte, end-int64(len(f.data)))...)
	}
	copy(f.data[off:], data)
	f.pending = append(f.pending, op{off: off, data: append([]byte(nil), data...)})
	return uint32(len(data)), 0
}

// Fsync (and fdatasync) applies the file's pending operations to the
// backing file, in order, and fsyncs it.
func (f *file) Fsync(ctx context.Context, fh fs.FileHandle, flags uint32) syscall.Errno {
	f.l.mu.Lock()
	defer f.l.mu.Unlock()
	if f.l.cut {
		return syscall.EIO
	}
	for _, o := range f.pending {
		var err error
		if o.truncate {
			err = f.backing.Truncate(o.off)
		} else {
			_, err = f.backing.WriteAt(o.data, o.off)
		}
		if err != nil {
			return fs.ToErrno(err)
		}
	}
	f.pending = nil
	f.l.synced++
	return fs.ToErrno(f.backing.Sync())
}

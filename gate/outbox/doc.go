// Package outbox keeps the gate's events and alerts until the publisher has
// delivered them. The gate records a message before it acts on it; the
// publisher (gate/mqtt) reads the oldest messages, publishes them in order and
// deletes them only after the broker has acknowledged them.
//
// Durable is the outbox of a real gate: a bbolt file in which Record returns
// only once the record is fsynced, sequence numbers continue across restarts,
// a disk budget is enforced (snapshots are evicted first, records never), and
// a damaged file is refused at Open rather than silently replaced. Memory
// keeps messages in memory for tests and for gates configured without an
// outbox path.
//
// In this package a snapshot is always an image: the colourised thermal PNG
// of a fever alert (vision/fusion renders it, the alert carries its SHA-256).
// The outbox is the one place snapshots are kept: PutSnapshot, Snapshot and
// Snapshots on both outboxes; Durable keeps them in its file within
// Opts.MaxBytes and drops them oldest first before any record is refused,
// Memory keeps the last MemorySnapshotBytes. OpenReadOnly reads them from a
// file the daemon is not running on (`gateguard snapshot`).
//
// Why bbolt (go.etcd.io/bbolt) and not SQLite: the outbox is an append-only
// queue keyed by sequence number, read in key order and deleted from the
// front — exactly a B+tree bucket. bbolt is pure Go (no cgo: the package
// cross-compiles for the gate and keeps the gate core free of C), keeps
// everything in one file, and every read-write transaction is copy-on-write
// and fdatasync'ed on commit, so a power cut leaves either the old or the
// new state, never a torn one. SQLite would add a C library (or a large
// transpiled one), a SQL layer and WAL/checkpoint tuning for no feature the
// outbox uses. bbolt's one writer at a time is no limit here: records that
// arrive while a commit is in progress share the next one (group commit).
//
// Why a damaged file stops the daemon instead of being moved aside: its
// unpublished events would otherwise sit undelivered in a file nobody
// watches, and the gate would restart its sequence numbers at 1, which the
// central log would read as duplicates or gaps. Refusing to start is loud;
// the error names the file and says how to start again (move it aside).
// Before bbolt opens a file, precheck walks every page bbolt will read
// (bbolt trusts its file and reports damage found while rebuilding its
// freelist by panicking in a goroutine of its own, which kills the process),
// and Open refuses unknown bucket names; a new file is created under a
// temporary name and linked into place, so an empty outbox file is damage
// too and is refused.
package outbox

package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate/central/migrate"
	"github.com/gateguard/gateguard/gate/central/store"
)

//go:embed migrations
var migrations embed.FS

// Roles, from least to most allowed.
const (
	RoleViewer = "viewer" // reads every page except the admin ones
	RoleGuard  = "guard"  // also acknowledges alerts and sends remote open / set mode
	RoleAdmin  = "admin"  // also overrides, manages users and reads the audit log
)

// Roles lists the roles in order.
var Roles = []string{RoleViewer, RoleGuard, RoleAdmin}

// rank orders roles; an unknown role ranks below viewer.
func rank(role string) int {
	for i, r := range Roles {
		if r == role {
			return i + 1
		}
	}
	return 0
}

// Errors of the user database.
var (
	ErrNoUser     = errors.New("console: no such user")
	ErrUserExists = errors.New("console: user already exists")
	ErrNoSession  = errors.New("console: no such session or it expired")
)

// User is a console account.
type User struct {
	Username string
	Role     string
	Language string
	Created  time.Time
	hash     string
}

// AuditEntry is one recorded operator action.
type AuditEntry struct {
	ID       int64
	Time     time.Time
	Username string
	Action   string // login, login_failed, logout, acknowledge, export, command, user_add …
	Target   string // an alert id, a gate, a user
	Detail   string
	Remote   string // the client address
}

// DB keeps the console's users, sessions and audit log in its own tables
// (console_*) of gatewatch's database, SQLite or PostgreSQL, with its own
// versioned migrations. It is safe for concurrent use.
type DB struct {
	sql      *sql.DB
	numbered bool // PostgreSQL placeholders
}

// OpenDB applies the console's migrations to db. dialect is sqlite or
// postgres.
func OpenDB(ctx context.Context, db *sql.DB, dialect string) (*DB, error) {
	if dialect != "sqlite" && dialect != "postgres" {
		return nil, fmt.Errorf("console: db: unknown dialect %q", dialect)
	}
	d := &DB{sql: db, numbered: dialect == "postgres"}
	sub, err := fs.Sub(migrations, "migrations/"+dialect)
	if err != nil {
		return nil, fmt.Errorf("console: db: %w", err)
	}
	if err := migrate.Apply(ctx, d.sql, sub, "console_migrations", d.numbered); err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return d, nil
}

func (d *DB) q(s string) string {
	if !d.numbered {
		return s
	}
	return migrate.Numbered(s)
}

// ValidUsername reports whether name can be a console user name.
func ValidUsername(name string) bool {
	if len(name) < 1 || len(name) > 32 {
		return false
	}
	for _, r := range name {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// AddUser creates a user; ErrUserExists when the name is taken.
func (d *DB) AddUser(ctx context.Context, username, password, role, language string) error {
	if !ValidUsername(username) {
		return fmt.Errorf("console: user name %q: 1–32 of a–z A–Z 0–9 . _ -", username)
	}
	if rank(role) == 0 {
		return fmt.Errorf("console: role %q is not one of %s", role, strings.Join(Roles, ", "))
	}
	if _, ok := catalogues[language]; !ok {
		return fmt.Errorf("console: language %q is not one of en, zh", language)
	}
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	var n int
	if err := d.sql.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM console_users WHERE username = ?`), username).Scan(&n); err != nil {
		return fmt.Errorf("console: add user: %w", err)
	}
	if n > 0 {
		return fmt.Errorf("%w: %s", ErrUserExists, username)
	}
	if _, err := d.sql.ExecContext(ctx, d.q(`INSERT INTO console_users(username, hash, role, language, created_us) VALUES (?, ?, ?, ?, ?)`),
		username, h, role, language, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("console: add user %s: %w", username, err)
	}
	return nil
}

// SetPassword replaces a user's password and ends their sessions.
func (d *DB) SetPassword(ctx context.Context, username, password string) error {
	h, err := HashPassword(password)
	if err != nil {
		return err
	}
	return d.update(ctx, username, `UPDATE console_users SET hash = ? WHERE username = ?`, h, username)
}

// SetLanguage changes a user's language.
func (d *DB) SetLanguage(ctx context.Context, username, language string) error {
	if _, ok := catalogues[language]; !ok {
		return fmt.Errorf("console: language %q is not one of en, zh", language)
	}
	return d.update(ctx, username, `UPDATE console_users SET language = ? WHERE username = ?`, language, username)
}

func (d *DB) update(ctx context.Context, username, q string, args ...any) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("console: user %s: %w", username, err)
	}
	defer func() { _ = tx.Rollback() }()
	r, err := tx.ExecContext(ctx, d.q(q), args...)
	if err != nil {
		return fmt.Errorf("console: user %s: %w", username, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, username)
	}
	if strings.Contains(q, "hash") {
		if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM console_sessions WHERE username = ?`), username); err != nil {
			return fmt.Errorf("console: user %s: sessions: %w", username, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("console: user %s: %w", username, err)
	}
	return nil
}

// RemoveUser deletes a user and their sessions.
func (d *DB) RemoveUser(ctx context.Context, username string) error {
	tx, err := d.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("console: remove %s: %w", username, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, d.q(`DELETE FROM console_sessions WHERE username = ?`), username); err != nil {
		return fmt.Errorf("console: remove %s: %w", username, err)
	}
	r, err := tx.ExecContext(ctx, d.q(`DELETE FROM console_users WHERE username = ?`), username)
	if err != nil {
		return fmt.Errorf("console: remove %s: %w", username, err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", ErrNoUser, username)
	}
	return tx.Commit()
}

// GetUser returns a user; ErrNoUser when there is none.
func (d *DB) GetUser(ctx context.Context, username string) (User, error) {
	var u User
	var created int64
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT username, hash, role, language, created_us FROM console_users WHERE username = ?`), username).
		Scan(&u.Username, &u.hash, &u.Role, &u.Language, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("%w: %s", ErrNoUser, username)
	}
	if err != nil {
		return User{}, fmt.Errorf("console: user %s: %w", username, err)
	}
	u.Created = time.UnixMicro(created)
	return u, nil
}

// Users lists every user by name.
func (d *DB) Users(ctx context.Context) ([]User, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT username, role, language, created_us FROM console_users ORDER BY username`)
	if err != nil {
		return nil, fmt.Errorf("console: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		var created int64
		if err := rows.Scan(&u.Username, &u.Role, &u.Language, &created); err != nil {
			return nil, fmt.Errorf("console: users: %w", err)
		}
		u.Created = time.UnixMicro(created)
		out = append(out, u)
	}
	return out, rows.Err()
}

// Authenticate checks a password. Unknown users cost the same hashing
// time as known ones.
func (d *DB) Authenticate(ctx context.Context, username, password string) (User, error) {
	u, err := d.GetUser(ctx, username)
	if err != nil {
		if errors.Is(err, ErrNoUser) {
			_ = CheckPassword(dummyHash, password)
		}
		return User{}, err
	}
	if err := CheckPassword(u.hash, password); err != nil {
		return User{}, err
	}
	return u, nil
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewSession starts a session for username until now+ttl and returns its
// token (only its hash is stored).
func (d *DB) NewSession(ctx context.Context, username string, now time.Time, ttl time.Duration) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("console: session: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	if _, err := d.sql.ExecContext(ctx, d.q(`INSERT INTO console_sessions(token_hash, username, created_us, expires_us) VALUES (?, ?, ?, ?)`),
		tokenHash(tok), username, now.UnixMicro(), now.Add(ttl).UnixMicro()); err != nil {
		return "", fmt.Errorf("console: session: %w", err)
	}
	return tok, nil
}

// Session returns the user of a live session; ErrNoSession when the token
// is unknown or expired at now.
func (d *DB) Session(ctx context.Context, token string, now time.Time) (User, error) {
	var name string
	err := d.sql.QueryRowContext(ctx, d.q(`SELECT username FROM console_sessions WHERE token_hash = ? AND expires_us > ?`),
		tokenHash(token), now.UnixMicro()).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, ErrNoSession
	}
	if err != nil {
		return User{}, fmt.Errorf("console: session: %w", err)
	}
	u, err := d.GetUser(ctx, name)
	if errors.Is(err, ErrNoUser) {
		return User{}, ErrNoSession
	}
	return u, err
}

// EndSession deletes a session (logout).
func (d *DB) EndSession(ctx context.Context, token string) error {
	if _, err := d.sql.ExecContext(ctx, d.q(`DELETE FROM console_sessions WHERE token_hash = ?`), tokenHash(token)); err != nil {
		return fmt.Errorf("console: end session: %w", err)
	}
	return nil
}

// PruneSessions deletes the sessions expired at now.
func (d *DB) PruneSessions(ctx context.Context, now time.Time) error {
	if _, err := d.sql.ExecContext(ctx, d.q(`DELETE FROM console_sessions WHERE expires_us <= ?`), now.UnixMicro()); err != nil {
		return fmt.Errorf("console: prune sessions: %w", err)
	}
	return nil
}

// Audit records an operator action.
func (d *DB) Audit(ctx context.Context, e AuditEntry) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	if _, err := d.sql.ExecContext(ctx, d.q(`INSERT INTO console_audit(time_us, username, action, target, detail, remote) VALUES (?, ?, ?, ?, ?, ?)`),
		e.Time.UnixMicro(), e.Username, e.Action, e.Target, e.Detail, e.Remote); err != nil {
		return fmt.Errorf("console: audit %s: %w", e.Action, err)
	}
	return nil
}

// AuditLog returns the newest entries, at most limit, before id (0: from
// the newest).
func (d *DB) AuditLog(ctx context.Context, before int64, limit int) ([]AuditEntry, error) {
	if before <= 0 {
		before = 1 << 62
	}
	rows, err := d.sql.QueryContext(ctx, d.q(`SELECT id, time_us, username, action, target, detail, remote FROM console_audit
		WHERE id < ? ORDER BY id DESC LIMIT ?`), before, limit)
	if err != nil {
		return nil, fmt.Errorf("console: audit log: %w", err)
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var t int64
		if err := rows.Scan(&e.ID, &t, &e.Username, &e.Action, &e.Target, &e.Detail, &e.Remote); err != nil {
			return nil, fmt.Errorf("console: audit log: %w", err)
		}
		e.Time = time.UnixMicro(t)
		out = append(out, e)
	}
	return out, rows.Err()
}

// People reads the roster the store keeps (its people table, filled by
// `gatewatch roster import` and the API), by department then id. The
// store's interface has no listing; this reads the same database.
func (d *DB) People(ctx context.Context) ([]store.Person, error) {
	rows, err := d.sql.QueryContext(ctx, `SELECT id, name, department FROM people ORDER BY department, id`)
	if err != nil {
		return nil, fmt.Errorf("console: roster: %w", err)
	}
	defer rows.Close()
	var out []store.Person
	for rows.Next() {
		var p store.Person
		if err := rows.Scan(&p.ID, &p.Name, &p.Department); err != nil {
			return nil, fmt.Errorf("console: roster: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// EventAck is the acknowledgement of a live item derived from an event.
type EventAck struct {
	By, Note string
	At       time.Time
}

// AckEvent records that username acknowledged the item of event id; a
// second acknowledgement keeps the first.
func (d *DB) AckEvent(ctx context.Context, eventID, username, note string, at time.Time) error {
	if _, err := d.sql.ExecContext(ctx, d.q(`INSERT INTO console_event_acks(event_id, username, note, at_us) VALUES (?, ?, ?, ?)
		ON CONFLICT (event_id) DO NOTHING`), eventID, username, note, at.UnixMicro()); err != nil {
		return fmt.Errorf("console: acknowledge event %s: %w", eventID, err)
	}
	return nil
}

// EventAcks returns the acknowledgements of the given events.
func (d *DB) EventAcks(ctx context.Context, ids []string) (map[string]EventAck, error) {
	out := map[string]EventAck{}
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT event_id, username, note, at_us FROM console_event_acks WHERE event_id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := d.sql.QueryContext(ctx, d.q(q), args...)
	if err != nil {
		return nil, fmt.Errorf("console: event acknowledgements: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var a EventAck
		var at int64
		if err := rows.Scan(&id, &a.By, &a.Note, &at); err != nil {
			return nil, fmt.Errorf("console: event acknowledgements: %w", err)
		}
		a.At = time.UnixMicro(at)
		out[id] = a
	}
	return out, rows.Err()
}

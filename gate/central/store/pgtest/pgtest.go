// Package pgtest runs a throwaway PostgreSQL server for tests, soaks and
// benchmarks: Debian's postgresql (installed by `make deps`), initialised in
// a temporary folder and listening on a free loopback port. PostgreSQL
// refuses to run as root, so as root the server runs as the postgres user
// (runuser) on a folder given to it. Tests fail, never skip, when the
// server is not installed.
package pgtest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// Server is a running PostgreSQL.
type Server struct {
	// DSN connects to its postgres database as the postgres superuser.
	DSN string
	// Port is its loopback TCP port.
	Port int
	// Dir holds the data folder (data/), the socket and the log (postgres.log).
	Dir string

	bin    string
	asUser string // "postgres" when started as root, else ""
	extra  string // server settings from Options
	dbs    atomic.Int64
}

// Options tunes a server.
type Options struct {
	// Durable keeps fsync and synchronous_commit on, so a crashed server
	// (Down) comes back with every commit it acknowledged. Without it the
	// server runs with both off: faster, and fine for data that is never
	// crashed.
	Durable bool
	// Settings are extra -c name=value server settings.
	Settings map[string]string
}

// BinDir returns the newest installed /usr/lib/postgresql/N/bin.
func BinDir() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi < vj
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "initdb")); err == nil {
			return dirs[i], nil
		}
	}
	return "", fmt.Errorf("pgtest: no PostgreSQL under /usr/lib/postgresql: run `make deps`")
}

// Start starts a server for one test and stops it (deleting its data) when
// the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartWith is Start with options: Durable for a test that crashes the
// server and expects its committed data back.
func StartWith(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := StartDir("", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// StartDir initialises and starts a server in dir (a new temporary folder
// when dir is empty). Stop stops it and deletes the folder. As root, every
// folder above dir must be searchable by the postgres user.
func StartDir(dir string, o Options) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "pgtest-"); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		s.asUser = "postgres"
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user (installed with postgresql): %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, fmt.Errorf("pgtest: %w", err)
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	if s.Port, err = freePort(); err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return nil, fmt.Errorf("pgtest: initdb: %w\n%s", err, out)
	}
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", s.Port, dir)
	if !o.Durable {
		s.extra += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	}
	for k, v := range o.Settings {
		s.extra += fmt.Sprintf(" -c %s=%s", k, v)
	}
	opts += s.extra
	if out, err := s.run("pg_ctl", "-D", data, "-l", filepath.Join(dir, "postgres.log"), "-o", opts, "-w", "-t", "60", "start"); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		return nil, fmt.Errorf("pgtest: pg_ctl start: %w\n%s\n%s", err, out, log)
	}
	s.DSN = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.Port)
	return s, nil
}

func (s *Server) run(tool string, args ...string) ([]byte, error) {
	path := filepath.Join(s.bin, tool)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = s.Dir
	return cmd.CombinedOutput()
}

// Down stops the server (immediate shutdown, as a crash), keeping its data
// for Up: the database going away under a client.
func (s *Server) Down() error {
	if out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "immediate", "-w", "stop"); err != nil {
		return fmt.Errorf("pgtest: down: %w\n%s", err, out)
	}
	return nil
}

// Up starts a server stopped by Down again, on the same port.
func (s *Server) Up() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c max_connections=200", s.Port, s.Dir)
	if out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-l", filepath.Join(s.Dir, "postgres.log"), "-o", opts+s.extra, "-w", "-t", "60", "start"); err != nil {
		return fmt.Errorf("pgtest: up: %w\n%s", err, out)
	}
	return nil
}

// Stop stops the server (fast shutdown) and deletes its folder.
func (s *Server) Stop() error {
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.Dir, "data"), "-m", "fast", "-w", "stop")
	if rmErr := os.RemoveAll(s.Dir); err == nil && rmErr != nil {
		err = rmErr
	}
	if err != nil {
		return fmt.Errorf("pgtest: stop: %w\n%s", err, out)
	}
	return nil
}

// CreateDB creates a new empty database and returns its DSN.
func (s *Server) CreateDB(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", s.dbs.Add(1))
	db, err := sql.Open("pgx", s.DSN)
	if err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.Port, name), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

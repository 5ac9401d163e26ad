// Package api is gatewatch's HTTP API: JSON for the console and for
// scripts, over a store.Store. Every request needs the bearer token from
// the config ("Authorization: Bearer <token>", compared in constant time);
// there is no anonymous access.
//
//	GET  /api/health                 store and ingest health (503 while the store fails)
//	GET  /api/events                 ?from&to (RFC 3339) &site&gate&person&decision&reason&kind&limit&cursor
//	GET  /api/events.csv             the same filter, every matching event, streamed
//	GET  /api/alerts                 ?status=open|acknowledged|ended &type&site&gate&limit
//	POST /api/alerts/{id}/ack        {"by": "...", "note": "..."}
//	GET  /api/gates                  gate table with sequence gaps and duplicates
//	GET  /api/snapshots/{hash}       the image (image/png)
//	GET  /api/headcount              ?date=YYYY-MM-DD (today by default): people admitted per department
//	POST /api/people                 CSV roster (id,name,department with a header): inserted or replaced
//	GET  /api/quarantine             ?limit: the newest quarantined messages
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
)

// Health is what /api/health reports besides the store's ping.
type Health interface {
	// Healthy reports whether the ingest can commit, and its details.
	Healthy() (ok bool, details any)
}

// HealthFunc adapts a function to Health.
type HealthFunc func() (bool, any)

// Healthy implements Health.
func (f HealthFunc) Healthy() (bool, any) { return f() }

// Options configures the handler.
type Options struct {
	Store store.Store
	// Token is the bearer token; New refuses an empty one.
	Token string
	// Health is the ingest's health; nil reports the store only.
	Health Health
	// Location is the local time zone of "today" for headcounts (UTC if nil).
	Location *time.Location
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives request errors; nil discards.
	Log *slog.Logger
	// MaxRosterBytes caps a roster upload (1 MiB by default).
	MaxRosterBytes int64
}

// ErrNoToken is returned by New without a token: the API is never anonymous.
var ErrNoToken = errors.New("api: no bearer token configured")

type server struct {
	o     Options
	token [32]byte
	log   *slog.Logger
}

// New returns the API's handler.
func New(o Options) (http.Handler, error) {
	if o.Token == "" {
		return nil, ErrNoToken
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxRosterBytes <= 0 {
		o.MaxRosterBytes = 1 << 20
	}
	s := &server{o: o, token: sha256.Sum256([]byte(o.Token)), log: o.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", s.health)
	mux.HandleFunc("GET /api/events", s.events)
	mux.HandleFunc("GET /api/events.csv", s.eventsCSV)
	mux.HandleFunc("GET /api/alerts", s.alerts)
	mux.HandleFunc("POST /api/alerts/{id}/ack", s.ack)
	mux.HandleFunc("GET /api/gates", s.gates)
	mux.HandleFunc("GET /api/snapshots/{hash}", s.snapshot)
	mux.HandleFunc("GET /api/headcount", s.headcount)
	mux.HandleFunc("POST /api/people", s.people)
	mux.HandleFunc("GET /api/quarantine", s.quarantine)
	return s.auth(mux), nil
}

// auth refuses every request without the bearer token. Both sides are
// hashed first, so the comparison takes the same time whatever the length.
func (s *server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		got := sha256.Sum256([]byte(tok))
		if !ok || subtle.ConstantTimeCompare(got[:], s.token[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="gatewatch"`)
			writeError(w, http.StatusUnauthorized, "a valid bearer token is required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// fail answers a store error: 404 for ErrNotFound, 400 for a bad cursor,
// 503 otherwise (the database is down; the client may retry).
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrBadCursor):
		writeError(w, http.StatusBadRequest, "cursor: not one this API issued")
	default:
		s.log.Error("api: store error", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusServiceUnavailable, "store unavailable: "+err.Error())
	}
}

func (s *server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	out := map[string]any{"store_ok": true}
	ok := true
	if err := s.o.Store.Ping(ctx); err != nil {
		ok = false
		out["store_ok"], out["store_error"] = false, err.Error()
	}
	if s.o.Health != nil {
		iok, details := s.o.Health.Healthy()
		out["ingest"] = details
		ok = ok && iok
	}
	out["ok"] = ok
	status := http.StatusOK
	if !ok {
		status = http.StatusServiceUnavailable
	}
	writeJSON(w, status, out)
}

// filter parses the event filter of a query, naming a bad parameter.
func filter(r *http.Request) (store.EventFilter, error) {
	q := r.URL.Query()
	var f store.EventFilter
	for _, p := range []struct {
		name string
		t    *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := q.Get(p.name); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return f, fmt.Errorf("%s: %q is not an RFC 3339 time", p.name, v)
			}
			*p.t = t
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return f, fmt.Errorf("to: must be after from")
	}
	f.Site, f.Gate, f.Person = q.Get("site"), q.Get("gate"), q.Get("person")
	f.Decision, f.Reason, f.Kind, f.Cursor = q.Get("decision"), q.Get("reason"), q.Get("kind"), q.Get("cursor")
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return f, fmt.Errorf("limit: %q is not 1–1000", v)
		}
		f.Limit = n
	}
	for k := range q {
		switch k {
		case "from", "to", "site", "gate", "person", "decision", "reason", "kind", "cursor", "limit":
		default:
			return f, fmt.Errorf("%s: unknown parameter", k)
		}
	}
	return f, nil
}

func (s *server) events(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows, next, err := s.o.Store.Events(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": rows, "next": next})
}

// csvSafe keeps a spreadsheet from reading a value as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func (s *server) eventsCSV(w http.ResponseWriter, r *http.Request) {
	f, err := filter(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if f.Cursor != "" || f.Limit != 0 {
		writeError(w, http.StatusBadRequest, "cursor, limit: the export has every matching event")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="events.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "site", "gate", "seq", "kind", "decision", "reasons", "holder", "id", "received"})
	n := 0
	err = s.o.Store.EachEvent(r.Context(), f, func(e store.EventRow) error {
		if err := cw.Write([]string{e.Time.Format(time.RFC3339Nano), csvSafe(e.Site), csvSafe(e.Gate), strconv.FormatUint(e.Seq, 10),
			e.Kind, e.Decision, strings.Join(e.Reasons, ";"), csvSafe(e.Holder), e.ID, e.Received.Format(time.RFC3339Nano)}); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			cw.Flush()
			return cw.Error()
		}
		return nil
	})
	cw.Flush()
	if err != nil {
		// The header is sent: a truncated export must not look complete.
		s.log.Error("api: csv export cut short", "err", err, "rows", n)
		panic(http.ErrAbortHandler)
	}
}

func (s *server) alerts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := store.AlertFilter{Status: q.Get("status"), Type: q.Get("type"), Site: q.Get("site"), Gate: q.Get("gate")}
	switch f.Status {
	case store.StatusOpen, store.StatusAcknowledged, store.StatusEnded, store.StatusAll:
	default:
		writeError(w, http.StatusBadRequest, fmt.Sprintf("status: %q is not open, acknowledged or ended", f.Status))
		return
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not 1–1000", v))
			return
		}
		f.Limit = n
	}
	rows, err := s.o.Store.Alerts(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": rows})
}

func (s *server) ack(w http.ResponseWriter, r *http.Request) {
	var body struct {
		By   string `json:"by"`
		Note string `json:"note"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	if strings.TrimSpace(body.By) == "" {
		writeError(w, http.StatusBadRequest, "by: who acknowledges is required")
		return
	}
	if err := s.o.Store.Ack(r.Context(), r.PathValue("id"), body.By, body.Note, s.o.Now().UTC()); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"acknowledged": r.PathValue("id")})
}

func (s *server) gates(w http.ResponseWriter, r *http.Request) {
	rows, err := s.o.Store.Gates(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rows == nil {
		rows = []store.GateRow{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"gates": rows})
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

func (s *server) snapshot(w http.ResponseWriter, r *http.Request) {
	h := r.PathValue("hash")
	if !hashRE.MatchString(h) {
		writeError(w, http.StatusBadRequest, "hash: not a SHA-256 in lower-case hex")
		return
	}
	data, ct, err := s.o.Store.Snapshot(r.Context(), h)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=86400, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(data)
}

func (s *server) headcount(w http.ResponseWriter, r *http.Request) {
	now := s.o.Now().In(s.o.Location)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, s.o.Location)
	if v := r.URL.Query().Get("date"); v != "" {
		d, err := time.ParseInLocation(time.DateOnly, v, s.o.Location)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("date: %q is not YYYY-MM-DD", v))
			return
		}
		day = d
	}
	rows, err := s.o.Store.Headcount(r.Context(), day, day.AddDate(0, 0, 1))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	total := 0
	for _, d := range rows {
		total += d.People
	}
	writeJSON(w, http.StatusOK, map[string]any{"date": day.Format(time.DateOnly), "departments": rows, "total": total})
}

// ParseRoster reads a roster CSV: a header naming id, name and department
// (any order, other columns ignored), then one person a line.
func ParseRoster(rd io.Reader) ([]store.Person, error) {
	cr := csv.NewReader(rd)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("roster: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, k := range []string{"id", "name", "department"} {
		if _, ok := col[k]; !ok {
			return nil, fmt.Errorf("roster: header has no %q column", k)
		}
	}
	var out []store.Person
	seen := map[string]int{}
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("roster: %w", err)
		}
		get := func(k string) string {
			if i := col[k]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		p := store.Person{ID: get("id"), Name: get("name"), Department: get("department")}
		if p.ID == "" {
			return nil, fmt.Errorf("roster: line %d: id is empty", line)
		}
		if prev, dup := seen[p.ID]; dup {
			return nil, fmt.Errorf("roster: line %d: id %q already on line %d", line, p.ID, prev)
		}
		seen[p.ID] = line
		out = append(out, p)
	}
}

func (s *server) people(w http.ResponseWriter, r *http.Request) {
	people, err := ParseRoster(http.MaxBytesReader(w, r.Body, s.o.MaxRosterBytes))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	n, err := s.o.Store.ImportPeople(r.Context(), people)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]int{"imported": n})
}

func (s *server) quarantine(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("limit: %q is not 1–1000", v))
			return
		}
		limit = n
	}
	rows, err := s.o.Store.Quarantined(r.Context(), limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"quarantined": rows})
}

package console

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
)

// logQuery is the log page's filter as the form carries it.
type logQuery struct {
	From, To                             string // datetime-local, in the console's zone
	Gate, Person, Decision, Reason, Kind string
	Cursor                               string
}

func (c *Console) parseLogQuery(q url.Values) (logQuery, store.EventFilter, error) {
	lq := logQuery{From: q.Get("from"), To: q.Get("to"), Gate: q.Get("gate"), Person: strings.TrimSpace(q.Get("person")),
		Decision: q.Get("decision"), Reason: q.Get("reason"), Kind: q.Get("kind"), Cursor: q.Get("cursor")}
	f := store.EventFilter{Gate: lq.Gate, Person: lq.Person, Decision: lq.Decision, Reason: lq.Reason, Kind: lq.Kind,
		Cursor: lq.Cursor, Limit: 50}
	var err error
	if f.From, err = c.parseLocal(lq.From); err != nil {
		return lq, f, fmt.Errorf("from: %w", err)
	}
	if f.To, err = c.parseLocal(lq.To); err != nil {
		return lq, f, fmt.Errorf("to: %w", err)
	}
	return lq, f, nil
}

func (c *Console) parseLocal(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, c.o.Location); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date and time (YYYY-MM-DDTHH:MM)", s)
}

// Encode returns the filter as a query string, without the cursor unless
// withCursor is set.
func (lq logQuery) Encode(cursor string) string {
	v := url.Values{}
	for k, s := range map[string]string{"from": lq.From, "to": lq.To, "gate": lq.Gate, "person": lq.Person,
		"decision": lq.Decision, "reason": lq.Reason, "kind": lq.Kind, "cursor": cursor} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

type eventView struct {
	store.EventRow
	Name        string
	Temperature string
	Operator    string
	// OperatorReason is the reason signed into the command behind a
	// remote_open or mode_change (the event's operator_reason).
	OperatorReason string
}

type logData struct {
	Q         logQuery
	Rows      []eventView
	Next      string
	Gates     []string
	Decisions []string
	Kinds     []string
	Reasons   []string
	CSV       string
	NextQuery string
}

var (
	decisions = []string{"admitted", "denied", "passed", "not_passed", "unauthorised", "opened", "reset"}
	kinds     = []string{gate.KindEntry, gate.KindExitButton, gate.KindPassage, gate.KindFireAlarm, gate.KindModeChange, gate.KindRemoteOpen}
	reasons   = []string{"no_credential", "credential_rejected", "no_face", "face_mismatch", "fever", "spoof_suspected",
		"passback", "fire_alarm", "remote_open", "override"}
)

func eventDetails(e store.EventRow, names map[string]string) eventView {
	v := eventView{EventRow: e, Name: names[e.Holder]}
	var ev gate.Event
	if json.Unmarshal(e.Payload, &ev) == nil {
		if ev.Reading != nil && ev.Reading.CoreC > 0 {
			v.Temperature = strconv.FormatFloat(ev.Reading.CoreC, 'f', 1, 64)
		}
		v.Operator, v.OperatorReason = ev.Operator, ev.OperatorReason
		if ev.Request != "" {
			v.Operator = strings.TrimSpace(ev.Operator + " " + ev.Request)
		}
	}
	return v
}

func (c *Console) logPage(w http.ResponseWriter, r *http.Request, u User) {
	lq, f, err := c.parseLogQuery(r.URL.Query())
	p := page{User: u, Nav: "log", Title: T(u.Language, "log.title")}
	d := logData{Q: lq, Decisions: decisions, Kinds: kinds, Reasons: reasons, CSV: "/log.csv?" + lq.Encode("")}
	if gates, gerr := c.o.Store.Gates(r.Context()); gerr == nil {
		for _, g := range gates {
			d.Gates = append(d.Gates, g.Gate)
		}
	}
	if err != nil {
		p.Error = T(u.Language, "error.bad_request", err.Error())
		p.Data = d
		c.render(w, r, http.StatusBadRequest, "log", p)
		return
	}
	rows, next, err := c.o.Store.Events(r.Context(), f)
	if errors.Is(err, store.ErrBadCursor) {
		p.Error = T(u.Language, "error.bad_request", "cursor")
		p.Data = d
		c.render(w, r, http.StatusBadRequest, "log", p)
		return
	}
	if err != nil {
		c.storeError(w, r, u, "log", err)
		return
	}
	names := c.names(r)
	for _, e := range rows {
		d.Rows = append(d.Rows, eventDetails(e, names))
	}
	d.Next = next
	if next != "" {
		d.NextQuery = "/log?" + lq.Encode(next)
	}
	p.Data = d
	c.render(w, r, http.StatusOK, "log", p)
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// logCSV streams every event the filter matches (all pages of it), with
// the columns the page shows.
func (c *Console) logCSV(w http.ResponseWriter, r *http.Request, u User) {
	lq, f, err := c.parseLogQuery(r.URL.Query())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.Cursor, f.Limit = "", 0
	c.audit(r, u.Username, "export", "log", lq.Encode(""))
	names := c.names(r)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="gatewatch-log-`+c.o.Now().In(c.o.Location).Format("20060102-150405")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "site", "gate", "kind", "decision", "reasons", "holder", "name", "temperature_c", "operator", "operator_reason", "seq", "id"})
	n := 0
	err = c.o.Store.EachEvent(r.Context(), f, func(e store.EventRow) error {
		v := eventDetails(e, names)
		n++
		return cw.Write([]string{e.Time.In(c.o.Location).Format(time.RFC3339), csvSafe(e.Site), csvSafe(e.Gate), e.Kind, e.Decision,
			csvSafe(strings.Join(e.Reasons, ";")), csvSafe(e.Holder), csvSafe(v.Name), v.Temperature, csvSafe(v.Operator),
			csvSafe(v.OperatorReason), strconv.FormatUint(e.Seq, 10), e.ID})
	})
	cw.Flush()
	if err != nil {
		// The header is sent: abort the response so the download fails
		// instead of looking complete.
		c.log.Error("console: csv export aborted", "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
}

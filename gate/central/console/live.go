package console

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
)

// alertView is an alert as the live page shows it.
type alertView struct {
	store.AlertRow
	TypeKey string // catalogue key of its type
	Fever   bool
	Reading *gate.Reading
	Name    string // the holder's roster name
	CanAck  bool
	Fresh   bool
	Me      string // the signed-in user, who would acknowledge
	// ShowMessage shows the gate's own (English) message: for faults and
	// types the catalogues do not describe, where it says what broke.
	ShowMessage bool
	// PersonAlert is a type about a person (the row shows "not
	// identified" when the gate named nobody).
	PersonAlert bool
}

// gateProblem is a gate that needs attention: offline, a sequence gap, a
// fire alarm.
type gateProblem struct {
	Key  string
	Args []any
}

type liveData struct {
	Open, Done []alertView
	Problems   []gateProblem
}

func (c *Console) view(a store.AlertRow, u User, names map[string]string) alertView {
	v := alertView{AlertRow: a, CanAck: rank(u.Role) >= rank(RoleGuard), Fever: a.Type == gate.AlertFever, Me: u.Username}
	v.TypeKey = "alert.type." + a.Type
	if !has("en", v.TypeKey) {
		v.TypeKey = ""
	}
	switch a.Type {
	case gate.AlertFever, gate.AlertSpoof, gate.AlertPassback, gate.AlertTailgating, TypeHolderMismatch:
		v.PersonAlert = true
	case gate.AlertFireAlarm:
	default:
		v.ShowMessage = true
	}
	var m gate.Alert
	if json.Unmarshal(a.LastRaw, &m) == nil && m.Reading != nil {
		v.Reading = m.Reading
	}
	if a.Holder != "" {
		v.Name = names[a.Holder]
	}
	return v
}

// sortAlerts puts unacknowledged alerts first, each group newest first.
func sortAlerts(a []store.AlertRow) {
	sort.SliceStable(a, func(i, j int) bool {
		ai, aj := a[i].AckBy == "", a[j].AckBy == ""
		if ai != aj {
			return ai
		}
		return a[i].Last.After(a[j].Last)
	})
}

func (c *Console) names(r *http.Request) map[string]string {
	people, err := c.o.DB.People(r.Context())
	out := make(map[string]string, len(people))
	if err != nil {
		return out
	}
	for _, p := range people {
		out[p.ID] = p.Name
	}
	return out
}

func problems(gates []store.GateRow) []gateProblem {
	var out []gateProblem
	for _, g := range gates {
		if g.FireAlarm {
			out = append(out, gateProblem{Key: "live.gate_fire", Args: []any{g.Gate}})
		}
		if g.Availability == "offline" {
			out = append(out, gateProblem{Key: "live.gate_offline", Args: []any{g.Gate, g.LastSeen}})
		}
		if g.Missing > 0 {
			out = append(out, gateProblem{Key: "live.gate_gap", Args: []any{g.Gate, g.Missing}})
		}
	}
	return out
}

func (c *Console) livePage(w http.ResponseWriter, r *http.Request, u User) {
	alerts, err := c.o.Store.Alerts(r.Context(), store.AlertFilter{Limit: 200})
	if err != nil {
		c.storeError(w, r, u, "live", err)
		return
	}
	derived, err := derivedAlerts(r.Context(), c.o.Store, c.o.DB, c.o.Now(), derivedWindow, 50)
	if err != nil {
		c.storeError(w, r, u, "live", err)
		return
	}
	alerts = append(alerts, derived...)
	gates, err := c.o.Store.Gates(r.Context())
	if err != nil {
		c.storeError(w, r, u, "live", err)
		return
	}
	sortAlerts(alerts)
	names := c.names(r)
	var d liveData
	for _, a := range alerts {
		v := c.view(a, u, names)
		if a.AckBy == "" {
			d.Open = append(d.Open, v)
		} else {
			d.Done = append(d.Done, v)
		}
	}
	d.Problems = c.localise(u.Language, problems(gates))
	c.render(w, r, http.StatusOK, "live", page{User: u, Nav: "live", Title: T(u.Language, "live.title"), Data: d})
}

// localise formats the times in problems for lang.
func (c *Console) localise(lang string, ps []gateProblem) []gateProblem {
	for i := range ps {
		for j, a := range ps[i].Args {
			if t, ok := a.(time.Time); ok {
				if t.IsZero() {
					ps[i].Args[j] = T(lang, "time.never")
				} else {
					ps[i].Args[j] = t.In(c.o.Location).Format("15:04:05")
				}
			}
		}
	}
	return ps
}

// streamSendBuffer caps the kernel's send buffer of a live page's
// connection, so that a page that stops reading is noticed within seconds
// (its writes block, the hub's buffer for it fills, it is dropped) rather
// than after megabytes of autotuned buffering.
const streamSendBuffer = 32 << 10

type connKey struct{}

// ConnContext is for http.Server.ConnContext: it lets the live stream reach
// its connection to cap its send buffer.
func ConnContext(ctx context.Context, c net.Conn) context.Context {
	return context.WithValue(ctx, connKey{}, c)
}

func limitSendBuffer(ctx context.Context) {
	c, _ := ctx.Value(connKey{}).(net.Conn)
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if tcp, ok := c.(*net.TCPConn); ok {
		_ = tcp.SetWriteBuffer(streamSendBuffer)
	}
}

// writeTimeout bounds one write to a live page: a browser that stops
// reading must not hold its handler for ever (the hub never waits on it).
const writeTimeout = 10 * time.Second

// liveStream is the live page's server-sent events: "alert" with an
// item's HTML, "gates" with the problems banner, and "reload" once if the
// page fell behind (then the stream ends; the page reloads itself).
func (c *Console) liveStream(w http.ResponseWriter, r *http.Request, u User) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	limitSendBuffer(r.Context())
	cl := c.hub.subscribe()
	defer c.hub.unsubscribe(cl)
	fmt.Fprint(w, "retry: 2000\n: connected\n\n")
	fl.Flush()
	names := c.names(r)
	keep := time.NewTicker(15 * time.Second)
	defer keep.Stop()
	t := c.pages[u.Language]["live"]
	if t == nil {
		t = c.pages["en"]["live"]
	}
	for {
		select {
		case <-r.Context().Done():
			return
		case <-keep.C:
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			fmt.Fprint(w, ": keep-alive\n\n")
		case up, ok := <-cl.ch:
			if ok && c.hub.isDropped(cl) {
				ok = false // fell behind: skip what is queued, say reload now
			}
			if !ok {
				if c.hub.isDropped(cl) {
					_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
					fmt.Fprint(w, "event: reload\ndata: behind\n\n")
					fl.Flush()
				}
				return
			}
			var b strings.Builder
			var event string
			switch {
			case up.alert != nil:
				v := c.view(*up.alert, u, names)
				v.Fresh = up.fresh
				event = "alert"
				if err := t.ExecuteTemplate(&b, "alert", v); err != nil {
					c.log.Error("console: live render", "err", err)
					return
				}
			default:
				event = "gates"
				if err := t.ExecuteTemplate(&b, "problems", c.localise(u.Language, problems(up.gates))); err != nil {
					c.log.Error("console: live render", "err", err)
					return
				}
			}
			_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout))
			fmt.Fprintf(w, "event: %s\n", event)
			for _, line := range strings.Split(b.String(), "\n") {
				fmt.Fprintf(w, "data: %s\n", line)
			}
			fmt.Fprint(w, "\n")
		}
		fl.Flush()
	}
}

func (c *Console) ack(w http.ResponseWriter, r *http.Request, u User) {
	id := r.PathValue("id")
	note := strings.TrimSpace(r.PostFormValue("note"))
	if len(note) > 1000 {
		note = note[:1000]
	}
	var err error
	if ev, ok := eventItem(id); ok {
		err = c.o.DB.AckEvent(r.Context(), ev, u.Username, note, c.o.Now())
	} else {
		err = c.o.Store.Ack(r.Context(), id, u.Username, note, c.o.Now())
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		http.Error(w, T(u.Language, "error.notfound"), http.StatusNotFound)
		return
	case err != nil:
		c.storeError(w, r, u, "live", err)
		return
	}
	c.audit(r, u.Username, "acknowledge", id, note)
	if r.Header.Get("HX-Request") == "" {
		http.Redirect(w, r, "/live", http.StatusSeeOther)
		return
	}
	alerts, err := c.o.Store.Alerts(r.Context(), store.AlertFilter{Limit: 1000})
	if err != nil {
		c.storeError(w, r, u, "live", err)
		return
	}
	if derived, err := derivedAlerts(r.Context(), c.o.Store, c.o.DB, c.o.Now(), derivedWindow, 200); err == nil {
		alerts = append(alerts, derived...)
	}
	for _, a := range alerts {
		if a.AlertID == id {
			c.fragment(w, u.Language, "live", "alert", c.view(a, u, c.names(r)))
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

func (c *Console) snapshot(w http.ResponseWriter, r *http.Request, u User) {
	data, ct, err := c.o.Store.Snapshot(r.Context(), r.PathValue("hash"))
	if errors.Is(err, store.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		c.storeError(w, r, u, "live", err)
		return
	}
	if ct != "image/png" && ct != "image/jpeg" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	_, _ = w.Write(data)
}

// Package console is the security staff's web console that gatewatch
// serves over its store: live alerts (server-sent events), gates and their
// remote commands, the entry log with CSV export, the headcount against the
// roster with its return-to-work chart and the fire-alarm muster list, the
// roster, and access (users with roles, sessions, the audit log).
//
// Pages are server-rendered html/template with htmx (vendored in assets,
// never from a CDN); every word comes from the message catalogues in
// messages/ (English and Simplified Chinese, chosen per user). There is no
// anonymous page: everything but the login page and the static assets needs
// a session; state-changing requests are checked by net/http's
// CrossOriginProtection. cmd/gatewatch mounts it beside the JSON API.
package console

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
)

// Options configures the console.
type Options struct {
	Store store.Store
	DB    *DB
	// Commander sends remote commands; nil turns them off.
	Commander Commander
	// Lanes maps gate names to entry or exit; unlisted gates are entries.
	Lanes map[string]string
	// SessionTTL is how long a login lasts (12 h if zero).
	SessionTTL time.Duration
	// Secure marks cookies Secure (the console is served over TLS).
	Secure bool
	// Language is the default for pages before login (en if empty).
	Language string
	// Location is the local time zone of "today" (UTC if nil).
	Location *time.Location
	// TrendDays is the span of the return-to-work chart (28 if zero).
	TrendDays int
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives errors; nil discards.
	Log *slog.Logger
	// LivePoll is how often the live page's hub reads the store (250 ms if
	// zero); LiveBuffer how many updates a slow page may fall behind before
	// it is told to reload (64 if zero).
	LivePoll   time.Duration
	LiveBuffer int
	// Enrolment turns on importing and pushing face enrolments on the
	// People page (enrolments.go); zero is off.
	Enrolment EnrolmentOptions
}

// Console is the console's handler and its live hub.
type Console struct {
	o     Options
	log   *slog.Logger
	hub   *Hub
	pages map[string]map[string]*template.Template // lang → page → template
	mux   *http.ServeMux
	h     http.Handler
	limit *limiter

	trendMu sync.Mutex // guards trend
	trend   map[string]map[string]int
}

// New returns the console. Call Run to start its live hub.
func New(o Options) (*Console, error) {
	if o.Store == nil || o.DB == nil {
		return nil, errors.New("console: a Store and a DB are required")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 12 * time.Hour
	}
	if o.Language == "" {
		o.Language = "en"
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.TrendDays <= 0 {
		o.TrendDays = 28
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LivePoll <= 0 {
		o.LivePoll = 250 * time.Millisecond
	}
	if o.LiveBuffer <= 0 {
		o.LiveBuffer = 64
	}
	if o.Enrolment.Model != "" && o.Enrolment.Dim <= 0 {
		o.Enrolment.Dim = 128
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Console{o: o, log: log, hub: newHub(o.Store, o.DB, o.LivePoll, o.LiveBuffer, log), limit: newLimiter(o.Now),
		trend: map[string]map[string]int{}}
	var err error
	if c.pages, err = parsePages(o.Location); err != nil {
		return nil, err
	}
	c.routes()
	return c, nil
}

// Hub returns the live page's hub (its counters are the soak's numbers).
func (c *Console) Hub() *Hub { return c.hub }

// Run runs the live hub and prunes expired sessions until ctx ends.
func (c *Console) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { c.hub.Run(ctx) })
	wg.Go(func() {
		t := time.NewTicker(time.Hour)
		defer t.Stop()
		for {
			if err := c.o.DB.PruneSessions(ctx, c.o.Now()); err != nil && ctx.Err() == nil {
				c.log.Warn("console: prune sessions", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	})
	wg.Wait()
}

// ServeHTTP implements http.Handler.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.h.ServeHTTP(w, r) }

func (c *Console) routes() {
	m := http.NewServeMux()
	m.Handle("GET /assets/", http.StripPrefix("/assets/", assetHandler()))
	m.HandleFunc("GET /login", c.loginPage)
	m.HandleFunc("POST /login", c.login)
	m.HandleFunc("POST /logout", c.need(RoleViewer, c.logout))
	m.HandleFunc("POST /settings/language", c.need(RoleViewer, c.setLanguage))
	m.HandleFunc("GET /{$}", c.need(RoleViewer, func(w http.ResponseWriter, r *http.Request, _ User) {
		http.Redirect(w, r, "/live", http.StatusSeeOther)
	}))
	m.HandleFunc("GET /live", c.need(RoleViewer, c.livePage))
	m.HandleFunc("GET /live/stream", c.need(RoleViewer, c.liveStream))
	m.HandleFunc("POST /alerts/{id}/ack", c.need(RoleGuard, c.ack))
	m.HandleFunc("GET /snapshots/{hash}", c.need(RoleViewer, c.snapshot))
	m.HandleFunc("GET /gates", c.need(RoleViewer, c.gatesPage))
	m.HandleFunc("POST /gates/{site}/{gate}/{cmd}", c.need(RoleGuard, c.command))
	m.HandleFunc("GET /log", c.need(RoleViewer, c.logPage))
	m.HandleFunc("GET /log.csv", c.need(RoleViewer, c.logCSV))
	m.HandleFunc("GET /onsite", c.need(RoleViewer, c.onsitePage))
	m.HandleFunc("GET /onsite/trend.svg", c.need(RoleViewer, c.trendSVG))
	m.HandleFunc("GET /onsite/muster", c.need(RoleViewer, c.musterPage))
	m.HandleFunc("GET /people", c.need(RoleViewer, c.peoplePage))
	m.HandleFunc("POST /people/import", c.need(RoleAdmin, c.importPeople))
	m.HandleFunc("POST /people/enrolments", c.need(RoleAdmin, c.importEnrolments))
	m.HandleFunc("POST /people/push", c.need(RoleAdmin, c.pushEnrolments))
	m.HandleFunc("GET /access", c.need(RoleAdmin, c.accessPage))
	m.HandleFunc("POST /access/users", c.need(RoleAdmin, c.addUser))
	m.HandleFunc("POST /access/users/{name}/remove", c.need(RoleAdmin, c.removeUser))
	c.mux = m
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "cross-origin request refused", http.StatusForbidden)
	}))
	c.h = securityHeaders(cop.Handler(m))
}

// securityHeaders sets headers every page gets: no framing, no sniffing,
// scripts and styles only from the console itself.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'")
		next.ServeHTTP(w, r)
	})
}

// page is what every page template gets.
type page struct {
	Page    string // the template's name
	Lang    string
	User    User
	Nav     string // the current page's nav key
	Title   string
	Flash   string
	Error   string
	CanAct  bool // guard or admin
	IsAdmin bool
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	lang := p.Lang
	if lang == "" {
		lang = p.User.Language
	}
	if _, ok := catalogues[lang]; !ok {
		lang = c.o.Language
	}
	p.Lang = lang
	p.Page = name
	p.CanAct = rank(p.User.Role) >= rank(RoleGuard)
	p.IsAdmin = p.User.Role == RoleAdmin
	t := c.pages[lang][name]
	if t == nil {
		http.Error(w, "console: no template "+name, http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		c.log.Error("console: render", "page", name, "err", err)
		http.Error(w, "console: render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fragment renders one named template of page name (htmx swaps).
func (c *Console) fragment(w http.ResponseWriter, lang, pageName, tmpl string, data any) {
	t := c.pages[lang][pageName]
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, tmpl, data); err != nil {
		c.log.Error("console: render fragment", "template", tmpl, "err", err)
		http.Error(w, "console: render failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(b.String()))
}

func (c *Console) storeError(w http.ResponseWriter, r *http.Request, u User, nav string, err error) {
	c.log.Error("console: store", "path", r.URL.Path, "err", err)
	c.render(w, r, http.StatusServiceUnavailable, "error", page{User: u, Nav: nav, Error: T(u.Language, "error.store")})
}

func (c *Console) audit(r *http.Request, u string, action, target, detail string) {
	if err := c.o.DB.Audit(r.Context(), AuditEntry{Time: c.o.Now(), Username: u, Action: action, Target: target,
		Detail: detail, Remote: remoteAddr(r)}); err != nil {
		c.log.Error("console: audit", "action", action, "err", err)
	}
}

func remoteAddr(r *http.Request) string {
	host := r.RemoteAddr
	if i := strings.LastIndexByte(host, ':'); i > 0 {
		host = host[:i]
	}
	return strings.Trim(host, "[]")
}

func (c *Console) dir(gateName string) string {
	if c.o.Lanes[gateName] == "exit" {
		return "exit"
	}
	return "entry"
}

func (c *Console) exits() []string {
	var out []string
	for g, d := range c.o.Lanes {
		if d == "exit" {
			out = append(out, g)
		}
	}
	return out
}

func fmtErr(err error) string { return fmt.Sprint(err) }

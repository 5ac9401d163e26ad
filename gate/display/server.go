// Package display serves the lane display: a full-screen page for a monitor
// at the lane, shown by a browser in kiosk mode, that follows the lane state
// stream (gate/lane) live over server-sent events. It tells the person at the
// gate what to do and why, in large type, with an icon and text for every
// state (colour is never the only signal), in the site's language (message
// catalogues in messages/, English and Simplified Chinese), with a short
// sound or spoken prompt per state that can be switched off prompt by
// prompt, and without names or temperatures when the site hides them.
//
// It reads the same Stream as the signal tower, so the screen and the lights
// show the same state, derived once from the recorded decision.
package display

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gateguard/gateguard/gate/lane"
)

//go:embed static/*
var static embed.FS

var page = template.Must(template.ParseFS(static, "static/page.html"))

// DefaultAddr is where the display listens unless configured: loopback
// only, for a browser on the gate itself.
const DefaultAddr = "127.0.0.1:8088"

// Options configures a Server.
type Options struct {
	// Language is one of Languages; empty means English.
	Language string
	// Lane names the lane in the page's corner (the gate's name).
	Lane    string
	Privacy Privacy
	Sound   Sound
	// Heartbeat is the interval of the keep-alive comment on the event
	// stream; zero means 15 s.
	Heartbeat time.Duration
	Log       *slog.Logger
}

// Server is the lane display's HTTP server.
type Server struct {
	o      Options
	stream *lane.Stream
	cat    *Catalog
	sounds map[string][]byte
	mux    *http.ServeMux
	// connected is closed when the first page opens its event stream.
	connected chan struct{}
	once      sync.Once
}

// New returns a display server following stream.
func New(stream *lane.Stream, o Options) (*Server, error) {
	if stream == nil {
		return nil, errors.New("display: no lane stream")
	}
	if o.Language == "" {
		o.Language = "en"
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Heartbeat <= 0 {
		o.Heartbeat = 15 * time.Second
	}
	cat, err := LoadCatalog(o.Language)
	if err != nil {
		return nil, err
	}
	s := &Server{o: o, stream: stream, cat: cat, sounds: map[string][]byte{}, mux: http.NewServeMux(),
		connected: make(chan struct{})}
	for name, notes := range toneNotes {
		s.sounds[name] = wav(notes)
	}
	s.mux.HandleFunc("GET /{$}", s.servePage)
	s.mux.HandleFunc("GET /events", s.serveEvents)
	s.mux.HandleFunc("GET /state", s.serveState)
	s.mux.HandleFunc("GET /sounds/{name}", s.serveSound)
	s.mux.Handle("GET /static/", http.FileServerFS(static))
	return s, nil
}

// Handler returns the display's routes.
func (s *Server) Handler() http.Handler { return securityHeaders(s.mux) }

// Run serves on ln until ctx ends; open event streams end with it.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          slog.NewLogLogger(s.o.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.o.Log.Info("lane display listening", "addr", ln.Addr().String(), "language", s.o.Language)
	select {
	case err := <-errc:
		return fmt.Errorf("display: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	<-errc
	if err != nil {
		return fmt.Errorf("display: shutdown: %w", err)
	}
	return nil
}

// Connected is closed once a page has opened its event stream (the
// simulator waits for it before playing a scenario to a browser).
func (s *Server) Connected() <-chan struct{} { return s.connected }

// View returns the view of a lane state as this display shows it.
func (s *Server) View(st lane.State) View { return s.cat.view(st, s.o.Privacy, s.o.Sound) }

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	initial, _ := json.Marshal(s.View(s.stream.Current()))
	data := struct {
		Lang, Lane   string
		Initial      template.JS // json.Marshal escapes <, > and &
		Speech       bool
		OfflineTitle string
	}{s.o.Language, s.o.Lane, template.JS(initial), s.o.Sound.Enabled && s.o.Sound.Speech, s.cat.Text("title.maintenance", "", "")}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := page.Execute(w, data); err != nil {
		s.o.Log.Warn("display page", "err", err)
	}
}

func (s *Server) serveState(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(s.View(s.stream.Current()))
}

func (s *Server) serveSound(w http.ResponseWriter, r *http.Request) {
	b, ok := s.sounds[strings.TrimSuffix(r.PathValue("name"), ".wav")]
	if !ok || !strings.HasSuffix(r.PathValue("name"), ".wav") {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Cache-Control", "max-age=86400")
	_, _ = w.Write(b)
}

// serveEvents streams every lane state as a server-sent event "state"
// whose data is its View, starting with the state on show.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	states, cancel := s.stream.Subscribe()
	defer cancel()
	if _, err := fmt.Fprint(w, "retry: 1000\n\n"); err != nil {
		return
	}
	_ = rc.Flush()
	s.once.Do(func() { close(s.connected) })
	beat := time.NewTicker(s.o.Heartbeat)
	defer beat.Stop()
	for {
		var err error
		select {
		case <-r.Context().Done():
			return
		case <-beat.C:
			_, err = fmt.Fprint(w, ": keep-alive\n\n")
		case st, ok := <-states:
			if !ok {
				return // the stream stopped
			}
			b, _ := json.Marshal(s.View(st))
			_, err = fmt.Fprintf(w, "id: %d\nevent: state\ndata: %s\n\n", st.Seq, b)
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return // the browser went away
		}
	}
}

// securityHeaders keeps the page to its own scripts, styles and sounds.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy",
			"default-src 'self'; img-src 'self' data:; media-src 'self'; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

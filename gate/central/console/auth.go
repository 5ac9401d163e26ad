package console

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// CookieName is the session cookie.
const CookieName = "gatewatch_session"

// Login rate limiting: at most loginBurst failures per client address and
// per user name within loginWindow.
const (
	loginBurst  = 5
	loginWindow = 5 * time.Minute
)

// limiter counts failed logins per key in a sliding window.
type limiter struct {
	now func() time.Time

	mu       sync.Mutex // guards failures
	failures map[string][]time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, failures: map[string][]time.Time{}}
}

func (l *limiter) recent(key string) []time.Time {
	cut := l.now().Add(-loginWindow)
	f := l.failures[key]
	i := 0
	for i < len(f) && !f[i].After(cut) {
		i++
	}
	f = f[i:]
	if len(f) == 0 {
		delete(l.failures, key)
	} else {
		l.failures[key] = f
	}
	return f
}

// blocked reports whether any key has used up its failures.
func (l *limiter) blocked(keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.recent(k)) >= loginBurst {
			return true
		}
	}
	return false
}

func (l *limiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) > 100000 { // bounded memory under a flood
		l.failures = map[string][]time.Time{}
	}
	for _, k := range keys {
		l.failures[k] = append(l.recent(k), l.now())
	}
}

func (l *limiter) reset(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		delete(l.failures, k)
	}
}

// handlerFunc is a handler that runs for a signed-in user.
type handlerFunc func(w http.ResponseWriter, r *http.Request, u User)

// need wraps h: no session sends the browser to the login page (htmx and
// the event stream get 401); a role below min gets 403 and an audit entry.
func (c *Console) need(min string, h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, err := c.user(r)
		if err != nil {
			if r.Header.Get("HX-Request") != "" || r.Method != http.MethodGet || strings.HasSuffix(r.URL.Path, "/stream") {
				w.Header().Set("HX-Redirect", "/login?expired=1")
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			q := url.Values{"next": {r.URL.RequestURI()}}
			if errors.Is(err, ErrNoSession) {
				if _, cerr := r.Cookie(CookieName); cerr == nil {
					q.Set("expired", "1")
				}
			}
			http.Redirect(w, r, "/login?"+q.Encode(), http.StatusSeeOther)
			return
		}
		if rank(u.Role) < rank(min) {
			c.audit(r, u.Username, "denied", r.Method+" "+r.URL.Path, "role "+u.Role+" below "+min)
			c.render(w, r, http.StatusForbidden, "error", page{User: u, Title: T(u.Language, "error.forbidden.title"),
				Error: T(u.Language, "error.forbidden", T(u.Language, "role."+u.Role))})
			return
		}
		h(w, r, u)
	}
}

func (c *Console) user(r *http.Request) (User, error) {
	ck, err := r.Cookie(CookieName)
	if err != nil || ck.Value == "" {
		return User{}, ErrNoSession
	}
	return c.o.DB.Session(r.Context(), ck.Value, c.o.Now())
}

type loginData struct {
	Next     string
	Username string
	Expired  bool
}

func (c *Console) loginLang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); has(l, "app.name") {
		return l
	}
	return c.o.Language
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	d := loginData{Next: safeNext(r.URL.Query().Get("next")), Expired: r.URL.Query().Get("expired") != ""}
	lang := c.loginLang(r)
	p := page{Lang: lang, Nav: "login", Title: T(lang, "login.title"), Data: d}
	if d.Expired {
		p.Flash = T(lang, "login.expired")
	}
	c.render(w, r, http.StatusOK, "login", p)
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/live"
	}
	return next
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	lang := c.loginLang(r)
	name := strings.TrimSpace(r.PostFormValue("username"))
	pass := r.PostFormValue("password")
	next := safeNext(r.PostFormValue("next"))
	keys := []string{"ip:" + remoteAddr(r), "user:" + strings.ToLower(name)}
	p := page{Lang: lang, Nav: "login", Title: T(lang, "login.title"), Data: loginData{Next: next, Username: name}}
	if c.limit.blocked(keys...) {
		c.audit(r, name, "login_failed", name, "rate limited")
		p.Error = T(lang, "login.limited")
		w.Header().Set("Retry-After", "300")
		c.render(w, r, http.StatusTooManyRequests, "login", p)
		return
	}
	u, err := c.o.DB.Authenticate(r.Context(), name, pass)
	if err != nil {
		c.limit.fail(keys...)
		c.audit(r, name, "login_failed", name, "wrong user name or password")
		p.Error = T(lang, "login.failed")
		c.render(w, r, http.StatusUnauthorized, "login", p)
		return
	}
	c.limit.reset(keys[1])
	tok, err := c.o.DB.NewSession(r.Context(), u.Username, c.o.Now(), c.o.SessionTTL)
	if err != nil {
		c.storeError(w, r, u, "login", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", HttpOnly: true, Secure: c.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(c.o.SessionTTL / time.Second),
		Expires: c.o.Now().Add(c.o.SessionTTL)})
	c.audit(r, u.Username, "login", u.Username, "role "+u.Role)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, u User) {
	if ck, err := r.Cookie(CookieName); err == nil {
		_ = c.o.DB.EndSession(r.Context(), ck.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: c.o.Secure,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
	c.audit(r, u.Username, "logout", u.Username, "")
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (c *Console) setLanguage(w http.ResponseWriter, r *http.Request, u User) {
	lang := r.PostFormValue("language")
	if err := c.o.DB.SetLanguage(r.Context(), u.Username, lang); err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Error: T(u.Language, "error.bad_request", err.Error())})
		return
	}
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

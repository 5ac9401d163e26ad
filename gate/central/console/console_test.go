package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/command"
)

// fakeCommander answers every command ok and remembers it.
type fakeCommander struct {
	mu   sync.Mutex
	sent []command.Body
}

func (f *fakeCommander) Send(_ context.Context, site, gateName, name string, args command.Args, id string) (command.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, command.Body{ID: id, Name: name, Site: site, Gate: gateName, Args: args})
	return command.Result{V: 1, ID: id, Name: name, Site: site, Gate: gateName, Status: command.StatusOK, Event: "ev-1"}, nil
}

// clock is a settable clock for session expiry.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type fixture struct {
	t   *testing.T
	st  *sqlite.Store
	db  *DB
	c   *Console
	srv *httptest.Server
	clk *clock
	cmd *fakeCommander
}

const testPassword = "correct horse battery"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := OpenDB(ctx, st.SQL, "sqlite")
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range [][2]string{{"ada", RoleAdmin}, {"gus", RoleGuard}, {"vic", RoleViewer}} {
		if err := db.AddUser(ctx, u[0], testPassword, u[1], "en"); err != nil {
			t.Fatal(err)
		}
	}
	clk := &clock{t: time.Now()}
	fc := &fakeCommander{}
	c, err := New(Options{Store: st, DB: db, Commander: fc, Now: clk.Now, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &fixture{t: t, st: st, db: db, c: c, srv: srv, clk: clk, cmd: fc}
}

// client returns an HTTP client that keeps cookies and does not follow
// redirects (so tests see them).
func (f *fixture) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) login(user, pass string) (*http.Client, *http.Response) {
	f.t.Helper()
	cl := f.client()
	resp, err := cl.PostForm(f.srv.URL+"/login", url.Values{"username": {user}, "password": {pass}})
	if err != nil {
		f.t.Fatal(err)
	}
	resp.Body.Close()
	return cl, resp
}

func (f *fixture) mustLogin(user string) *http.Client {
	f.t.Helper()
	cl, resp := f.login(user, testPassword)
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("login %s: status %d, want 303", user, resp.StatusCode)
	}
	return cl
}

func (f *fixture) audit() []AuditEntry {
	f.t.Helper()
	a, err := f.db.AuditLog(context.Background(), 0, 1000)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) hasAudit(user, action, target string) bool {
	for _, e := range f.audit() {
		if e.Username == user && e.Action == action && (target == "" || e.Target == target) {
			return true
		}
	}
	return false
}

func post(t *testing.T, cl *http.Client, u string, form url.Values, hdr map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func (f *fixture) feverAlert(id string) {
	f.t.Helper()
	now := time.Now().UTC()
	a := gate.Alert{V: 1, ID: id + "-m1", AlertID: id, Seq: 1, Site: "p1", Gate: "lane-1", Time: now, Type: gate.AlertFever,
		State: gate.AlertNew, Severity: "critical", Message: "fever", Holder: "alice", Reading: &gate.Reading{CoreC: 38.4, ThresholdC: 37.5}}
	raw, _ := json.Marshal(a)
	if _, err := f.st.Commit(context.Background(), &store.Batch{Alerts: []store.Alert{{Alert: a, Raw: raw, Received: now}}}); err != nil {
		f.t.Fatal(err)
	}
}

func TestLoginWrongPassword(t *testing.T) {
	f := newFixture(t)
	cl, resp := f.login("gus", "not the password")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.StatusCode)
	}
	u, _ := url.Parse(f.srv.URL)
	if len(cl.Jar.Cookies(u)) != 0 {
		t.Fatal("a wrong password set a cookie")
	}
	if !f.hasAudit("gus", "login_failed", "gus") {
		t.Fatalf("no login_failed audit entry: %+v", f.audit())
	}
	// An unknown user is refused the same way.
	if _, resp := f.login("nobody", testPassword); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unknown user: status %d, want 401", resp.StatusCode)
	}
}

func TestLoginRateLimited(t *testing.T) {
	f := newFixture(t)
	for i := range loginBurst {
		if _, resp := f.login("gus", "wrong password"); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: status %d, want 401", i+1, resp.StatusCode)
		}
	}
	// Now even the right password waits.
	if _, resp := f.login("gus", testPassword); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: status %d, want 429", loginBurst, resp.StatusCode)
	}
	f.clk.Add(loginWindow + time.Second)
	if _, resp := f.login("gus", testPassword); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the window: status %d, want 303", resp.StatusCode)
	}
}

func TestSessionCookie(t *testing.T) {
	f := newFixture(t)
	_, resp := f.login("gus", testPassword)
	var ck *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == CookieName {
			ck = c
		}
	}
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.MaxAge != 3600 {
		t.Fatalf("session cookie %+v: want HttpOnly, SameSite=Strict, Max-Age 3600", ck)
	}
	if ck.Secure {
		t.Fatal("Secure set without TLS")
	}
}

func TestCrossOriginPostRefused(t *testing.T) {
	f := newFixture(t)
	f.feverAlert("al-1")
	cl := f.mustLogin("gus")
	resp := post(t, cl, f.srv.URL+"/alerts/al-1/ack", url.Values{"note": {"x"}},
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin ack: status %d, want 403", resp.StatusCode)
	}
	alerts, _ := f.st.Alerts(context.Background(), store.AlertFilter{})
	if len(alerts) != 1 || alerts[0].AckBy != "" {
		t.Fatalf("a cross-origin POST acknowledged the alert: %+v", alerts)
	}
	// The same request from the console's own page goes through.
	resp = post(t, cl, f.srv.URL+"/alerts/al-1/ack", url.Values{"note": {"checked"}}, map[string]string{"Sec-Fetch-Site": "same-origin"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin ack: status %d, want 303", resp.StatusCode)
	}
}

func TestExpiredSession(t *testing.T) {
	f := newFixture(t)
	cl := f.mustLogin("gus")
	resp, err := cl.Get(f.srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("live page in session: status %d", resp.StatusCode)
	}
	f.clk.Add(time.Hour + time.Second)
	resp, err = cl.Get(f.srv.URL + "/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/login?") || !strings.Contains(loc, "expired=1") {
		t.Fatalf("expired session: status %d Location %q, want 303 to /login?…expired=1", resp.StatusCode, loc)
	}
	// And a state change with the expired session is refused.
	f.feverAlert("al-2")
	if resp := post(t, cl, f.srv.URL+"/alerts/al-2/ack", url.Values{"note": {"x"}}, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("ack with an expired session: status %d, want 401", resp.StatusCode)
	}
}

func TestNoAnonymousPage(t *testing.T) {
	f := newFixture(t)
	cl := f.client()
	for _, p := range []string{"/", "/live", "/live/stream", "/gates", "/log", "/log.csv", "/onsite", "/onsite/trend.svg",
		"/onsite/muster", "/people", "/access", "/snapshots/abc"} {
		resp, err := cl.Get(f.srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without a session: status %d, want 303 or 401", p, resp.StatusCode)
		}
	}
}

func TestGuardRefusedAdminPage(t *testing.T) {
	f := newFixture(t)
	cl := f.mustLogin("gus")
	resp, err := cl.Get(f.srv.URL + "/access")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("guard GET /access: status %d, want 403", resp.StatusCode)
	}
	resp = post(t, cl, f.srv.URL+"/access/users", url.Values{"username": {"mallory"}, "password": {testPassword},
		"role": {RoleAdmin}, "language": {"en"}}, nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("guard adding a user: status %d, want 403", resp.StatusCode)
	}
	if _, err := f.db.GetUser(context.Background(), "mallory"); err == nil {
		t.Fatal("a guard added a user")
	}
	// An override is an admin's: the guard's is refused before any command.
	resp = post(t, cl, f.srv.URL+"/gates/p1/lane-1/open", url.Values{"override": {"1"}, "reason": {"x"}}, nil)
	if resp.StatusCode != http.StatusForbidden || len(f.cmd.sent) != 0 {
		t.Fatalf("guard override: status %d, %d commands sent; want 403 and none", resp.StatusCode, len(f.cmd.sent))
	}
	if !f.hasAudit("gus", "denied", "") {
		t.Fatal("no audit entry for the refused admin actions")
	}
	// A viewer may not open a gate at all.
	vc := f.mustLogin("vic")
	if resp := post(t, vc, f.srv.URL+"/gates/p1/lane-1/open", nil, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer open: status %d, want 403", resp.StatusCode)
	}
}

func TestAuditOfEachAction(t *testing.T) {
	f := newFixture(t)
	f.feverAlert("al-3")
	cl := f.mustLogin("gus")
	if !f.hasAudit("gus", "login", "gus") {
		t.Fatal("no login audit entry")
	}
	post(t, cl, f.srv.URL+"/alerts/al-3/ack", url.Values{"note": {"rechecked 36.8"}}, nil)
	if !f.hasAudit("gus", "acknowledge", "al-3") {
		t.Fatal("no acknowledge audit entry")
	}
	alerts, _ := f.st.Alerts(context.Background(), store.AlertFilter{})
	if alerts[0].AckBy != "gus" || alerts[0].AckNote != "rechecked 36.8" {
		t.Fatalf("ack stored as by=%q note=%q", alerts[0].AckBy, alerts[0].AckNote)
	}
	resp, err := cl.Get(f.srv.URL + "/log.csv?gate=lane-1")
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(resp.Body).ReadAll()
	resp.Body.Close()
	if err != nil || len(rows) != 1 || rows[0][0] != "time" {
		t.Fatalf("csv: %v %v", rows, err)
	}
	if !f.hasAudit("gus", "export", "log") {
		t.Fatal("no export audit entry")
	}
	resp = post(t, cl, f.srv.URL+"/gates/p1/lane-1/open", nil, map[string]string{"HX-Request": "true"})
	if resp.StatusCode != http.StatusOK || len(f.cmd.sent) != 1 {
		t.Fatalf("open: status %d, %d sent", resp.StatusCode, len(f.cmd.sent))
	}
	if id := f.cmd.sent[0].ID; !strings.HasPrefix(id, "gus.") {
		t.Fatalf("command request id %q does not name the guard", id)
	}
	if !f.hasAudit("gus", "command", "p1/lane-1") {
		t.Fatal("no command audit entry")
	}
	post(t, cl, f.srv.URL+"/logout", nil, nil)
	if !f.hasAudit("gus", "logout", "gus") {
		t.Fatal("no logout audit entry")
	}
	// The admin reads them all on the access page.
	ac := f.mustLogin("ada")
	resp, err = ac.Get(f.srv.URL + "/access")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	resp.Body.Close()
	for _, action := range []string{"login", "acknowledge", "export", "command", "logout"} {
		if !strings.Contains(b.String(), `data-action="`+action+`"`) {
			t.Errorf("access page lacks the %s entry", action)
		}
	}
}

func TestOverrideNeedsReason(t *testing.T) {
	f := newFixture(t)
	ac := f.mustLogin("ada")
	if resp := post(t, ac, f.srv.URL+"/gates/p1/lane-1/open", url.Values{"override": {"1"}}, nil); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("override without reason: status %d, want 400", resp.StatusCode)
	}
	if resp := post(t, ac, f.srv.URL+"/gates/p1/lane-1/open", url.Values{"override": {"1"}, "reason": {"ambulance"}}, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("override with reason: status %d, want 200", resp.StatusCode)
	}
	if len(f.cmd.sent) != 1 || !f.cmd.sent[0].Args.Override {
		t.Fatalf("sent %+v, want one override", f.cmd.sent)
	}
}

func get(t *testing.T, cl *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := cl.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func TestLanguagePerUser(t *testing.T) {
	f := newFixture(t)
	cl := f.mustLogin("gus")
	if _, body := get(t, cl, f.srv.URL+"/live"); !strings.Contains(body, `lang="en"`) || !strings.Contains(body, T("en", "live.title")) {
		t.Fatal("live page not in English")
	}
	post(t, cl, f.srv.URL+"/settings/language", url.Values{"language": {"zh"}, "next": {"/live"}}, nil)
	_, body := get(t, cl, f.srv.URL+"/live")
	if !strings.Contains(body, `lang="zh-Hans"`) || !strings.Contains(body, T("zh", "live.title")) || strings.Contains(body, T("en", "live.title")) {
		t.Fatal("after choosing zh the live page is not in Chinese")
	}
	// Another user keeps theirs.
	if _, body := get(t, f.mustLogin("ada"), f.srv.URL+"/live"); !strings.Contains(body, `lang="en"`) {
		t.Fatal("one user's language changed another's")
	}
}

func TestRosterImportAndHeadcountLabel(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ac := f.mustLogin("ada")
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("roster", "roster.csv")
	_, _ = fw.Write([]byte("id,name,department\nE1,王伟,装配\nE2,李娜,装配\nE3,张敏,质检\n"))
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/people/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := ac.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !f.hasAudit("ada", "roster_import", "people") {
		t.Fatalf("roster import: status %d", resp.StatusCode)
	}
	now := time.Now().UTC()
	ev := gate.Event{V: 1, ID: "ev-1", Seq: 1, Site: "p1", Gate: "lane-1", Time: now, Kind: gate.KindEntry, Decision: "admitted",
		Reasons: []gate.Reason{}, Holder: "E1", Mode: gate.ModeNormal}
	raw, _ := json.Marshal(ev)
	if _, err := f.st.Commit(ctx, &store.Batch{Events: []store.Event{{Event: ev, Raw: raw, Received: now}}}); err != nil {
		t.Fatal(err)
	}
	// No exit lanes configured: the page says "entered today", not "on site now".
	_, page := get(t, ac, f.srv.URL+"/onsite")
	if !strings.Contains(page, `<h2 id="basis">`+T("en", "onsite.entered")+`</h2>`) || strings.Contains(page, T("en", "onsite.now.explain", "")) {
		t.Fatal("without exit lanes the page must say entered today")
	}
	if !strings.Contains(page, `<tr data-dept="装配"><th scope="row">装配</th><td class="roster">2</td><td class="back">1</td>`) {
		t.Fatalf("headcount row for 装配 wrong:\n%s", page)
	}
	// A guard may not import.
	gc := f.mustLogin("gus")
	req, _ = http.NewRequest(http.MethodPost, f.srv.URL+"/people/import", strings.NewReader(""))
	if resp, _ := gc.Do(req); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("guard import: %d, want 403", resp.StatusCode)
	}
}

// TestHolderMismatchItem: an entry denied for face_mismatch (the gates
// raise no alert for it) is a live item a guard acknowledges.
func TestHolderMismatchItem(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	now := time.Now().UTC()
	ev := gate.Event{V: 1, ID: "ev-mm", Seq: 1, Site: "p1", Gate: "lane-1", Time: now, Kind: gate.KindEntry, Decision: "denied",
		Reasons: []gate.Reason{"face_mismatch"}, Holder: "E7", Mode: gate.ModeNormal}
	raw, _ := json.Marshal(ev)
	if _, err := f.st.Commit(ctx, &store.Batch{Events: []store.Event{{Event: ev, Raw: raw, Received: now}}}); err != nil {
		t.Fatal(err)
	}
	cl := f.mustLogin("gus")
	_, body := get(t, cl, f.srv.URL+"/live")
	if !strings.Contains(body, `id="alert-ev-ev-mm"`) || !strings.Contains(body, T("en", "alert.type.holder_mismatch")) {
		t.Fatal("the face_mismatch denial is not on the live page")
	}
	post(t, cl, f.srv.URL+"/alerts/ev-ev-mm/ack", url.Values{"note": {"ID checked: twin brother"}}, nil)
	acks, err := f.db.EventAcks(ctx, []string{"ev-mm"})
	if err != nil || acks["ev-mm"].By != "gus" || acks["ev-mm"].Note != "ID checked: twin brother" {
		t.Fatalf("acknowledgement %+v %v", acks, err)
	}
	if !f.hasAudit("gus", "acknowledge", "ev-ev-mm") {
		t.Fatal("no audit entry")
	}
	if _, body := get(t, cl, f.srv.URL+"/live"); !strings.Contains(body, "twin brother") {
		t.Fatal("the live page does not show the acknowledgement")
	}
}

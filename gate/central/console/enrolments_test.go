package console

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"html"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces/enrolfile"
)

const testModel = "facenet+mirror@0123456789abcdef"

// gateCommander answers per gate: lane-2 refuses, lane-3 never answers,
// any other gate applies. It records every command.
type gateCommander struct {
	mu   sync.Mutex
	sent []command.Body
}

func (g *gateCommander) Send(_ context.Context, site, gateName, name string, args command.Args, id string) (command.Result, error) {
	g.mu.Lock()
	g.sent = append(g.sent, command.Body{ID: id, Name: name, Site: site, Gate: gateName, Args: args})
	g.mu.Unlock()
	r := command.Result{V: 1, ID: id, Name: name, Site: site, Gate: gateName, Status: command.StatusOK, Detail: "enrolled"}
	switch gateName {
	case "lane-2":
		r.Status, r.Reason, r.Detail = command.StatusRejected, string(command.ReasonBadArgs), `args.model "x" is not this gate's descriptor`
	case "lane-3":
		return command.Result{}, ErrNoResult
	}
	return r, nil
}

func (g *gateCommander) bodies() []command.Body {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sent)
}

type enrolFixture struct {
	*fixture
	cmd  *gateCommander
	priv ed25519.PrivateKey
}

// newEnrolFixture is the console with enrolment on (model testModel, 4
// values, station desk-1), a roster of three and three gates heard from.
func newEnrolFixture(t *testing.T) *enrolFixture {
	t.Helper()
	f := newFixture(t)
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	gc := &gateCommander{}
	c, err := New(Options{Store: f.st, DB: f.db, Commander: gc, Now: f.clk.Now, SessionTTL: time.Hour,
		Enrolment: EnrolmentOptions{Model: testModel, Dim: 4, Stations: map[string]ed25519.PublicKey{"desk-1": pub}}})
	if err != nil {
		t.Fatal(err)
	}
	f.c, f.srv = c, httptest.NewServer(c)
	t.Cleanup(f.srv.Close)
	ctx := context.Background()
	if _, err := f.st.ImportPeople(ctx, []store.Person{{ID: "emp-1", Name: "王伟", Department: "装配"},
		{ID: "emp-2", Name: "Li Na", Department: "QA"}, {ID: "emp-3", Name: "Zhang Min", Department: "QA"}}); err != nil {
		t.Fatal(err)
	}
	var b store.Batch
	for _, g := range []string{"lane-1", "lane-2", "lane-3"} {
		b.Gates = append(b.Gates, store.GateUpdate{Site: "plant", Gate: g, Received: time.Now(), Availability: "online"})
	}
	if _, err := f.st.Commit(ctx, &b); err != nil {
		t.Fatal(err)
	}
	return &enrolFixture{fixture: f, cmd: gc, priv: priv}
}

func testDescriptors(n, dim int) [][]float32 {
	out := make([][]float32, n)
	for i := range out {
		out[i] = make([]float32, dim)
		for j := range out[i] {
			out[i][j] = float32(i*dim+j) / 97
		}
	}
	return out
}

var enrolledAt = time.Date(2026, 11, 30, 8, 15, 0, 0, time.UTC)

// file returns an enrolment file of emp-1 (3 descriptors) and emp-2 (1),
// edited by edit, signed with key.
func (f *enrolFixture) file(key ed25519.PrivateKey, edit func(*enrolfile.Body)) []byte {
	f.t.Helper()
	b := enrolfile.Body{Station: "desk-1", Exported: enrolledAt.Add(time.Hour), Model: testModel, Dim: 4, People: []enrolfile.Person{
		{ID: "emp-1", Enrolled: enrolledAt, Descriptors: testDescriptors(3, 4)},
		{ID: "emp-2", Enrolled: enrolledAt, Descriptors: testDescriptors(1, 4)}}}
	if edit != nil {
		edit(&b)
	}
	data, err := enrolfile.Sign(b, key)
	if err != nil {
		f.t.Fatal(err)
	}
	return data
}

func upload(t *testing.T, cl *http.Client, u, field string, data []byte, hdr map[string]string) (int, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile(field, "people.enrol")
	_, _ = fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, u, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// TestEnrolImportAndPush: an admin imports a signed file, pushes emp-1 to
// three gates through the commander (one applies, one refuses, one never
// answers) and removes it again; the People page shows each gate's state
// and every step is audited.
func TestEnrolImportAndPush(t *testing.T) {
	f := newEnrolFixture(t)
	ctx := context.Background()
	ac := f.mustLogin("ada")
	if st, body := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", f.file(f.priv, nil), nil); st != http.StatusSeeOther {
		t.Fatalf("import: %d\n%s", st, body)
	}
	e, err := f.st.Enrolment(ctx, "emp-1")
	if err != nil || e.Count != 3 || e.Station != "desk-1" || e.ImportedBy != "ada" || !e.Enrolled.Equal(enrolledAt) {
		t.Fatalf("stored %+v, %v", e, err)
	}
	if !f.hasAudit("ada", "enrol_import", "people") {
		t.Fatal("no audit entry for the import")
	}
	_, page := get(t, ac, f.srv.URL+"/people")
	if !strings.Contains(html.UnescapeString(page), T("en", "enrol.status.enrolled", 3, testModel, "2026-11-30 08:15:00", "desk-1")) ||
		!strings.Contains(page, T("en", "enrol.status.none")) {
		t.Fatalf("people page after import:\n%s", page)
	}

	resp := post(t, ac, f.srv.URL+"/people/push", url.Values{"action": {"enroll"}, "person": {"emp-1"},
		"gate": {"plant/lane-1", "plant/lane-2", "plant/lane-3"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("push: status %d", resp.StatusCode)
	}
	sent := f.cmd.bodies()
	if len(sent) != 3 {
		t.Fatalf("%d commands sent, want 3", len(sent))
	}
	for _, b := range sent {
		a := b.Args
		if b.Name != command.Enroll || a.Person != "emp-1" || a.Model != testModel || a.Name != "王伟" || a.Department != "装配" ||
			len(a.Descriptors) != 3 || !slices.Equal(a.Descriptors[2], testDescriptors(3, 4)[2]) || !strings.HasPrefix(b.ID, "ada.") {
			t.Errorf("command %+v", b)
		}
	}
	pushes, _ := f.st.EnrolmentPushes(ctx)
	states := map[string]store.EnrolmentPush{}
	for _, p := range pushes {
		states[p.Gate] = p
	}
	if states["lane-1"].Status != store.PushApplied || states["lane-2"].Status != store.PushRefused ||
		!strings.Contains(states["lane-2"].Reason, "bad_args") || states["lane-3"].Status != store.PushNoAnswer {
		t.Fatalf("push states %+v", pushes)
	}
	for _, g := range []string{"plant/lane-1", "plant/lane-2", "plant/lane-3"} {
		if !f.hasAudit("ada", "enrol_enroll", g) {
			t.Errorf("no audit entry for the push to %s", g)
		}
	}
	_, page = get(t, ac, f.srv.URL+"/people?"+strings.TrimPrefix(resp.Header.Get("Location"), "/people?"))
	for _, want := range []string{
		T("en", "enrol.push.done", 3, 1, 1, 1),
		`<li class="push-applied" data-gate="plant/lane-1"><strong>lane-1</strong> <small>plant</small>: ` + T("en", "enrol.push.enroll.applied"),
		`data-gate="plant/lane-2"><strong>lane-2</strong> <small>plant</small>: refused: rejected: bad_args`,
		`<li class="push-no_answer" data-gate="plant/lane-3">`,
	} {
		if !strings.Contains(html.UnescapeString(page), want) {
			t.Errorf("people page lacks %q", want)
		}
	}

	resp = post(t, ac, f.srv.URL+"/people/push", url.Values{"action": {"unenroll"}, "person": {"emp-1"}, "gate": {"plant/lane-1"}}, nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: status %d", resp.StatusCode)
	}
	if last := f.cmd.bodies()[3]; last.Name != command.Unenroll || last.Args.Person != "emp-1" || last.Args.Descriptors != nil || last.Args.Model != "" {
		t.Errorf("unenroll command %+v", last)
	}
	_, page = get(t, ac, f.srv.URL+"/people")
	if !strings.Contains(page, `data-gate="plant/lane-1"><strong>lane-1</strong> <small>plant</small>: `+T("en", "enrol.push.unenroll.applied")) ||
		!f.hasAudit("ada", "enrol_unenroll", "plant/lane-1") {
		t.Error("removal not shown or not audited")
	}

	// A newer enrolment of emp-1 makes the gates' copies earlier ones.
	newer := f.file(f.priv, func(b *enrolfile.Body) {
		b.People = b.People[:1]
		b.People[0].Enrolled = enrolledAt.Add(24 * time.Hour)
	})
	if st, _ := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", newer, nil); st != http.StatusSeeOther {
		t.Fatal("second import refused")
	}
	if _, page = get(t, ac, f.srv.URL+"/people"); !strings.Contains(page, T("en", "enrol.push.outdated")) {
		t.Error("a gate holding an earlier enrolment is not marked")
	}
}

// TestEnrolPushStopsAtSilentGate: once a gate leaves a command
// unanswered, the rest for it are recorded as not answered without being
// sent (each would wait out the timeout); the other gates get them all.
func TestEnrolPushStopsAtSilentGate(t *testing.T) {
	f := newEnrolFixture(t)
	ac := f.mustLogin("ada")
	if st, _ := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", f.file(f.priv, nil), nil); st != http.StatusSeeOther {
		t.Fatal("import refused")
	}
	resp := post(t, ac, f.srv.URL+"/people/push", url.Values{"action": {"enroll"}, "person": {"emp-1", "emp-2"},
		"gate": {"plant/lane-1", "plant/lane-3"}}, nil)
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "no_answer=2") {
		t.Fatalf("push: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	perGate := map[string]int{}
	for _, b := range f.cmd.bodies() {
		perGate[b.Gate]++
	}
	if perGate["lane-1"] != 2 || perGate["lane-3"] != 1 {
		t.Fatalf("commands per gate %v, want lane-1 2, lane-3 1", perGate)
	}
	pushes, _ := f.st.EnrolmentPushes(context.Background())
	var skipped *store.EnrolmentPush
	for i, p := range pushes {
		if p.Gate == "lane-3" && p.Request == "" {
			skipped = &pushes[i]
		}
	}
	if skipped == nil || skipped.Status != store.PushNoAnswer || !strings.Contains(skipped.Reason, "not sent: the gate did not answer the command for emp-") {
		t.Fatalf("pushes %+v", pushes)
	}
}

// TestEnrolImportRefused: each bad file is refused with a 400 naming what
// is wrong, audited, and nothing of it is stored (one bad person refuses
// the whole file).
func TestEnrolImportRefused(t *testing.T) {
	f := newEnrolFixture(t)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	ac := f.mustLogin("ada")
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"wrong model", f.file(f.priv, func(b *enrolfile.Body) { b.Model = "lbph@r1n8g8x8" }), `model "lbph@r1n8g8x8" is not the gates' model`},
		{"wrong descriptor length", f.file(f.priv, func(b *enrolfile.Body) { b.People[1].Descriptors = testDescriptors(1, 5) }),
			"people[1] (emp-2): descriptors[0] has 5 values, the gates' descriptor has 4"},
		{"too many descriptors", f.file(f.priv, func(b *enrolfile.Body) { b.People[0].Descriptors = testDescriptors(21, 4) }),
			"people[0] (emp-1): 21 descriptors, want 1–20"},
		{"not on the roster", f.file(f.priv, func(b *enrolfile.Body) { b.People[1].ID = "visitor-7" }), "people[1] (visitor-7): not on the roster"},
		{"duplicate", f.file(f.priv, func(b *enrolfile.Body) { b.People[1].ID = "emp-1" }), "people[1] (emp-1): appears twice"},
		{"another key", f.file(other, nil), "does not verify"},
		{"unknown station", f.file(f.priv, func(b *enrolfile.Body) { b.Station = "garage" }), `station "garage"`},
		{"not an enrolment file", []byte("id,name,department\n"), "not an enrolment file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, body := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", tc.data, nil)
			if st != http.StatusBadRequest || !strings.Contains(html.UnescapeString(body), tc.want) ||
				!strings.Contains(body, T("en", "enrol.import.refused")) {
				t.Fatalf("status %d, page lacks %q:\n%s", st, tc.want, body)
			}
			if es, _ := f.st.Enrolments(context.Background()); len(es) != 0 {
				t.Fatalf("stored %+v from a refused file", es)
			}
		})
	}
	n := 0
	for _, e := range f.audit() {
		if e.Action == "enrol_import" && strings.HasPrefix(e.Detail, "refused: ") {
			n++
		}
	}
	if n != 8 {
		t.Errorf("%d refused imports audited, want 8", n)
	}
}

// TestEnrolAdminOnly: a guard can neither import nor push (403, audited,
// nothing stored or sent); a cross-origin push is refused before anything
// is sent.
func TestEnrolAdminOnly(t *testing.T) {
	f := newEnrolFixture(t)
	ctx := context.Background()
	gc := f.mustLogin("gus")
	if st, _ := upload(t, gc, f.srv.URL+"/people/enrolments", "enrolments", f.file(f.priv, nil), nil); st != http.StatusForbidden {
		t.Fatalf("guard import: %d, want 403", st)
	}
	if es, _ := f.st.Enrolments(ctx); len(es) != 0 {
		t.Fatal("a guard imported enrolments")
	}
	ac := f.mustLogin("ada")
	if st, _ := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", f.file(f.priv, nil), nil); st != http.StatusSeeOther {
		t.Fatal("admin import refused")
	}
	form := url.Values{"action": {"enroll"}, "person": {"emp-1"}, "gate": {"plant/lane-1"}}
	if resp := post(t, gc, f.srv.URL+"/people/push", form, nil); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("guard push: %d, want 403", resp.StatusCode)
	}
	if !f.hasAudit("gus", "denied", "POST /people/push") || !f.hasAudit("gus", "denied", "POST /people/enrolments") {
		t.Error("the guard's refused actions are not audited")
	}
	if resp := post(t, ac, f.srv.URL+"/people/push", form, map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin push: %d, want 403", resp.StatusCode)
	}
	if st, _ := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", f.file(f.priv, nil),
		map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}); st != http.StatusForbidden {
		t.Fatalf("cross-origin import: %d, want 403", st)
	}
	if n := len(f.cmd.bodies()); n != 0 {
		t.Fatalf("%d commands sent by refused pushes", n)
	}
	if p, _ := f.st.EnrolmentPushes(ctx); len(p) != 0 {
		t.Fatalf("refused pushes recorded %+v", p)
	}
}

// TestEnrolPushChecks: a push names what is missing, and sends nothing.
func TestEnrolPushChecks(t *testing.T) {
	f := newEnrolFixture(t)
	ac := f.mustLogin("ada")
	if st, _ := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", f.file(f.priv, nil), nil); st != http.StatusSeeOther {
		t.Fatal("import refused")
	}
	for _, tc := range []struct {
		form url.Values
		key  string
	}{
		{url.Values{"action": {"enroll"}, "gate": {"plant/lane-1"}}, "enrol.push.no_people"},
		{url.Values{"action": {"enroll"}, "person": {"emp-1"}}, "enrol.push.no_gates"},
		{url.Values{"action": {"enroll"}, "person": {"emp-1"}, "gate": {"plant/lane-9"}}, "enrol.push.unknown_gate"},
		{url.Values{"action": {"enroll"}, "person": {"emp-3"}, "gate": {"plant/lane-1"}}, "enrol.push.not_enrolled"},
		{url.Values{"action": {"open"}, "person": {"emp-1"}, "gate": {"plant/lane-1"}}, "error.bad_request"},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.srv.URL+"/people/push", strings.NewReader(tc.form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := ac.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		want := T("en", tc.key, "action")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(html.UnescapeString(b.String()), want) {
			t.Errorf("%v: status %d, want 400 saying %q", tc.form, resp.StatusCode, want)
		}
	}
	if n := len(f.cmd.bodies()); n != 0 {
		t.Fatalf("%d commands sent", n)
	}
}

// TestEnrolOff: without console.enrolment the page says how to turn it on
// and the endpoints refuse.
func TestEnrolOff(t *testing.T) {
	f := newFixture(t)
	ac := f.mustLogin("ada")
	if _, err := f.st.ImportPeople(context.Background(), []store.Person{{ID: "emp-1", Name: "n", Department: "d"}}); err != nil {
		t.Fatal(err)
	}
	if _, page := get(t, ac, f.srv.URL+"/people"); !strings.Contains(html.UnescapeString(page), T("en", "enrol.off")) {
		t.Error("the page does not say enrolment is off")
	}
	if st, _ := upload(t, ac, f.srv.URL+"/people/enrolments", "enrolments", []byte("{}"), nil); st != http.StatusServiceUnavailable {
		t.Errorf("import with enrolment off: %d, want 503", st)
	}
	if resp := post(t, ac, f.srv.URL+"/people/push", url.Values{"action": {"enroll"}}, nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("push with enrolment off: %d, want 503", resp.StatusCode)
	}
}

// TestEnrolKeys: every state a push can show, and the audit actions, are
// in both catalogues.
func TestEnrolKeys(t *testing.T) {
	for _, lang := range Languages {
		for _, a := range []string{store.PushEnroll, store.PushUnenroll} {
			for _, s := range []string{store.PushPending, store.PushApplied, store.PushRefused, store.PushNoAnswer} {
				if k := (pushView{EnrolmentPush: store.EnrolmentPush{Action: a, Status: s}}).Key(); !has(lang, k) {
					t.Errorf("%s lacks %s", lang, k)
				}
			}
		}
		for _, a := range []string{"enrol_import", "enrol_enroll", "enrol_unenroll"} {
			if !has(lang, "audit."+a) {
				t.Errorf("%s lacks audit.%s", lang, a)
			}
		}
	}
}

// peoplePageData is a People page with every state shown, for the
// template tests.
func peoplePageData() peopleData {
	e := &store.Enrolment{Person: "1", Model: testModel, Count: 2, Enrolled: enrolledAt, Station: "desk-1"}
	var pushes []pushView
	for _, a := range []string{store.PushEnroll, store.PushUnenroll} {
		for _, s := range []string{store.PushPending, store.PushApplied, store.PushRefused, store.PushNoAnswer} {
			pushes = append(pushes, pushView{EnrolmentPush: store.EnrolmentPush{Person: "1", Site: "p", Gate: "g", Action: a, Status: s, Reason: "r"}, Outdated: true})
		}
	}
	return peopleData{People: []personView{{Person: store.Person{ID: "1", Name: "n", Department: "d"}, Enrolment: e, Pushes: pushes},
		{Person: store.Person{ID: "2", Name: "m", Department: "d"}}},
		Gates: []store.GateRow{{Site: "p", Gate: "g"}}, Enrolment: true, Push: true, Model: testModel, Enrolled: 1,
		ImportErrors: []string{"bad"}}
}

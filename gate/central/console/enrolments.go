package console

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces/enrolfile"
)

// EnrolmentOptions turn on the People page's face enrolment: importing
// enrolment files (gate/faces/enrolfile, written by `gateguard enroll
// export` on an enrolment station) and pushing them to the gates as signed
// enroll commands. A zero Model turns it off.
type EnrolmentOptions struct {
	// Model and Dim are the gates' descriptor's ModelID and length; a file
	// of another model or length is refused.
	Model string
	Dim   int
	// Stations are the enrolment stations' public keys by id: only files
	// they signed are accepted.
	Stations map[string]ed25519.PublicKey
}

// importEnrolments handles POST /people/enrolments (admins): an
// enrolment file, checked whole against the stations, the model and the
// roster, then stored all or nothing.
func (c *Console) importEnrolments(w http.ResponseWriter, r *http.Request, u User) {
	lang := u.Language
	if c.o.Enrolment.Model == "" {
		c.render(w, r, http.StatusServiceUnavailable, "error", page{User: u, Nav: "people", Error: T(lang, "enrol.off")})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, enrolfile.MaxBytes+64<<10)
	f, _, err := r.FormFile("enrolments")
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "people", Error: T(lang, "error.bad_request", "enrolments: "+err.Error())})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, enrolfile.MaxBytes+1))
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "people", Error: T(lang, "error.bad_request", "enrolments: "+err.Error())})
		return
	}
	roster, err := c.o.DB.People(r.Context())
	if err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	on := map[string]bool{}
	for _, p := range roster {
		on[p.ID] = true
	}
	b, err := enrolfile.Read(data, enrolfile.Checks{Stations: c.o.Enrolment.Stations, Model: c.o.Enrolment.Model,
		Dim: c.o.Enrolment.Dim, OnRoster: func(id string) bool { return on[id] }})
	if err != nil {
		c.audit(r, u.Username, "enrol_import", "people", "refused: "+err.Error())
		c.importRefused(w, r, u, err)
		return
	}
	now := c.o.Now()
	es := make([]store.Enrolment, len(b.People))
	for i, p := range b.People {
		es[i] = store.Enrolment{Person: p.ID, Model: b.Model, Dim: b.Dim, Descriptors: p.Descriptors, Count: len(p.Descriptors),
			Enrolled: p.Enrolled, Station: b.Station, Imported: now, ImportedBy: u.Username}
	}
	if err := c.o.Store.PutEnrolments(r.Context(), es); err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.Person
	}
	c.audit(r, u.Username, "enrol_import", "people", fmt.Sprintf("%d people from station %s, model %s: %s",
		len(es), b.Station, b.Model, strings.Join(ids, ",")))
	http.Redirect(w, r, "/people?enrolled="+strconv.Itoa(len(es)), http.StatusSeeOther)
}

// importRefused shows the People page with every problem of the file.
func (c *Console) importRefused(w http.ResponseWriter, r *http.Request, u User, err error) {
	d, verr := c.peopleView(r)
	if verr != nil {
		c.storeError(w, r, u, "people", verr)
		return
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			d.ImportErrors = append(d.ImportErrors, e.Error())
		}
	} else {
		d.ImportErrors = []string{err.Error()}
	}
	c.render(w, r, http.StatusBadRequest, "people", page{User: u, Nav: "people", Title: T(u.Language, "people.title"),
		Error: T(u.Language, "enrol.import.refused"), Data: d})
}

// pushTarget is one gate a push goes to.
type pushTarget struct{ site, gate string }

// pushEnrolments handles POST /people/push (admins): action enroll sends
// each chosen person's stored enrolment to each chosen gate as a signed
// enroll command, unenroll removes it; each result is stored and audited.
// Commands to one gate go one after another (the gate takes an operator's
// nonces in order), gates in parallel; once a gate leaves a command
// unanswered, the rest for that gate are not sent (each would wait out the
// timeout) and are recorded as not answered.
func (c *Console) pushEnrolments(w http.ResponseWriter, r *http.Request, u User) {
	lang := u.Language
	bad := func(status int, key string, args ...any) {
		c.render(w, r, status, "error", page{User: u, Nav: "people", Error: T(lang, key, args...)})
	}
	if c.o.Enrolment.Model == "" || c.o.Commander == nil {
		bad(http.StatusServiceUnavailable, "enrol.push.off")
		return
	}
	if err := r.ParseForm(); err != nil {
		bad(http.StatusBadRequest, "error.bad_request", err.Error())
		return
	}
	action := r.PostForm.Get("action")
	if action != store.PushEnroll && action != store.PushUnenroll {
		bad(http.StatusBadRequest, "error.bad_request", "action")
		return
	}
	people, targets, key, err := c.pushChoices(r, action)
	if err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	if key != "" {
		bad(http.StatusBadRequest, key)
		return
	}
	// The results are stored even when the browser goes away mid-way;
	// each command is bounded by the commander's timeout.
	ctx := context.WithoutCancel(r.Context())
	var mu sync.Mutex
	counts := map[string]int{}
	args, err := c.pushArgs(ctx, action, people)
	if err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	var wg sync.WaitGroup
	for _, t := range targets {
		wg.Go(func() {
			silent := "" // the person whose command the gate did not answer
			for i, p := range people {
				var st string
				if silent != "" {
					st = c.skipPush(ctx, r, u, action, p, t, silent)
				} else if st = c.pushOne(ctx, r, u, action, p, args[i], t); st == store.PushNoAnswer {
					silent = p.Person
				}
				mu.Lock()
				counts[st]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	q := url.Values{"sent": {strconv.Itoa(len(people) * len(targets))}, "applied": {strconv.Itoa(counts[store.PushApplied])},
		"refused": {strconv.Itoa(counts[store.PushRefused])}, "no_answer": {strconv.Itoa(counts[store.PushNoAnswer])}}
	http.Redirect(w, r, "/people?"+q.Encode(), http.StatusSeeOther)
}

// pushChoices reads the chosen people (with their enrolments for enroll)
// and gates; key names what is missing or unknown ("" when all is well).
func (c *Console) pushChoices(r *http.Request, action string) (people []store.Enrolment, targets []pushTarget, key string, err error) {
	ctx := r.Context()
	ids, gates := r.PostForm["person"], r.PostForm["gate"]
	if len(ids) == 0 {
		return nil, nil, "enrol.push.no_people", nil
	}
	if len(gates) == 0 {
		return nil, nil, "enrol.push.no_gates", nil
	}
	known, err := c.o.Store.Gates(ctx)
	if err != nil {
		return nil, nil, "", err
	}
	for _, g := range gates {
		site, name, _ := strings.Cut(g, "/")
		if !slices.ContainsFunc(known, func(k store.GateRow) bool { return k.Site == site && k.Gate == name }) {
			return nil, nil, "enrol.push.unknown_gate", nil
		}
		if !slices.Contains(targets, pushTarget{site, name}) {
			targets = append(targets, pushTarget{site, name})
		}
	}
	for _, id := range ids {
		if slices.ContainsFunc(people, func(e store.Enrolment) bool { return e.Person == id }) {
			continue
		}
		if action == store.PushUnenroll {
			people = append(people, store.Enrolment{Person: id})
			continue
		}
		e, err := c.o.Store.Enrolment(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, "enrol.push.not_enrolled", nil
		}
		if err != nil {
			return nil, nil, "", err
		}
		people = append(people, e)
	}
	return people, targets, "", nil
}

// pushOne sends one person's enroll or unenroll to one gate through the
// console's commander, records the state before and after, audits it and
// returns the final status.
func (c *Console) pushOne(ctx context.Context, r *http.Request, u User, action string, e store.Enrolment, args command.Args, t pushTarget) string {
	id := requestID(u.Username)
	p := store.EnrolmentPush{Person: e.Person, Site: t.site, Gate: t.gate, Action: action, Status: store.PushPending,
		Request: id, Enrolled: e.Enrolled, By: u.Username, Updated: c.o.Now()}
	if err := c.o.Store.RecordPush(ctx, p); err != nil {
		c.log.Error("console: record push", "person", e.Person, "gate", t.gate, "err", err)
	}
	res, err := c.o.Commander.Send(ctx, t.site, t.gate, action, args, id)
	switch {
	case err != nil:
		p.Status, p.Reason = store.PushNoAnswer, err.Error()
	case res.Status == command.StatusOK:
		p.Status, p.Reason = store.PushApplied, res.Detail
	default:
		p.Status, p.Reason = store.PushRefused, strings.TrimSpace(res.Status+": "+res.Reason+" "+res.Detail)
	}
	p.Updated = c.o.Now()
	if err := c.o.Store.RecordPush(ctx, p); err != nil {
		c.log.Error("console: record push", "person", e.Person, "gate", t.gate, "err", err)
	}
	c.audit(r.WithContext(ctx), u.Username, "enrol_"+action, t.site+"/"+t.gate,
		fmt.Sprintf("person=%s request=%s descriptors=%d result=%s %s", e.Person, id, len(e.Descriptors), p.Status, p.Reason))
	return p.Status
}

// skipPush records and audits a command not sent to a gate that left the
// command for person silent unanswered.
func (c *Console) skipPush(ctx context.Context, r *http.Request, u User, action string, e store.Enrolment, t pushTarget, silent string) string {
	p := store.EnrolmentPush{Person: e.Person, Site: t.site, Gate: t.gate, Action: action, Status: store.PushNoAnswer,
		Reason: "not sent: the gate did not answer the command for " + silent, Enrolled: e.Enrolled, By: u.Username, Updated: c.o.Now()}
	if err := c.o.Store.RecordPush(ctx, p); err != nil {
		c.log.Error("console: record push", "person", e.Person, "gate", t.gate, "err", err)
	}
	c.audit(r.WithContext(ctx), u.Username, "enrol_"+action, t.site+"/"+t.gate, fmt.Sprintf("person=%s result=%s %s", e.Person, p.Status, p.Reason))
	return p.Status
}

// pushArgs are the command arguments of each person: for enroll their
// descriptors, with their name and department from the roster.
func (c *Console) pushArgs(ctx context.Context, action string, people []store.Enrolment) ([]command.Args, error) {
	out := make([]command.Args, len(people))
	if action == store.PushUnenroll {
		for i, e := range people {
			out[i] = command.Args{Person: e.Person}
		}
		return out, nil
	}
	roster, err := c.o.DB.People(ctx)
	if err != nil {
		return nil, err
	}
	for i, e := range people {
		out[i] = command.Args{Person: e.Person, Model: e.Model, Descriptors: e.Descriptors}
		for _, p := range roster {
			if p.ID == e.Person {
				out[i].Name, out[i].Department = cut(p.Name, 128), cut(p.Department, 128)
			}
		}
	}
	return out, nil
}

// cut shortens s to at most n bytes, on a character boundary.
func cut(s string, n int) string {
	for len(s) > n {
		_, size := utf8.DecodeLastRuneInString(s)
		s = s[:len(s)-size]
	}
	return s
}

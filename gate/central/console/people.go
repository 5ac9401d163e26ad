package console

import (
	"net/http"
	"strconv"

	"github.com/gateguard/gateguard/gate/central/api"
	"github.com/gateguard/gateguard/gate/central/store"
)

// peopleData is the People page: the roster with each person's
// enrolment and its state on every gate it was pushed to.
type peopleData struct {
	People []personView
	// Gates are the gates heard from, the push form's choices.
	Gates []store.GateRow
	// Enrolment says whether enrolment files can be imported
	// (console.enrolment); Push whether they can be pushed (also commands).
	Enrolment, Push bool
	Model           string
	Enrolled        int
	// ImportErrors are the problems of a refused enrolment file.
	ImportErrors []string
}

// personView is one roster row.
type personView struct {
	store.Person
	Enrolment *store.Enrolment
	Pushes    []pushView
}

// pushView is a person's enrolment on one gate.
type pushView struct {
	store.EnrolmentPush
	// Outdated: the gate has an earlier enrolment than the stored one.
	Outdated bool
}

// Key is the catalogue key of the push's state: enrol.push.ACTION.STATUS.
func (p pushView) Key() string { return "enrol.push." + p.Action + "." + p.Status }

// Args are the key's arguments: the gate's reason.
func (p pushView) Args() []any { return []any{p.Reason} }

func (c *Console) peopleView(r *http.Request) (peopleData, error) {
	ctx := r.Context()
	people, err := c.o.DB.People(ctx)
	if err != nil {
		return peopleData{}, err
	}
	ens, err := c.o.Store.Enrolments(ctx)
	if err != nil {
		return peopleData{}, err
	}
	pushes, err := c.o.Store.EnrolmentPushes(ctx)
	if err != nil {
		return peopleData{}, err
	}
	gates, err := c.o.Store.Gates(ctx)
	if err != nil {
		return peopleData{}, err
	}
	byID := map[string]*store.Enrolment{}
	for i := range ens {
		byID[ens[i].Person] = &ens[i]
	}
	pushesOf := map[string][]pushView{}
	for _, p := range pushes {
		e := byID[p.Person]
		outdated := e != nil && p.Action == store.PushEnroll && !p.Enrolled.Equal(e.Enrolled)
		pushesOf[p.Person] = append(pushesOf[p.Person], pushView{EnrolmentPush: p, Outdated: outdated})
	}
	d := peopleData{Gates: gates, Enrolment: c.o.Enrolment.Model != "", Model: c.o.Enrolment.Model, Enrolled: len(ens)}
	d.Push = d.Enrolment && c.o.Commander != nil
	for _, p := range people {
		d.People = append(d.People, personView{Person: p, Enrolment: byID[p.ID], Pushes: pushesOf[p.ID]})
	}
	return d, nil
}

func (c *Console) peoplePage(w http.ResponseWriter, r *http.Request, u User) {
	d, err := c.peopleView(r)
	if err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	p := page{User: u, Nav: "people", Title: T(u.Language, "people.title"), Data: d}
	q := r.URL.Query()
	switch {
	case q.Get("imported") != "":
		p.Flash = T(u.Language, "people.imported", q.Get("imported"))
	case q.Get("enrolled") != "":
		p.Flash = T(u.Language, "enrol.imported", q.Get("enrolled"))
	case q.Get("sent") != "":
		p.Flash = T(u.Language, "enrol.push.done", q.Get("sent"), q.Get("applied"), q.Get("refused"), q.Get("no_answer"))
	}
	c.render(w, r, http.StatusOK, "people", p)
}

// importPeople takes a roster CSV upload (id,name,department with a
// header), parsed by the API's parser, into the store.
func (c *Console) importPeople(w http.ResponseWriter, r *http.Request, u User) {
	r.Body = http.MaxBytesReader(w, r.Body, 4<<20)
	f, _, err := r.FormFile("roster")
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "people", Error: T(u.Language, "error.bad_request", "roster: "+err.Error())})
		return
	}
	defer f.Close()
	people, err := api.ParseRoster(f)
	if err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "people", Error: T(u.Language, "error.bad_request", err.Error())})
		return
	}
	n, err := c.o.Store.ImportPeople(r.Context(), people)
	if err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	c.audit(r, u.Username, "roster_import", "people", strconv.Itoa(n)+" people")
	http.Redirect(w, r, "/people?imported="+strconv.Itoa(n), http.StatusSeeOther)
}

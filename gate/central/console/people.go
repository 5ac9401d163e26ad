package console

import (
	"net/http"
	"strconv"

	"github.com/gateguard/gateguard/gate/central/api"
	"github.com/gateguard/gateguard/gate/central/store"
)

type peopleData struct {
	People []store.Person
}

func (c *Console) peoplePage(w http.ResponseWriter, r *http.Request, u User) {
	people, err := c.o.DB.People(r.Context())
	if err != nil {
		c.storeError(w, r, u, "people", err)
		return
	}
	p := page{User: u, Nav: "people", Title: T(u.Language, "people.title"), Data: peopleData{People: people}}
	if n := r.URL.Query().Get("imported"); n != "" {
		p.Flash = T(u.Language, "people.imported", n)
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

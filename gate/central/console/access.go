package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

type accessData struct {
	Users     []User
	Audit     []AuditEntry
	Older     string
	Roles     []string
	Languages []string
}

func (c *Console) accessPage(w http.ResponseWriter, r *http.Request, u User) {
	users, err := c.o.DB.Users(r.Context())
	if err != nil {
		c.storeError(w, r, u, "access", err)
		return
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	audit, err := c.o.DB.AuditLog(r.Context(), before, 100)
	if err != nil {
		c.storeError(w, r, u, "access", err)
		return
	}
	d := accessData{Users: users, Audit: audit, Roles: Roles, Languages: Languages}
	if len(audit) == 100 {
		d.Older = "/access?before=" + strconv.FormatInt(audit[len(audit)-1].ID, 10)
	}
	p := page{User: u, Nav: "access", Title: T(u.Language, "access.title"), Data: d}
	if s := r.URL.Query().Get("added"); s != "" {
		p.Flash = T(u.Language, "access.added", s)
	}
	if s := r.URL.Query().Get("removed"); s != "" {
		p.Flash = T(u.Language, "access.removed", s)
	}
	c.render(w, r, http.StatusOK, "access", p)
}

func (c *Console) addUser(w http.ResponseWriter, r *http.Request, u User) {
	name := strings.TrimSpace(r.PostFormValue("username"))
	role := r.PostFormValue("role")
	lang := r.PostFormValue("language")
	if err := c.o.DB.AddUser(r.Context(), name, r.PostFormValue("password"), role, lang); err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "access", Error: T(u.Language, "error.bad_request", err.Error())})
		return
	}
	c.audit(r, u.Username, "user_add", name, "role "+role)
	http.Redirect(w, r, "/access?added="+url.QueryEscape(name), http.StatusSeeOther)
}

func (c *Console) removeUser(w http.ResponseWriter, r *http.Request, u User) {
	name := r.PathValue("name")
	if name == u.Username {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "access", Error: T(u.Language, "error.bad_request", name)})
		return
	}
	if err := c.o.DB.RemoveUser(r.Context(), name); err != nil {
		c.render(w, r, http.StatusBadRequest, "error", page{User: u, Nav: "access", Error: T(u.Language, "error.bad_request", err.Error())})
		return
	}
	c.audit(r, u.Username, "user_remove", name, "")
	to := "/access?removed=" + url.QueryEscape(name)
	if r.Header.Get("HX-Request") != "" { // htmx asked (after its confirmation): a full page load
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

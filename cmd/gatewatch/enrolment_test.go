package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/central/store/sqlite"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces/enrolfile"
)

// TestConsoleEnrolmentConfig: console.enrolment reaches the console: a
// file signed by the listed station, of the configured model and length
// (dim defaulted to 128), is imported; one signed by another key, or of
// another length, is refused.
func TestConsoleEnrolmentConfig(t *testing.T) {
	dir := t.TempDir()
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	yaml := fmt.Sprintf("site: e2e\ndata_dir: %s\nmqtt: {brokers: ['tcp://127.0.0.1:1']}\napi: {token_env: GW_E2E_TOKEN}\n"+
		"console: {enrolment: {model: 'facenet+mirror@00', stations: [{id: desk-1, public_key: '%s'}]}}\n",
		filepath.Join(dir, "data"), command.FormatPublicKey(pub))
	c, err := configs.ParseGatewatch([]byte(yaml), "e2e.yaml")
	if err != nil {
		t.Fatal(err)
	}
	addFirstAdmin(t, c)
	st, err := sqlite.Open(t.Context(), c.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ImportPeople(t.Context(), []store.Person{{ID: "emp-1", Name: "Ann", Department: "QA"}}); err != nil {
		t.Fatal(err)
	}
	h, _, stop, err := startConsole(t.Context(), c, st, http.NotFoundHandler(), mqttLink{}, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	srv := httptest.NewServer(h)
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if r, err := cl.PostForm(srv.URL+"/login", url.Values{"username": {"ada"}, "password": {"a long enough password"}}); err != nil || r.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %v %v", r, err)
	}
	for _, tc := range []struct {
		name string
		key  ed25519.PrivateKey
		dim  int
		want int
	}{{"another key", other, 128, http.StatusBadRequest}, {"another length", priv, 64, http.StatusBadRequest}, {"good", priv, 128, http.StatusSeeOther}} {
		if got := importFile(t, cl, srv.URL, tc.key, tc.dim); got != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, got, tc.want)
		}
	}
	if e, err := st.Enrolment(t.Context(), "emp-1"); err != nil || e.Dim != 128 || e.Station != "desk-1" {
		t.Fatalf("enrolment %+v %v", e, err)
	}
}

func importFile(t *testing.T, cl *http.Client, base string, key ed25519.PrivateKey, dim int) int {
	t.Helper()
	data, err := enrolfile.Sign(enrolfile.Body{Station: "desk-1", Exported: time.Now(), Model: "facenet+mirror@00", Dim: dim,
		People: []enrolfile.Person{{ID: "emp-1", Enrolled: time.Now(), Descriptors: [][]float32{make([]float32, dim)}}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("enrolments", "e.enrol")
	_, _ = fw.Write(data)
	mw.Close()
	resp, err := cl.Post(base+"/people/enrolments", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/central/console"
	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// TestEnrolmentPushEndToEnd: a person enrolled from photos on an
// enrolment station (`gateguard enroll add`, ResNet descriptor) is
// exported (`gateguard enroll export`), imported on gatewatch's console
// and pushed from its People page, over a real Mosquitto, as a signed
// enroll command to a gateguard daemon on simulated hardware. The daemon's
// templates file then holds the station's descriptors, and the People page
// shows the gate's "applied"; "remove from gates" takes them off again.
func TestEnrolmentPushEndToEnd(t *testing.T) {
	model := faceModel(t)
	if model == "" {
		t.Skip("no face-api weights installed: LBPH descriptors do not fit an enroll command (make test sets GATEGUARD_REQUIRE_FACENET, which fails instead)")
	}
	dir := t.TempDir()
	file, stationPub, enrolled := enrolAtStation(t, dir, model)
	broker := mqtttest.Start(t, "")
	cfg, consoleKey := enrolGateConfig(t, dir, broker.URL, model)
	d, err := build(cfg, testLog(), parts{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r := startDaemon(ctx, d, 10*time.Second)
	defer r.stop(t)

	desk := newEnrolDesk(ctx, t, broker.URL, consoleKey, enrolled.ModelID, stationPub, cfg)
	desk.waitGate(ctx, t)
	desk.upload(t, file)
	gateRef := cfg.Site + "/" + cfg.Gate
	page := desk.push(t, "enroll", gateRef)
	want := `<li class="push-applied" data-gate="` + gateRef + `"><strong>` + cfg.Gate + `</strong> <small>` + cfg.Site + `</small>: ` +
		console.T("en", "enrol.push.enroll.applied")
	if !strings.Contains(page, want) {
		t.Fatalf("People page does not show the push applied (%q):\n%s", want, page)
	}
	onGate := gateTemplates(t, cfg)
	if len(onGate) != 1 || onGate[0].ID != "emp-1" || onGate[0].Name != "Ann" || onGate[0].Department != "QA" ||
		len(onGate[0].Templates) != len(enrolled.Templates) || !slices.Equal(onGate[0].Templates[0], enrolled.Templates[0]) {
		t.Fatalf("the gate's templates file holds %+v, want emp-1 with the station's %d descriptors", onGate, len(enrolled.Templates))
	}
	page = desk.push(t, "unenroll", gateRef)
	if !strings.Contains(page, `data-gate="`+gateRef+`"><strong>`+cfg.Gate+`</strong> <small>`+cfg.Site+`</small>: `+
		console.T("en", "enrol.push.unenroll.applied")) {
		t.Fatalf("People page does not show the removal:\n%s", page)
	}
	if onGate := gateTemplates(t, cfg); len(onGate) != 0 {
		t.Fatalf("after remove the gate still holds %+v", onGate)
	}
	r.stop(t)
}

// stationEnrolment is what the enrolment station enrolled.
type stationEnrolment struct {
	ModelID   string
	Templates [][]float32
}

// enrolAtStation enrols emp-1 from two ORL photos on a station config with
// the ResNet model and exports them; it returns the file, the station's
// public key and what the station's templates file holds.
func enrolAtStation(t *testing.T, dir, model string) (file string, pub ed25519.PublicKey, got stationEnrolment) {
	t.Helper()
	yunet, _ := filepath.Abs(yunetModel)
	cfg := filepath.Join(dir, "station.yaml")
	writeTestFile(t, cfg, fmt.Sprintf("site: s\ngate: station\ncredentials: {mode: presence}\nmqtt: {enabled: false}\n"+
		"vision: {face_model: %s}\nfaces: {templates_file: %s, model: %s}\n", yunet, filepath.Join(dir, "station.db"), model))
	abs := func(p string) string { a, _ := filepath.Abs(orl + p); return a }
	if out, err := enroll(t, "add", "-c", cfg, "-id", "emp-1", "-name", "Ann", "-department", "QA", abs("s1/1.pgm"), abs("s1/3.pgm")); err != nil {
		t.Fatalf("enroll add: %v\n%s", err, out)
	}
	key := filepath.Join(dir, "station.key")
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	file = filepath.Join(dir, "emp-1.enrol")
	if out, err := enroll(t, "export", "-c", cfg, "-key", key, "-station", "desk-1", "-o", file); err != nil {
		t.Fatalf("enroll export: %v\n%s", err, out)
	}
	fp, closeAll, err := openTemplates(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	got = stationEnrolment{ModelID: fp.desc.ModelID(), Templates: fp.store.List()[0].Templates}
	return file, readPub(t, key+".pub"), got
}

func readPub(t *testing.T, path string) ed25519.PublicKey {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	k, err := command.ParsePublicKey(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func writeTestFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// enrolGateConfig is the demo gate on the broker at url with the ResNet
// model, an empty templates file and the console's key allowed to enrol.
func enrolGateConfig(t *testing.T, dir, url, model string) (*configs.Config, ed25519.PrivateKey) {
	t.Helper()
	g := newCommandsGate(t, url)
	key := filepath.Join(dir, "console.key")
	if err := cmdKeygen([]string{"-o", key}, io.Discard); err != nil {
		t.Fatal(err)
	}
	pub, _ := os.ReadFile(key + ".pub")
	g.write(t, g.base+"\ncommands:\n  enabled: true\n  nonce_file: "+filepath.Join(dir, "gate-nonces.json")+
		"\n  operators:\n    - id: console\n      public_key: "+strings.TrimSpace(string(pub))+"\n      allow: [enroll, get_state]\n"+
		"faces:\n  model: "+model+"\n  templates_file: "+filepath.Join(dir, "gate-faces.db")+"\n")
	cfg, err := configs.Load(g.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := readPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, k
}

// gateTemplates reads the gate's templates file as the daemon wrote it.
func gateTemplates(t *testing.T, cfg *configs.Config) []faces.Person {
	t.Helper()
	desc, err := openDescriptor(cfg.Faces, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer desc.Close()
	fp, err := openStore(cfg.Faces, desc)
	if err != nil {
		t.Fatal(err)
	}
	return fp.store.List()
}

// enrolDesk is the test console (see testConsole) with face enrolment
// from station desk-1 and one person on the roster, the admin signed in.
type enrolDesk struct {
	*testConsole
	cfg *configs.Config
}

func newEnrolDesk(ctx context.Context, t *testing.T, brokerURL string, key ed25519.PrivateKey, model string, station ed25519.PublicKey, cfg *configs.Config) *enrolDesk {
	t.Helper()
	tc := startTestConsole(ctx, t, brokerURL, key, testConsoleOpts{
		prefix:    cfg.MQTT.Prefix,
		enrolment: console.EnrolmentOptions{Model: model, Dim: 128, Stations: map[string]ed25519.PublicKey{"desk-1": station}},
		people:    []store.Person{{ID: "emp-1", Name: "Ann", Department: "QA"}},
	})
	tc.login(t, "ada")
	return &enrolDesk{testConsole: tc, cfg: cfg}
}

// waitGate waits until the gate answers the console's commands and
// gatewatch's store knows it (the People page offers the gates it knows).
func (d *enrolDesk) waitGate(ctx context.Context, t *testing.T) {
	t.Helper()
	d.waitForGate(ctx, t, d.cfg.Site, d.cfg.Gate)
	d.waitPage(ctx, t, "/gates", d.cfg.Gate)
}

// upload imports an enrolment file on the People page.
func (d *enrolDesk) upload(t *testing.T, file string) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("enrolments", filepath.Base(file))
	_, _ = fw.Write(data)
	mw.Close()
	resp, err := d.cl.Post(d.srv.URL+"/people/enrolments", mw.FormDataContentType(), &body)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), console.T("en", "enrol.imported", 1)) {
		t.Fatalf("import: %d\n%s", resp.StatusCode, page)
	}
}

// push sends emp-1's enroll or unenroll to gateRef from the People page
// and returns the page it lands on.
func (d *enrolDesk) push(t *testing.T, action, gateRef string) string {
	t.Helper()
	resp, err := d.cl.PostForm(d.srv.URL+"/people/push", url.Values{"action": {action}, "person": {"emp-1"}, "gate": {gateRef}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), console.T("en", "enrol.push.done", 1, 1, 0, 0)) {
		t.Fatalf("push %s: %d\n%s", action, resp.StatusCode, page)
	}
	return string(page)
}

package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/scenario"
)

// scrape fetches the metrics as Prometheus would and returns each sample
// line's value by its name and labels.
func scrape(t *testing.T, m *gateMetrics) (map[string]float64, string) {
	t.Helper()
	srv := httptest.NewServer(m.handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	samples := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples, string(b)
}

// TestMetricsOnDemoScenario runs the demo scenario with metrics on and
// scrapes them: the decision counters move from nothing to the scenario's
// admissions and denials (fever among the reasons), frames are counted for
// both cameras, skin temperatures are in the histogram, and no label names
// a person.
func TestMetricsOnDemoScenario(t *testing.T) {
	cfg, err := configs.Load("../../configs/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg.MQTT.Enabled = false
	sc, err := scenario.Load("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := newGateMetrics(cfg)
	before, _ := scrape(t, m)
	if n := before[`gateguard_decisions_total{result="admitted"}`]; n != 0 {
		t.Fatalf("admitted before the scenario: %v", n)
	}
	runScenario(t, cfg, sc, scenarioOpts{metrics: m})
	after, text := scrape(t, m)
	expect := expected(sc)
	for key, want := range map[string]float64{
		`gateguard_decisions_total{result="admitted"}`:                     expect["admitted"],
		`gateguard_decisions_total{result="denied"}`:                       expect["denied"],
		`gateguard_decision_reasons_total{reason="fever",result="denied"}`: 1,
	} {
		if after[key] != want {
			t.Errorf("%s = %v, want %v", key, after[key], want)
		}
	}
	for _, key := range []string{`gateguard_frames_total{camera="face"}`, `gateguard_frames_total{camera="thermal"}`,
		"gateguard_skin_temperature_celsius_count", "gateguard_qr_decodes_total", "gateguard_qr_decode_seconds_count",
		"gateguard_face_frames_total", "gateguard_blackbody_in_view"} {
		if after[key] <= 0 {
			t.Errorf("%s = %v, want > 0", key, after[key])
		}
	}
	// The process and runtime collectors: memory is what a Pi runs out of.
	for _, key := range []string{"process_resident_memory_bytes", "go_goroutines"} {
		if after[key] <= 0 {
			t.Errorf("%s = %v, want > 0", key, after[key])
		}
	}
	if c := after["gateguard_blackbody_celsius"]; c < 34 || c > 36 {
		t.Errorf("blackbody %v °C, want about 35", c)
	}
	checkMetricsText(t, after, text)
}

// expected counts the scenario's expected decisions by result.
func expected(sc *scenario.Scenario) map[string]float64 {
	n := map[string]float64{}
	for _, st := range sc.Steps {
		n[st.Expect]++
	}
	return n
}

// checkMetricsText checks the build info, the outbox gauges, and that no
// label names a person.
func checkMetricsText(t *testing.T, after map[string]float64, text string) {
	t.Helper()
	if !regexp.MustCompile(`gateguard_build_info\{gate="lane-1",goversion="go[^"]+",site="demo-plant",version="[^"]+"\} 1`).MatchString(text) {
		t.Errorf("no build info:\n%s", text)
	}
	if _, ok := after["gateguard_outbox_depth"]; !ok {
		t.Error("no outbox depth")
	}
	if _, ok := after["gateguard_outbox_oldest_age_seconds"]; !ok {
		t.Error("no outbox age")
	}
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "gateguard_") && !strings.HasPrefix(line, "gateguard_build_info") &&
			regexp.MustCompile(`(holder|person|emp-|pass)`).MatchString(line) {
			t.Errorf("a label names a person: %s", line)
		}
	}
}

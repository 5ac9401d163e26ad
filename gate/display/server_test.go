package display

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/lane"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func temp(v float64) *float64 { return &v }

func TestViews(t *testing.T) {
	admitted := lane.State{Kind: lane.Admitted, Name: "alice", TempC: temp(36.62), Decision: "admitted", Event: "e1"}
	tests := []struct {
		name, lang    string
		st            lane.State
		p             Privacy
		title, detail string
		icon          string
	}{
		{"idle", "en", lane.State{Kind: lane.Idle}, Privacy{}, "Show your pass", "Hold the QR code up to the camera", "qr"},
		{"idle zh", "zh-Hans", lane.State{Kind: lane.Idle}, Privacy{}, "请出示通行码", "请将二维码对准摄像头", "qr"},
		{"code seen", "en", lane.State{Kind: lane.CodeSeen}, Privacy{}, "Look at the camera", "Checking your pass…", "camera"},
		{"welcome", "en", admitted, Privacy{}, "Welcome, alice", "36.6 °C · please go through", "check"},
		{"welcome zh", "zh-Hans", admitted, Privacy{}, "欢迎，alice", "36.6 °C · 请通行", "check"},
		{"welcome, names hidden", "en", admitted, Privacy{HideNames: true}, "Welcome", "36.6 °C · please go through", "check"},
		{"welcome, temperatures hidden", "en", admitted, Privacy{HideTemperatures: true}, "Welcome, alice", "Please go through", "check"},
		{"step closer", "en", lane.State{Kind: lane.Remeasure, Reason: gate.ReasonTooFar}, Privacy{}, "Step closer", "Come closer, to the mark on the floor.", "closer"},
		{"cold arrival zh", "zh-Hans", lane.State{Kind: lane.Remeasure, Reason: gate.ReasonTooCold}, Privacy{}, "请稍等片刻", "您刚从寒冷的室外进来，请稍候几分钟再出示通行码。", "wait"},
		{"denied", "en", lane.State{Kind: lane.Denied, Reason: gate.ReasonCredential}, Privacy{}, "Please see security", "Your pass could not be accepted.", "guard"},
		{"denied without a reason", "en", lane.State{Kind: lane.Denied}, Privacy{}, "Please see security", "Staff will help you.", "guard"},
		{"fever", "en", lane.State{Kind: lane.Fever, Reason: gate.ReasonFever}, Privacy{}, "Please wait for staff", "The reading will be confirmed with a thermometer", "thermometer"},
		{"fire alarm", "en", lane.State{Kind: lane.FireAlarm}, Privacy{}, "EXIT OPEN", "Leave calmly", "exit"},
		{"fire alarm zh", "zh-Hans", lane.State{Kind: lane.FireAlarm}, Privacy{}, "出口已打开", "请保持冷静，有序离开", "exit"},
		{"locked", "en", lane.State{Kind: lane.Locked}, Privacy{}, "Lane closed", "Please use another lane", "lock"},
		{"maintenance", "en", lane.State{Kind: lane.Maintenance}, Privacy{}, "Out of service", "Please use another lane", "wrench"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadCatalog(tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			v := c.view(tt.st, tt.p, Sound{})
			if v.Title != tt.title || v.Detail != tt.detail || v.Icon != tt.icon {
				t.Errorf("view %q / %q / %s, want %q / %q / %s", v.Title, v.Detail, v.Icon, tt.title, tt.detail, tt.icon)
			}
			b, _ := json.Marshal(v)
			if tt.p.HideNames && strings.Contains(string(b), "alice") {
				t.Errorf("hidden name sent: %s", b)
			}
			if tt.p.HideTemperatures && strings.Contains(string(b), "36.6") {
				t.Errorf("hidden temperature sent: %s", b)
			}
		})
	}
}

// TestSoundSwitches: each prompt's sound can be switched off, and all of
// them at once.
func TestSoundSwitches(t *testing.T) {
	c, _ := LoadCatalog("en")
	on := Sound{Enabled: true, Speech: true, Mute: []lane.Kind{lane.Idle, lane.CodeSeen}}
	for _, tt := range []struct {
		st     lane.State
		snd    Sound
		tone   string
		speech string
	}{
		{lane.State{Kind: lane.Admitted}, on, "chime", "Welcome."},
		{lane.State{Kind: lane.Remeasure, Reason: gate.ReasonTooFar}, on, "prompt", "Step closer"},
		{lane.State{Kind: lane.FireAlarm}, on, "alarm", "Exit open. Please leave calmly."},
		{lane.State{Kind: lane.CodeSeen}, on, "", ""},
		{lane.State{Kind: lane.Idle}, on, "", ""},
		{lane.State{Kind: lane.Admitted}, Sound{Enabled: true}, "chime", ""},
		{lane.State{Kind: lane.FireAlarm}, Sound{Speech: true}, "", ""},
	} {
		v := c.view(tt.st, Privacy{}, tt.snd)
		if v.Tone != tt.tone || v.Speech != tt.speech {
			t.Errorf("%s %+v: tone %q speech %q, want %q %q", tt.st.Kind, tt.snd, v.Tone, v.Speech, tt.tone, tt.speech)
		}
	}
}

// sse reads server-sent "state" events into views.
func sse(t *testing.T, body io.Reader, n int) []View {
	t.Helper()
	sc := bufio.NewScanner(body)
	var out []View
	for len(out) < n && sc.Scan() {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var v View
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				t.Fatalf("event data %q: %v", data, err)
			}
			out = append(out, v)
		}
	}
	return out
}

// TestEventsFollowTheStream: the page's event stream carries every state of
// the lane stream, in order, as the display renders it.
func TestEventsFollowTheStream(t *testing.T) {
	stream := lane.New(lane.Options{Log: quietLog()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); stream.Run(ctx) }()
	s, err := New(stream, Options{Language: "zh-Hans", Lane: "lane-1", Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	mine, stop := stream.Subscribe()
	defer stop()
	<-mine // the state on show
	ev := &gate.Event{ID: "e1", Decision: "admitted", Holder: "alice", Reading: &gate.Reading{CoreC: 36.6}}
	for _, sig := range []gate.LaneSignal{
		{Lane: gate.LaneChecking},
		{Lane: gate.LaneOpen, Entry: ev, Admitted: true},
		{Lane: gate.LaneIdle},
		{Lane: gate.LaneFireAlarm, FireAlarm: true},
	} {
		stream.Lane(sig)
	}
	var want []lane.State
	for len(want) < 4 {
		want = append(want, <-mine)
	}
	got := sse(t, resp.Body, 5)
	if len(got) != 5 {
		t.Fatalf("%d events", len(got))
	}
	for i, st := range want {
		if v := s.View(st); got[i+1] != v {
			t.Errorf("event %d: %+v, want %+v", i+1, got[i+1], v)
		}
	}
	if got[2].Title != "欢迎，alice" || got[2].Decision != "admitted" || got[2].Event != "e1" || got[4].Kind != "fire_alarm" {
		t.Errorf("events %+v", got)
	}
	cancel()
	<-done
}

func TestPageAndSounds(t *testing.T) {
	stream := lane.New(lane.Options{Log: quietLog()})
	s, err := New(stream, Options{Language: "en", Lane: "lane-<1>", Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	get := func(path string) (*http.Response, string) {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/")
	if resp.StatusCode != 200 || !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, "lane-&lt;1&gt;") ||
		!strings.Contains(body, `"title":"Show your pass"`) {
		t.Errorf("page %d:\n%s", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	for _, tone := range []string{"prompt", "chime", "attention", "alarm"} {
		resp, b := get("/sounds/" + tone + ".wav")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "audio/wav" {
			t.Fatalf("%s: %d %s", tone, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if b[:4] != "RIFF" || b[8:16] != "WAVEfmt " || b[36:40] != "data" ||
			int(binary.LittleEndian.Uint32([]byte(b[40:44]))) != len(b)-44 || len(b) < 1000 {
			t.Errorf("%s: not a PCM WAV file (%d bytes)", tone, len(b))
		}
	}
	if resp, b := get("/state"); resp.StatusCode != 200 || !strings.Contains(b, `"kind":"idle"`) {
		t.Errorf("/state: %d %s", resp.StatusCode, b)
	}
	if resp, _ := get("/sounds/nope.wav"); resp.StatusCode != 404 {
		t.Errorf("unknown sound: %d", resp.StatusCode)
	}
	if resp, b := get("/static/app.js"); resp.StatusCode != 200 || !strings.Contains(b, "EventSource") {
		t.Errorf("app.js: %d", resp.StatusCode)
	}
}

// TestRunStopsWithOpenStreams: cancelling Run's context ends open event
// streams and Run returns (goleak checks nothing is left).
func TestRunStopsWithOpenStreams(t *testing.T) {
	stream := lane.New(lane.Options{Log: quietLog()})
	s, _ := New(stream, Options{Log: quietLog()})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/events")
	if err != nil {
		t.Fatal(err)
	}
	if got := sse(t, resp.Body, 1); len(got) != 1 || got[0].Kind != "idle" {
		t.Fatalf("first event %+v", got)
	}
	select {
	case <-s.Connected():
	default:
		t.Error("Connected not closed with a page connected")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	_, _ = io.ReadAll(resp.Body) // the server ended the stream
	resp.Body.Close()
	http.DefaultClient.CloseIdleConnections()
}

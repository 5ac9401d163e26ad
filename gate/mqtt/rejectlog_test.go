package mqtt

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/outbox"
)

// records is a slog handler that keeps every record's message and attrs.
type records struct {
	mu    sync.Mutex // guards lines
	lines []map[string]string
	attrs []slog.Attr
}

func (h *records) Enabled(context.Context, slog.Level) bool { return true }

func (h *records) Handle(_ context.Context, r slog.Record) error {
	m := map[string]string{"msg": r.Message}
	for _, a := range h.attrs {
		m[a.Key] = a.Value.String()
	}
	r.Attrs(func(a slog.Attr) bool {
		m[a.Key] = a.Value.String()
		return true
	})
	h.mu.Lock()
	h.lines = append(h.lines, m)
	h.mu.Unlock()
	return nil
}

func (h *records) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordsView{h, as}
}

func (h *records) WithGroup(string) slog.Handler { return h }

func (h *records) all() []map[string]string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]string(nil), h.lines...)
}

// recordsView adds attrs to a shared records.
type recordsView struct {
	*records
	extra []slog.Attr
}

func (v *recordsView) Handle(ctx context.Context, r slog.Record) error {
	r.AddAttrs(v.extra...)
	return v.records.Handle(ctx, r)
}

func (v *recordsView) WithAttrs(as []slog.Attr) slog.Handler {
	return &recordsView{v.records, append(append([]slog.Attr{}, v.extra...), as...)}
}

// fakeMsg is a received MQTT message.
type fakeMsg struct {
	topic    string
	payload  []byte
	retained bool
	qos      byte
}

func (m fakeMsg) Duplicate() bool   { return false }
func (m fakeMsg) Qos() byte         { return m.qos }
func (m fakeMsg) Retained() bool    { return m.retained }
func (m fakeMsg) Topic() string     { return m.topic }
func (m fakeMsg) MessageID() uint16 { return 0 }
func (m fakeMsg) Payload() []byte   { return m.payload }
func (m fakeMsg) Ack()              {}

// TestRejectionSummary floods a Commands server (not connected: results
// cannot be published) with junk on fake time: the valid command in the
// middle reaches the handler, each reason is logged once with its details,
// and the per-minute summary counts everything else, once per minute and
// only when something was left out of the log.
func TestRejectionSummary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec := &records{}
		p := New(Options{Broker: "tcp://127.0.0.1:1", ClientID: "gate-summary", Prefix: "gateguard/v1/s/g",
			Log: slog.New(rec)}, outbox.NewMemory(10))
		key := ed25519.NewKeyFromSeed(opSeed[:])
		v, err := command.NewVerifier(command.Options{Site: "s", Gate: "g", Nonces: &command.MemoryNonces{},
			Operators: []command.Operator{{ID: "desk", Key: key.Public().(ed25519.PublicKey), Allow: []string{command.GetState, command.Open}}}})
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var calls []string
		c, err := p.Commands(CommandOptions{Site: "s", Gate: "g", Verifier: v, Log: slog.New(rec),
			Handler: func(_ context.Context, b *command.Body) command.Result {
				mu.Lock()
				calls = append(calls, b.ID)
				mu.Unlock()
				return command.Result{}
			}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = c.Run(ctx)
		}()

		now := time.Now()
		body := func(id string, nonce uint64) command.Body {
			return command.Body{ID: id, Name: command.GetState, Site: "s", Gate: "g", Operator: "desk",
				Nonce: nonce, Issued: now, Expires: now.Add(time.Minute)}
		}
		junk, _ := command.Sign(body("junk", 1), ed25519.NewKeyFromSeed(make([]byte, 32)))
		valid, _ := command.Sign(body("valid", uint64(now.UnixMicro())), key)
		send := func(payload []byte) {
			c.onMessage(nil, fakeMsg{topic: "gateguard/v1/s/g/cmd/get_state", payload: payload})
		}
		for i := range 10_000 {
			if i == 5_000 {
				send(valid)
			}
			send(junk)
		}
		for range 3 {
			send([]byte("not json"))
		}
		synctest.Wait()
		mu.Lock()
		if fmt.Sprint(calls) != "[valid]" {
			t.Errorf("handler calls %v, want [valid]", calls)
		}
		mu.Unlock()
		count := func(msg string) (n int, last map[string]string) {
			for _, l := range rec.all() {
				if l["msg"] == msg {
					n, last = n+1, l
				}
			}
			return n, last
		}
		if n, _ := count("command rejected"); n != 2 {
			t.Errorf("%d rejections logged one by one, want 2 (one per reason)", n)
		}
		if n, _ := count("commands rejected"); n != 0 {
			t.Errorf("summary logged before the minute was up")
		}
		before := len(rec.all())

		time.Sleep(time.Minute) // fake time: the summary ticker fires
		synctest.Wait()
		n, sum := count("commands rejected")
		if n != 1 {
			t.Fatalf("%d summaries after a minute, want 1", n)
		}
		if sum["bad_signature"] != "10000" || sum["malformed"] != "3" || sum["total"] != "10003" {
			t.Errorf("summary %v", sum)
		}
		// Whether a result is left unanswered (its queue full) or fails to
		// publish (not connected) depends on how fast the result worker
		// drains the queue; every rejection must be one or the other.
		unanswered, _ := strconv.Atoi(sum["unanswered"])
		notPublished, _ := strconv.Atoi(sum["results_not_published"])
		if unanswered+notPublished != 10_003 || sum["period"] != "1m0s" {
			t.Errorf("summary %v: every rejection beyond the log must be counted as unanswered or not published", sum)
		}
		if got := len(rec.all()) - before; got != 1 {
			t.Errorf("%d lines in the minute's end, want 1", got)
		}

		// A quiet minute: no summary.
		time.Sleep(time.Minute)
		synctest.Wait()
		if n, _ := count("commands rejected"); n != 1 {
			t.Errorf("%d summaries after a quiet minute, want still 1", n)
		}
		// A lone rejection: its sample line at once; the summary only
		// says that its result could not be published (not connected).
		send([]byte("not json"))
		synctest.Wait()
		if n, _ := count("command rejected"); n != 3 {
			t.Errorf("%d samples, want 3", n)
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		n, sum = count("commands rejected")
		if n != 2 || sum["malformed"] != "1" || sum["total"] != "1" || sum["results_not_published"] != "1" {
			t.Errorf("%d summaries, last %v", n, sum)
		}
		cancel()
		<-done
	})
}

package mqtt

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/outbox"
)

// TestSubscriptionRetries: the one subscribe-and-retry loop, as Commands and
// Discovery both use it, on a fake client and fake time: it subscribes at
// once when connected, retries a failed or unanswered subscription every 5 s
// while connected (not while disconnected), and subscribes again on every
// reconnect.
func TestSubscriptionRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		p := New(Options{Broker: "tcp://127.0.0.1:1", Prefix: "gateguard/v1/s/g", PublishTimeout: 2 * time.Second,
			Log: log}, outbox.NewMemory(10))
		c := &fakeClient{open: true}
		p.client = c
		v, err := command.NewVerifier(command.Options{Site: "s", Gate: "g", Nonces: &command.MemoryNonces{}})
		if err != nil {
			t.Fatal(err)
		}
		cmds, err := p.Commands(CommandOptions{Verifier: v, Log: log,
			Handler: func(context.Context, *command.Body) command.Result { return command.Result{} }})
		if err != nil {
			t.Fatal(err)
		}
		d := p.Discovery(DiscoveryOptions{Site: "s", Gate: "g", Log: log})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { _ = cmds.Run(ctx) })
		wg.Go(func() { _ = d.Run(ctx) })
		defer func() {
			cancel()
			// Discovery's configs are published on connect on the fake
			// client; complete everything so that nothing waits.
			for _, pub := range c.published() {
				pub.tok.complete(nil)
			}
			for _, s := range c.subscribed() {
				s.tok.complete(nil)
			}
			wg.Wait()
		}()
		synctest.Wait()

		const cmdF, haF = "gateguard/v1/s/g/cmd/+", "homeassistant/status"
		// pending returns the subscriptions to filter not yet answered.
		pending := func(filter string) []*fakeSub {
			var out []*fakeSub
			for _, s := range c.subscribed() {
				select {
				case <-s.tok.Done():
				default:
					if s.filter == filter {
						out = append(out, s)
					}
				}
			}
			return out
		}
		count := func(filter string) int {
			n := 0
			for _, s := range c.subscribed() {
				if s.filter == filter {
					n++
				}
			}
			return n
		}
		answer := func(filter string, err error) {
			t.Helper()
			ps := pending(filter) // a timed-out one stays pending: answer the latest
			if len(ps) == 0 {
				t.Fatalf("no subscription to %s pending", filter)
			}
			ps[len(ps)-1].tok.complete(err)
			synctest.Wait()
		}
		for _, f := range []string{cmdF, haF} {
			if count(f) != 1 {
				t.Fatalf("%s subscribed %d times at start, want 1", f, count(f))
			}
		}
		// Both fail: each is retried after 5 s, not before.
		answer(cmdF, errors.New("refused"))
		answer(haF, errors.New("refused"))
		time.Sleep(4 * time.Second)
		synctest.Wait()
		if count(cmdF) != 1 || count(haF) != 1 {
			t.Fatalf("retried before 5 s: %d, %d", count(cmdF), count(haF))
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if count(cmdF) != 2 || count(haF) != 2 {
			t.Fatalf("not retried after 5 s: %d, %d", count(cmdF), count(haF))
		}
		// The commands one succeeds; Home Assistant's gets no answer: it
		// times out (PublishTimeout) and is retried 5 s later.
		answer(cmdF, nil)
		time.Sleep(2*time.Second + 5*time.Second)
		synctest.Wait()
		if count(cmdF) != 2 || count(haF) != 3 {
			t.Fatalf("after a timeout: %d, %d subscriptions, want 2, 3", count(cmdF), count(haF))
		}
		// Disconnected: a failure is not retried until the reconnect.
		c.setOpen(false)
		answer(haF, errors.New("connection lost"))
		time.Sleep(time.Minute)
		synctest.Wait()
		if count(haF) != 3 {
			t.Fatalf("retried while disconnected: %d", count(haF))
		}
		c.setOpen(true)
		p.runOnConnect() // what paho's OnConnect handler does
		synctest.Wait()
		if count(cmdF) != 3 || count(haF) != 4 {
			t.Fatalf("after the reconnect: %d, %d subscriptions, want 3, 4", count(cmdF), count(haF))
		}
		answer(cmdF, nil)
		answer(haF, nil)
	})
}

var _ paho.Token = (*fakeToken)(nil)

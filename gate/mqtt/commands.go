package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate/command"
)

// HandlerFunc carries out an authenticated command and returns its result;
// the Commands server fills in the result's version, id, name, site, gate,
// operator and time. It runs in the Commands goroutine, one command at a time.
type HandlerFunc func(ctx context.Context, b *command.Body) command.Result

// CommandOptions configures a Commands server.
type CommandOptions struct {
	// Site and Gate are this gate's names, echoed in results.
	Site, Gate string
	// Verifier authenticates commands. Required.
	Verifier *command.Verifier
	// Handler carries out authenticated commands. Required.
	Handler HandlerFunc
	// Queue is how many received commands may wait; 0 means 16. Commands
	// arriving while it is full are dropped (and logged): the sender times
	// out and may send again with a new nonce.
	Queue int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Commands receives commands on <prefix>/cmd/+, authenticates them and
// answers every one on cmd/<name>/result. paho's message handler only hands
// messages to Run's goroutine; it never blocks.
type Commands struct {
	p     *Publisher
	o     CommandOptions
	log   *slog.Logger
	in    chan inbound
	resub chan struct{}
}

type inbound struct {
	topic    string
	payload  []byte
	retained bool
}

// Commands returns a command server on p's connection. It subscribes on
// every connect once its Run is running.
func (p *Publisher) Commands(o CommandOptions) (*Commands, error) {
	if o.Verifier == nil || o.Handler == nil {
		return nil, errors.New("mqtt: commands need a Verifier and a Handler")
	}
	if o.Queue <= 0 {
		o.Queue = 16
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = p.log
	}
	c := &Commands{p: p, o: o, log: o.Log.With("component", "commands"),
		in: make(chan inbound, o.Queue), resub: make(chan struct{}, 1)}
	p.OnConnect(func() { kick(c.resub) })
	return c, nil
}

// Filter is the subscription: <prefix>/cmd/+.
func (c *Commands) Filter() string { return c.p.topic("cmd/+") }

// onMessage is paho's handler: it never blocks.
func (c *Commands) onMessage(_ paho.Client, m paho.Message) {
	select {
	case c.in <- inbound{topic: m.Topic(), payload: m.Payload(), retained: m.Retained()}:
	default:
		c.log.Warn("command dropped: queue full", "topic", m.Topic())
	}
}

// Run subscribes (again after every reconnect) and handles commands until
// ctx ends.
func (c *Commands) Run(ctx context.Context) error {
	if c.p.client.IsConnectionOpen() {
		kick(c.resub)
	}
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-c.resub:
			if err := c.subscribe(ctx); err != nil {
				c.log.Warn("subscribe failed; retrying", "filter", c.Filter(), "err", err)
				retry.Reset(5 * time.Second)
			}
		case <-retry.C:
			if c.p.client.IsConnectionOpen() {
				kick(c.resub)
			}
		case m := <-c.in:
			c.handle(ctx, m)
		}
	}
}

func (c *Commands) subscribe(ctx context.Context) error {
	t := c.p.client.Subscribe(c.Filter(), 1, c.onMessage)
	if err := c.p.awaitToken(ctx, t, "subscribe "+c.Filter()); err != nil {
		return err
	}
	if st, ok := t.(*paho.SubscribeToken); ok {
		for f, code := range st.Result() {
			if code >= 0x80 {
				return fmt.Errorf("mqtt: subscribe %s: refused by the broker (code %#x)", f, code)
			}
		}
	}
	c.log.Info("listening for commands", "filter", c.Filter())
	return nil
}

// handle verifies one command, carries it out if authentic and publishes
// the result.
func (c *Commands) handle(ctx context.Context, m inbound) {
	name := strings.TrimPrefix(m.topic, c.p.topic("cmd/"))
	b, err := c.o.Verifier.Verify(name, m.retained, m.payload)
	var r command.Result
	if err != nil {
		r = command.Rejected(name, c.o.Site, c.o.Gate, c.o.Now(), err)
		c.log.Warn("command rejected", "command", name, "id", r.ID, "operator", r.Operator,
			"reason", r.Reason, "detail", r.Detail)
	} else {
		c.log.Info("command accepted", "command", b.Name, "id", b.ID, "operator", b.Operator,
			"override", b.Args.Override)
		r = c.o.Handler(ctx, b)
		r.V, r.ID, r.Name, r.Site, r.Gate, r.Operator = command.Version, b.ID, b.Name, c.o.Site, c.o.Gate, b.Operator
		r.Time = c.o.Now().UTC()
		if r.Status == "" {
			r.Status = command.StatusOK
		}
		c.log.Info("command done", "command", b.Name, "id", b.ID, "status", r.Status, "reason", r.Reason)
	}
	payload, err := json.Marshal(r)
	if err != nil {
		c.log.Error("encode result", "err", err)
		return
	}
	if err := c.p.publishAbsolute(ctx, c.p.topic("cmd/"+name+"/result"), false, payload); err != nil {
		c.log.Warn("result not published", "command", name, "id", r.ID, "err", err)
	}
}

// LastState returns the latest state payload given to SetState.
func (p *Publisher) LastState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// publishAbsolute sends one QoS 1 message to an absolute topic and waits for its
// PUBACK (results and discovery; the outbox drain uses publish).
func (p *Publisher) publishAbsolute(ctx context.Context, topic string, retained bool, payload []byte) error {
	if !p.client.IsConnectionOpen() {
		return errors.New("mqtt: not connected")
	}
	return p.awaitToken(ctx, p.client.Publish(topic, 1, retained, payload), "publish "+topic)
}

// awaitToken waits for a token, bounded by ctx and the publish timeout.
func (p *Publisher) awaitToken(ctx context.Context, t paho.Token, what string) error {
	timer := time.NewTimer(p.o.PublishTimeout)
	defer timer.Stop()
	select {
	case <-t.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("mqtt: %s: no answer within %v", what, p.o.PublishTimeout)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("mqtt: %s: %w", what, err)
	}
	return nil
}

package mqtt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
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
	// Queue is how many authenticated commands may wait per operator, and
	// how many rejections may wait for their result; 0 means 16. A command
	// is authenticated (signature, listed key) before it is queued, so junk
	// never takes an authentic command's place. An operator's command
	// arriving while that operator's queue is full is dropped (the sender
	// times out and may send again with a new nonce); a rejection arriving
	// while the rejection queue is full is counted but not answered.
	Queue int
	// SummaryEvery is how often rejections are summarised in the log; 0
	// means a minute. Within each period the first rejection of each reason
	// is logged with its details and the rest are only counted.
	SummaryEvery time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
	Log *slog.Logger
}

// Commands receives commands on <prefix>/cmd/+, authenticates them and
// answers them on cmd/<name>/result. paho's message handler checks the
// signature (no state is touched) and hands authentic commands to a queue
// per operator and rejections to a bounded queue of results; Run's goroutine
// verifies and carries out the commands, authentic ones first.
type Commands struct {
	p       *Publisher
	o       CommandOptions
	log     *slog.Logger
	sub     *subscription
	ready   chan struct{}       // signalled when a command is queued
	rejects chan command.Result // rejections to answer
	summary *rejectLog

	mu     sync.Mutex           // guards the fields below
	queues map[string][]inbound // authenticated commands, per operator
	order  []string             // operators with queued commands, served in turn
}

type inbound struct {
	name     string // the command name, from the topic
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
	if o.SummaryEvery <= 0 {
		o.SummaryEvery = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = p.log
	}
	log := o.Log.With("component", "commands")
	c := &Commands{p: p, o: o, log: log, ready: make(chan struct{}, 1),
		rejects: make(chan command.Result, o.Queue), summary: newRejectLog(log, o.SummaryEvery),
		queues: map[string][]inbound{}}
	c.sub = p.newSubscription(c.Filter(), c.onMessage, log)
	return c, nil
}

// Filter is the subscription: <prefix>/cmd/+.
func (c *Commands) Filter() string { return c.p.topic("cmd/+") }

// onMessage is paho's handler: it never blocks. It authenticates the
// command (one Ed25519 check) and queues it under its operator, or queues
// its rejection.
func (c *Commands) onMessage(_ paho.Client, m paho.Message) {
	in := inbound{name: strings.TrimPrefix(m.Topic(), c.p.topic("cmd/")), payload: m.Payload(), retained: m.Retained()}
	b, _, err := c.o.Verifier.Authenticate(in.name, in.retained, in.payload)
	if err != nil {
		c.rejectEarly(in.name, err)
		return
	}
	c.mu.Lock()
	q := c.queues[b.Operator]
	full := len(q) >= c.o.Queue
	if !full {
		if len(q) == 0 {
			c.order = append(c.order, b.Operator)
		}
		c.queues[b.Operator] = append(q, in)
	}
	c.mu.Unlock()
	if full {
		c.summary.note(reasonQueueFull, in.name, b.ID, b.Operator, "the operator's command queue is full; dropped unanswered")
		return
	}
	kick(c.ready)
}

// reasonQueueFull is the log's reason for a dropped authentic command (it
// gets no result, so it is not a command.Reason).
const reasonQueueFull = "queue_full"

// rejectEarly counts a rejection found before queueing and queues its
// result if there is room.
func (c *Commands) rejectEarly(name string, err error) {
	r := command.Rejected(name, c.o.Site, c.o.Gate, c.o.Now(), err)
	c.summary.note(r.Reason, name, r.ID, r.Operator, r.Detail)
	select {
	case c.rejects <- r:
	default:
		c.summary.unanswered()
	}
}

// next takes the next authenticated command, one operator after another.
func (c *Commands) next() (inbound, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.order) == 0 {
		return inbound{}, false
	}
	op := c.order[0]
	q := c.queues[op]
	in := q[0]
	q[0] = inbound{}
	c.order = c.order[1:]
	if q = q[1:]; len(q) > 0 {
		c.queues[op] = q
		c.order = append(c.order, op)
	} else {
		delete(c.queues, op)
	}
	return in, true
}

// Run subscribes (again after every reconnect) and handles commands until
// ctx ends.
func (c *Commands) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { _ = c.sub.run(ctx) })
	summary := time.NewTicker(c.o.SummaryEvery)
	defer summary.Stop()
	for {
		if ctx.Err() != nil {
			return nil
		}
		// Authentic commands first: a backlog of rejections to answer
		// never delays them.
		if in, ok := c.next(); ok {
			c.handle(ctx, in)
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-c.ready:
		case r := <-c.rejects:
			if err := c.publishResult(ctx, r); err != nil {
				c.summary.notPublished()
			}
		case <-summary.C:
			c.summary.flush()
		}
	}
}

// handle verifies one authenticated command (its nonce, target, arguments
// and times), carries it out if it passes and publishes the result.
func (c *Commands) handle(ctx context.Context, m inbound) {
	b, err := c.o.Verifier.Verify(m.name, m.retained, m.payload)
	var r command.Result
	if err != nil {
		r = command.Rejected(m.name, c.o.Site, c.o.Gate, c.o.Now(), err)
		c.summary.note(r.Reason, m.name, r.ID, r.Operator, r.Detail)
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
	if err := c.publishResult(ctx, r); err != nil {
		c.log.Warn("result not published", "command", m.name, "id", r.ID, "err", err)
	}
}

func (c *Commands) publishResult(ctx context.Context, r command.Result) error {
	payload, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("mqtt: encode result: %w", err)
	}
	return c.p.publishAbsolute(ctx, c.p.topic("cmd/"+r.Name+"/result"), false, payload)
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

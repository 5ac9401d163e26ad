// Package ingest is gatewatch's MQTT consumer: it subscribes with a fixed
// client id, a persistent session (clean session false) and QoS 1, decodes
// and validates every message against configs/schema, commits them in
// batches to a store.Store and acknowledges a message (PUBACK) only after
// the batch holding it is committed. A crash therefore loses nothing: the
// broker redelivers what was not acknowledged, and the store keeps a replay
// once. While the store fails, nothing is acknowledged: messages wait at the
// broker (its in-flight window stops sending), Health reports the error, and
// the batch is retried with backoff until it commits.
package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate/central/store"
)

// Options configures an Ingest.
type Options struct {
	// Brokers are tried in turn; at least one.
	Brokers []string
	// ClientID is fixed: the broker keeps the session (and the queue) under it.
	ClientID           string
	Username, Password string
	TLS                *tls.Config
	// Prefix is the topic prefix before <site>/<gate>/ (gateguard/v1).
	Prefix string
	// BatchSize caps a batch (500 by default). A batch is what arrived
	// while the previous one was being committed (group commit), plus what
	// arrives within BatchWait.
	BatchSize int
	// BatchWait is how long a batch waits for more messages after its
	// first (0: none; the broker's in-flight window bounds what can arrive
	// before an acknowledgement anyway).
	BatchWait time.Duration
	// KeepAlive is the MQTT keep-alive (30 s by default).
	KeepAlive time.Duration
	// RetryMin and RetryMax bound the backoff between commit attempts
	// while the store fails (0.5 s and 30 s by default).
	RetryMin, RetryMax time.Duration
	// Log receives connection and store problems; nil discards.
	Log *slog.Logger
	// Now is the clock for received times; nil is time.Now.
	Now func() time.Time
}

// Health is what the ingest reports on the API.
type Health struct {
	BrokerConnected bool      `json:"broker_connected"`
	StoreOK         bool      `json:"store_ok"`
	StoreError      string    `json:"store_error,omitempty"`
	StoreErrorSince time.Time `json:"store_error_since,omitzero"`
	LastCommit      time.Time `json:"last_commit,omitzero"`
	Committed       uint64    `json:"committed"`   // messages acknowledged after a commit
	Batches         uint64    `json:"batches"`     // commits
	Quarantined     uint64    `json:"quarantined"` // of which quarantined
	Duplicates      uint64    `json:"duplicates"`  // events and alerts received again
}

// Message is a received message as the ingest needs it; paho.Message
// implements it.
type Message interface {
	Topic() string
	Payload() []byte
	Ack()
}

// Ingest consumes the gates' messages into a store.
type Ingest struct {
	st  store.Store
	o   Options
	dec Decoder
	log *slog.Logger
	in  chan Message

	mu         sync.Mutex // guards the fields below
	health     Health
	pingFailed bool // the store error came from a ping, not a refused commit
	client     paho.Client
}

// New returns an Ingest into st; Run starts it.
func New(st store.Store, o Options) (*Ingest, error) {
	if len(o.Brokers) == 0 {
		return nil, errors.New("ingest: no broker")
	}
	if o.ClientID == "" {
		return nil, errors.New("ingest: no client id")
	}
	if o.Prefix == "" {
		o.Prefix = "gateguard/v1"
	}
	if o.BatchSize <= 0 {
		o.BatchSize = 500
	}
	if o.KeepAlive <= 0 {
		o.KeepAlive = 30 * time.Second
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 500 * time.Millisecond
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(30*time.Second, o.RetryMin)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	set, err := schema.Load()
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	in := &Ingest{st: st, o: o, dec: Decoder{Prefix: o.Prefix, Schemas: set}, log: log,
		in: make(chan Message, 2*o.BatchSize)}
	in.health.StoreOK = true
	return in, nil
}

// Health returns the current health.
func (in *Ingest) Health() Health {
	in.mu.Lock()
	defer in.mu.Unlock()
	h := in.health
	if in.client != nil {
		h.BrokerConnected = in.client.IsConnectionOpen()
	}
	return h
}

// Run connects (retrying with backoff while the broker is down) and
// consumes until ctx is cancelled. Messages received but not committed when
// ctx ends are not acknowledged: the broker sends them again.
func (in *Ingest) Run(ctx context.Context) error {
	opts := paho.NewClientOptions().SetClientID(in.o.ClientID).SetCleanSession(false).
		SetOrderMatters(true).SetAutoAckDisabled(true).SetKeepAlive(in.o.KeepAlive).
		SetAutoReconnect(true).SetConnectRetry(false).
		SetMaxReconnectInterval(30 * time.Second).SetConnectTimeout(10 * time.Second).
		SetResumeSubs(false).SetWriteTimeout(10 * time.Second)
	for _, b := range in.o.Brokers {
		opts.AddBroker(b)
	}
	if in.o.Username != "" {
		opts.SetUsername(in.o.Username).SetPassword(in.o.Password)
	}
	if in.o.TLS != nil {
		opts.SetTLSConfig(in.o.TLS)
	}
	filters := map[string]byte{}
	for _, f := range Filters(in.o.Prefix) {
		filters[f] = 1
	}
	handler := func(_ paho.Client, m paho.Message) {
		select {
		case in.in <- m:
		case <-ctx.Done():
			// Not acknowledged: redelivered to the next session.
		}
	}
	opts.SetDefaultPublishHandler(handler)
	opts.SetOnConnectHandler(func(c paho.Client) {
		in.log.Info("broker connected", "client_id", in.o.ClientID)
		go func() {
			// Subscribing waits for SUBACK, which the connect handler must
			// not block. Its lifetime is one connection.
			t := c.SubscribeMultiple(filters, handler)
			if !t.WaitTimeout(30*time.Second) || t.Error() != nil {
				in.log.Error("subscribe failed", "err", t.Error())
				c.Disconnect(0) // reconnect and try again
			}
		}()
	})
	opts.SetConnectionLostHandler(func(_ paho.Client, err error) {
		in.log.Warn("broker connection lost", "err", err)
	})
	opts.SetReconnectingHandler(func(_ paho.Client, _ *paho.ClientOptions) {
		in.log.Info("broker reconnecting")
	})
	c := paho.NewClient(opts)
	in.mu.Lock()
	in.client = c
	in.mu.Unlock()
	var wg sync.WaitGroup
	defer wg.Wait()
	defer c.Disconnect(0)
	wg.Go(func() { in.connect(ctx, c) })
	return in.loop(ctx)
}

// connect makes the first connection, retrying with exponential backoff
// (RetryMin doubling to RetryMax) while the broker is down; paho's
// auto-reconnect takes over after it.
func (in *Ingest) connect(ctx context.Context, c paho.Client) {
	delay := in.o.RetryMin
	for attempt := 1; ; attempt++ {
		t := c.Connect()
		select {
		case <-t.Done():
		case <-ctx.Done():
			return
		}
		if t.Error() == nil {
			return
		}
		if attempt == 1 || attempt%10 == 0 {
			in.log.Warn("broker unreachable: retrying", "err", t.Error(), "attempt", attempt, "in", delay)
		}
		tm := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			tm.Stop()
			return
		case <-tm.C:
		}
		delay = min(2*delay, in.o.RetryMax)
	}
}

// Consume runs the batching loop over messages sent on msgs, without MQTT
// (tests, other transports). It returns when ctx is cancelled.
func (in *Ingest) Consume(ctx context.Context, msgs <-chan Message) error {
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case m := <-msgs:
				select {
				case in.in <- m:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return in.loop(ctx)
}

// loop gathers batches, commits them and acknowledges their messages.
//
// Two stages overlap: while one batch commits, the next is gathered and
// decoded (schema validation is a good part of the work). Batches commit,
// and are acknowledged, in the order they were gathered.
func (in *Ingest) loop(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoded := make(chan pending) // unbuffered: at most one batch decoded ahead
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		for {
			var first Message
			select {
			case <-ctx.Done():
				return
			case first = <-in.in:
			}
			msgs := in.gather(ctx, first)
			select {
			case decoded <- pending{msgs: msgs, batch: in.decode(msgs)}:
			case <-ctx.Done():
				return // not acknowledged: redelivered
			}
		}
	})
	ping := time.NewTicker(10 * time.Second)
	defer ping.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			in.checkStore(ctx)
		case p := <-decoded:
			if err := in.commit(ctx, p); err != nil {
				return nil // ctx ended mid-retry: nothing acknowledged
			}
		}
	}
}

// pending is a gathered batch: its messages and their decoded rows.
type pending struct {
	msgs  []Message
	batch *store.Batch
}

// decode turns messages into one batch.
func (in *Ingest) decode(msgs []Message) *store.Batch {
	b := &store.Batch{}
	now := in.o.Now().UTC()
	for _, m := range msgs {
		in.dec.Add(b, m.Topic(), m.Payload(), now)
	}
	return b
}

// gather collects first and whatever is waiting, up to BatchSize, waiting
// up to BatchWait for more.
func (in *Ingest) gather(ctx context.Context, first Message) []Message {
	msgs := []Message{first}
	var wait <-chan time.Time
	if in.o.BatchWait > 0 {
		t := time.NewTimer(in.o.BatchWait)
		defer t.Stop()
		wait = t.C
	}
	for len(msgs) < in.o.BatchSize {
		if wait == nil {
			select {
			case m := <-in.in:
				msgs = append(msgs, m)
				continue
			default:
				return msgs
			}
		}
		select {
		case m := <-in.in:
			msgs = append(msgs, m)
		case <-wait:
			return msgs
		case <-ctx.Done():
			return msgs
		}
	}
	return msgs
}

// commit commits a decoded batch, retrying with backoff
// while the store fails, then acknowledges every message. It returns an
// error only when ctx ends first (then nothing is acknowledged).
func (in *Ingest) commit(ctx context.Context, p pending) error {
	msgs := p.msgs
	delay := in.o.RetryMin
	for attempt := 1; ; attempt++ {
		res, err := in.st.Commit(ctx, p.batch)
		if err == nil {
			in.committed(res, len(msgs), attempt)
			for _, m := range msgs {
				m.Ack()
			}
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		in.failed(err, attempt, len(msgs))
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		delay = min(2*delay, in.o.RetryMax)
	}
}

func (in *Ingest) committed(res store.CommitResult, n, attempts int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.health.StoreOK {
		in.log.Info("store back: committing again", "attempts", attempts, "down_for", in.o.Now().Sub(in.health.StoreErrorSince).Round(time.Millisecond))
	}
	in.health.StoreOK, in.health.StoreError, in.health.StoreErrorSince, in.pingFailed = true, "", time.Time{}, false
	in.health.LastCommit = in.o.Now().UTC()
	in.health.Committed += uint64(n)
	in.health.Batches++
	in.health.Quarantined += uint64(res.Quarantined)
	in.health.Duplicates += uint64(res.DuplicateEvents + res.DuplicateAlerts)
	if res.Quarantined > 0 {
		in.log.Warn("messages quarantined", "count", res.Quarantined)
	}
}

func (in *Ingest) failed(err error, attempt, n int) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.health.StoreOK {
		in.health.StoreErrorSince = in.o.Now().UTC()
	}
	in.health.StoreOK, in.health.StoreError, in.pingFailed = false, err.Error(), false
	// First failure, then every 10th attempt: the log says it, not floods it.
	if attempt == 1 || attempt%10 == 0 {
		in.log.Error("store commit failed: not acknowledging, messages wait at the broker", "err", err, "attempt", attempt, "batch", n)
	}
}

// checkStore pings the store while idle, so a database that went away is
// reported before the next message arrives.
func (in *Ingest) checkStore(ctx context.Context) {
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err := in.st.Ping(pctx)
	in.mu.Lock()
	defer in.mu.Unlock()
	switch {
	case err != nil && ctx.Err() == nil:
		if in.health.StoreOK {
			in.health.StoreErrorSince = in.o.Now().UTC()
			in.log.Error("store unreachable", "err", err)
		}
		in.health.StoreOK, in.health.StoreError, in.pingFailed = false, err.Error(), true
	case err == nil && in.pingFailed:
		// Only a ping had failed (no commit was refused): answered again.
		in.health.StoreOK, in.health.StoreError, in.health.StoreErrorSince, in.pingFailed = true, "", time.Time{}, false
	}
}

// Package mqtt publishes a gate's outbox and state to the central broker with
// paho.mqtt.golang, following the topic tree in docs/mqtt.md:
// <prefix>/<site>/<gate>/{availability,info,state,event/access,event/alert}.
//
// The gate never waits on it: the gate records into the outbox, and this
// package's Run goroutine drains the outbox in order with QoS 1, removing a
// message only after the broker's PUBACK. availability is retained, with an
// "offline" Last Will; info and state are retained.
//
// Delivery is at least once, in order: Run keeps a window of QoS 1 publishes
// in flight, deletes the acknowledged prefix from the outbox in one
// transaction, and after any connection problem drops the connection and
// starts again from the oldest message not deleted. paho's tokens are
// trusted only within the connection they were issued on (a token can
// complete across a reconnect without delivery) and paho's own store is not
// relied on: the outbox is the only queue. Messages that were waiting in the
// outbox when a connection opened (recorded while disconnected, or sent
// before and not acknowledged) are published with "replayed": true.
package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate"
)

// Source is the outbox as the publisher sees it.
type Source interface {
	// Peek returns up to n of the oldest messages, oldest first.
	Peek(n int) ([]gate.Message, error)
	// Ack removes the oldest message, whose sequence number is seq.
	Ack(seq uint64) error
	// Ready is signalled when a message is recorded.
	Ready() <-chan struct{}
}

// WindowSource is a Source that lets the publisher keep many messages in
// flight and delete a run of them at once; outbox.Memory and outbox.Durable
// implement it. With a plain Source the publisher falls back to Peek and Ack.
type WindowSource interface {
	Source
	// PeekAfter returns up to n of the oldest messages numbered above seq.
	PeekAfter(seq uint64, n int) ([]gate.Message, error)
	// AckThrough removes every message numbered up to seq.
	AckThrough(seq uint64) error
	// Depth returns the number of messages not yet removed.
	Depth() int
	// LastSeq returns the highest sequence number recorded.
	LastSeq() uint64
}

// SnapshotSource is the outbox's snapshot store as the publisher sees it;
// outbox.Durable and outbox.Memory implement it. Storing a snapshot must signal the Source's
// Ready.
type SnapshotSource interface {
	// PendingSnapshots returns the hashes of up to n stored snapshots, oldest first.
	PendingSnapshots(n int) ([]string, error)
	// Snapshot returns a stored snapshot; ok is false when it is gone.
	Snapshot(hash string) (data []byte, ok bool, err error)
	// DeleteSnapshot removes a delivered snapshot.
	DeleteSnapshot(hash string) error
}

// Options configures a Publisher.
type Options struct {
	// Brokers are the broker URLs; each connection attempt tries them in
	// turn, so the publisher fails over to the next when one is down.
	Brokers []string
	// Broker is a single broker URL, used when Brokers is empty.
	Broker         string
	ClientID       string
	Username       string
	Password       string
	TLS            *tls.Config
	Prefix         string // <prefix>/<site>/<gate>, without a trailing slash
	KeepAlive      time.Duration
	ConnectTimeout time.Duration
	PublishTimeout time.Duration
	// Info is the retained info payload (version, config hash, calibration id).
	Info []byte
	Log  *slog.Logger
	// Window is how many QoS 1 publishes may await their PUBACK at once
	// (default 1024); 1 publishes one message at a time.
	Window int
	// RetryMin and RetryMax bound the wait between connection attempts
	// (defaults 500ms and 30s); it doubles after each failure.
	RetryMin, RetryMax time.Duration
	// Snapshots, when set, is the outbox's snapshot store: the publisher
	// sends each stored snapshot on snapshot/<hash> once the events before
	// it are delivered, and deletes it after its PUBACK. Nil publishes no
	// images (outbox.publish_snapshots: false); alerts still carry the hash.
	Snapshots SnapshotSource
	// OnConnect, when set, is called after every successful connection
	// (Run reconnects itself, with a clean session, so subscriptions must be
	// made again each time). It runs on paho's goroutine and must not block.
	OnConnect func(c paho.Client)
}

// Publisher drains an outbox to a broker. Create it with New and run it with Run.
type Publisher struct {
	o         Options
	src       Source
	win       WindowSource // src, or an adapter over a plain Source
	log       *slog.Logger
	client    paho.Client
	brokers   []string
	trying    atomic.Pointer[string] // the broker of the latest connection attempt
	connected chan struct{}          // signalled on every connect
	lostCh    chan struct{}          // signalled on every connection loss
	stateKick chan struct{}
	epoch     atomic.Uint64 // counts connection losses and resets

	mu        sync.Mutex // guards the fields below
	state     []byte
	onConnect []func() // hooks run on every (re)connect; see OnConnect

	// Owned by Run's goroutine.
	replayThrough uint64    // messages up to this seq are published as replayed
	stateDepth    int       // outbox depth in the last state published; -1 when none
	stateAt       time.Time // when the last state was published
	stats         Stats
}

// Stats counts what a publisher has done since New.
type Stats struct {
	Published uint64 // messages acknowledged by the broker and removed
	Snapshots uint64 // snapshots acknowledged by the broker and removed
	Replayed  uint64 // of which published with "replayed": true
	Resent    uint64 // publishes abandoned with their connection and sent again
	Connects  uint64 // successful connections
}

var _ gate.StateSink = (*Publisher)(nil)

// New returns a publisher; it does not connect until Run.
func New(o Options, src Source) *Publisher {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.PublishTimeout <= 0 {
		o.PublishTimeout = 10 * time.Second
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Window <= 0 {
		o.Window = 1024
	}
	if o.RetryMin <= 0 {
		o.RetryMin = 500 * time.Millisecond
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = max(o.RetryMin, 30*time.Second)
	}
	p := &Publisher{
		o:          o,
		src:        src,
		log:        o.Log.With("component", "mqtt"),
		connected:  make(chan struct{}, 1),
		lostCh:     make(chan struct{}, 1),
		stateKick:  make(chan struct{}, 1),
		stateDepth: -1,
	}
	p.brokers = o.Brokers
	if len(p.brokers) == 0 {
		p.brokers = []string{o.Broker}
	}
	if w, ok := src.(WindowSource); ok {
		p.win = w
	} else {
		p.win = &plainSource{Source: src, window: o.Window}
	}
	// Run reconnects itself (AutoReconnect off): when a connection is lost,
	// paho then fails every publish still in flight, instead of keeping its
	// tokens across the reconnect.
	opts := paho.NewClientOptions()
	for _, b := range p.brokers {
		opts.AddBroker(b)
	}
	opts.SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(true).
		SetOrderMatters(false).
		SetKeepAlive(o.KeepAlive).
		SetConnectTimeout(o.ConnectTimeout).
		SetAutoReconnect(false).
		SetConnectRetry(false).
		SetWill(o.Prefix+"/"+gate.TopicAvailability, "offline", 1, true).
		SetConnectionAttemptHandler(func(u *url.URL, tc *tls.Config) *tls.Config {
			s := u.Redacted()
			p.trying.Store(&s)
			return tc
		}).
		SetOnConnectHandler(func(c paho.Client) {
			p.log.Info("connected", "broker", p.broker())
			kick(p.connected)
			p.runOnConnect()
			if o.OnConnect != nil {
				o.OnConnect(c)
			}
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.epoch.Add(1)
			p.log.Warn("connection lost", "err", err)
			kick(p.lostCh)
		})
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	p.client = paho.NewClient(opts)
	return p
}

// broker returns the broker of the latest connection attempt: the one
// connected to, once connected.
func (p *Publisher) broker() string {
	if s := p.trying.Load(); s != nil {
		return *s
	}
	return p.brokers[0]
}

func kick(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// OnConnect registers fn to run on every (re)connect, from paho's
// goroutine: fn must not block (it should signal its own goroutine, which
// then subscribes again). Register hooks before Run.
func (p *Publisher) OnConnect(fn func()) {
	p.mu.Lock()
	p.onConnect = append(p.onConnect, fn)
	p.mu.Unlock()
}

func (p *Publisher) runOnConnect() {
	p.mu.Lock()
	hooks := append([]func(){}, p.onConnect...)
	p.mu.Unlock()
	for _, fn := range hooks {
		fn()
	}
}

// SetState stores the latest state payload; it is published, retained, as
// soon as the connection allows, with outbox_depth kept current. It never
// blocks.
func (p *Publisher) SetState(payload []byte) {
	p.mu.Lock()
	p.state = payload
	p.mu.Unlock()
	kick(p.stateKick)
}

// Stats returns the publisher's counters. Call it after Run has returned.
func (p *Publisher) Stats() Stats { return p.stats }

// Run connects, publishes availability, info and state on every connect,
// and drains the outbox until ctx ends, reconnecting with backoff whenever
// the connection fails. On the way out it publishes availability "offline"
// and disconnects.
func (p *Publisher) Run(ctx context.Context) error {
	wait := p.o.RetryMin
	for ctx.Err() == nil {
		if err := p.connect(ctx); err != nil {
			if ctx.Err() != nil {
				break
			}
			p.log.Warn("connect failed", "brokers", p.brokers, "err", err, "retry_in", wait)
			select {
			case <-ctx.Done():
			case <-time.After(wait):
			}
			wait = min(2*wait, p.o.RetryMax)
			continue
		}
		p.stats.Connects++
		began, published := time.Now(), p.stats.Published
		err := p.session(ctx)
		if ctx.Err() != nil {
			break
		}
		// Fail every token still in flight on this connection, and make
		// sure none is trusted if it completes anyway.
		p.epoch.Add(1)
		p.client.Disconnect(0)
		if p.stats.Published > published || time.Since(began) > p.o.RetryMax {
			wait = p.o.RetryMin // the connection worked: retry at once
			p.log.Warn("connection dropped; reconnecting", "err", err)
			continue
		}
		// A connection that achieved nothing (an outbox read error, a
		// broker that drops us at once): back off as after a failed connect.
		p.log.Warn("connection dropped; reconnecting", "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
		wait = min(2*wait, p.o.RetryMax)
	}
	if p.client.IsConnectionOpen() {
		t := p.client.Publish(p.topic(gate.TopicAvailability), 1, true, "offline")
		t.WaitTimeout(2 * time.Second)
		p.client.Disconnect(250)
	}
	return nil
}

// connect makes one connection attempt, bounded by ConnectTimeout.
func (p *Publisher) connect(ctx context.Context) error {
	t := p.client.Connect()
	select {
	case <-t.Done():
	case <-ctx.Done():
		t.WaitTimeout(p.o.ConnectTimeout)
		return ctx.Err()
	}
	return t.Error()
}

var errLost = errors.New("mqtt: connection lost")

// depthEvery bounds how often a changed outbox depth alone republishes the
// retained state.
const depthEvery = time.Second

// session announces the gate and drains the outbox until the connection
// fails (its error) or ctx ends (nil).
func (p *Publisher) session(ctx context.Context) error {
	epoch := p.epoch.Load()
	if !p.client.IsConnectionOpen() {
		return errLost
	}
	// Everything already in the outbox is sent late: mark it replayed.
	p.replayThrough = p.win.LastSeq()
	if err := p.announce(ctx, epoch); err != nil {
		return fmt.Errorf("announce: %w", err)
	}
	// A changed outbox depth is republished at most once per depthEvery.
	depthDue := time.NewTimer(time.Hour)
	depthDue.Stop()
	defer depthDue.Stop()
	armed := false
	for {
		more, err := p.drain(ctx, epoch)
		if err == nil && !more && p.o.Snapshots != nil {
			more, err = p.drainSnapshots(ctx, epoch)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		if d := p.win.Depth(); d != p.stateDepth && !armed {
			depthDue.Reset(max(depthEvery-time.Since(p.stateAt), 0))
			armed = true
		}
		if more {
			select {
			case <-depthDue.C:
				armed = false
				if err := p.publishState(ctx, epoch); err != nil {
					return err
				}
			default:
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.src.Ready():
		case <-depthDue.C:
			armed = false
			if p.win.Depth() != p.stateDepth {
				if err := p.publishState(ctx, epoch); err != nil {
					return err
				}
			}
		case <-p.stateKick:
			if err := p.publishState(ctx, epoch); err != nil {
				return err
			}
		case <-p.lostCh:
			if p.epoch.Load() != epoch {
				return errLost
			}
		}
	}
}

func (p *Publisher) topic(rel string) string { return p.o.Prefix + "/" + rel }

// announce publishes the retained availability, info and state.
func (p *Publisher) announce(ctx context.Context, epoch uint64) error {
	if err := p.publish(ctx, epoch, gate.TopicAvailability, true, []byte("online")); err != nil {
		return err
	}
	if len(p.o.Info) > 0 {
		if err := p.publish(ctx, epoch, gate.TopicInfo, true, p.o.Info); err != nil {
			return err
		}
	}
	return p.publishState(ctx, epoch)
}

// publishState publishes the latest state with the current outbox depth.
func (p *Publisher) publishState(ctx context.Context, epoch uint64) error {
	p.mu.Lock()
	s := p.state
	p.mu.Unlock()
	if s == nil {
		return nil
	}
	depth := p.win.Depth()
	if patched, err := setDepth(s, depth); err == nil {
		s = patched
	} else {
		p.log.Warn("state payload: outbox_depth not updated", "err", err)
	}
	if err := p.publish(ctx, epoch, gate.TopicState, true, s); err != nil {
		return err
	}
	p.stateDepth, p.stateAt = depth, time.Now()
	return nil
}

// publish sends one QoS 1 message and waits for its PUBACK on this connection.
func (p *Publisher) publish(ctx context.Context, epoch uint64, rel string, retained bool, payload []byte) error {
	if !p.client.IsConnectionOpen() {
		return errors.New("mqtt: not connected")
	}
	t := p.client.Publish(p.topic(rel), 1, retained, payload)
	timer := time.NewTimer(p.o.PublishTimeout)
	defer timer.Stop()
	if err := p.await(ctx, epoch, t, timer); err != nil {
		return fmt.Errorf("mqtt: publish %s: %w", rel, err)
	}
	return nil
}

// await waits for t and reports whether it completed without error on the
// connection it was issued on (epoch).
func (p *Publisher) await(ctx context.Context, epoch uint64, t paho.Token, timer *time.Timer) error {
	select {
	case <-t.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return fmt.Errorf("no PUBACK within %v", p.o.PublishTimeout)
	}
	if err := t.Error(); err != nil {
		return err
	}
	if p.epoch.Load() != epoch {
		return errLost // completed, but across a connection loss: not trusted
	}
	return nil
}

// Connected reports whether the broker connection is open now.
func (p *Publisher) Connected() bool { return p.client.IsConnectionOpen() }

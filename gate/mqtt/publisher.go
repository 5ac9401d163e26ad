// Package mqtt publishes a gate's outbox and state to the central broker with
// paho.mqtt.golang, following the topic tree in docs/mqtt.md:
// <prefix>/<site>/<gate>/{availability,info,state,event/access,event/alert}.
//
// The gate never waits on it: the gate records into the outbox, and this
// package's Run goroutine drains the outbox in order with QoS 1, removing a
// message only after the broker's PUBACK. availability is retained, with an
// "offline" Last Will; info and state are retained.
package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync"
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

// Options configures a Publisher.
type Options struct {
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
}

// Publisher drains an outbox to a broker. Create it with New and run it with Run.
type Publisher struct {
	o         Options
	src       Source
	log       *slog.Logger
	client    paho.Client
	connected chan struct{} // signalled on every (re)connect
	stateKick chan struct{}

	mu        sync.Mutex // guards the fields below
	state     []byte
	onConnect []func() // hooks run on every (re)connect; see OnConnect
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
	p := &Publisher{
		o:         o,
		src:       src,
		log:       o.Log.With("component", "mqtt"),
		connected: make(chan struct{}, 1),
		stateKick: make(chan struct{}, 1),
	}
	opts := paho.NewClientOptions().
		AddBroker(o.Broker).
		SetClientID(o.ClientID).
		SetUsername(o.Username).
		SetPassword(o.Password).
		SetCleanSession(true).
		SetOrderMatters(false).
		SetKeepAlive(o.KeepAlive).
		SetConnectTimeout(o.ConnectTimeout).
		SetAutoReconnect(true).
		SetConnectRetry(true).
		SetConnectRetryInterval(time.Second).
		SetMaxReconnectInterval(30*time.Second).
		SetWill(o.Prefix+"/"+gate.TopicAvailability, "offline", 1, true).
		SetOnConnectHandler(func(paho.Client) {
			p.log.Info("connected", "broker", o.Broker)
			kick(p.connected)
			p.runOnConnect()
		}).
		SetConnectionLostHandler(func(_ paho.Client, err error) {
			p.log.Warn("connection lost", "err", err)
		})
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	p.client = paho.NewClient(opts)
	return p
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
// soon as the connection allows. It never blocks.
func (p *Publisher) SetState(payload []byte) {
	p.mu.Lock()
	p.state = payload
	p.mu.Unlock()
	kick(p.stateKick)
}

// Run connects (retrying in the background), publishes availability, info
// and state on every connect, and drains the outbox until ctx ends. On the
// way out it publishes availability "offline" and disconnects.
func (p *Publisher) Run(ctx context.Context) error {
	p.client.Connect() // with ConnectRetry, completion is signalled through OnConnect
	defer func() {
		if p.client.IsConnectionOpen() {
			t := p.client.Publish(p.topic(gate.TopicAvailability), 1, true, "offline")
			t.WaitTimeout(2 * time.Second)
		}
		p.client.Disconnect(250)
	}()
	online := false
	for {
		if !online || !p.client.IsConnectionOpen() {
			online = false
			select {
			case <-ctx.Done():
				return nil
			case <-p.connected:
			}
			if err := p.announce(ctx); err != nil {
				p.log.Warn("announce failed", "err", err)
				continue
			}
			online = true
		}
		if err := p.drain(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			p.log.Warn("publish failed; waiting for the connection", "err", err)
			online = false
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-p.src.Ready():
		case <-p.stateKick:
			if err := p.publishState(ctx); err != nil {
				online = false
			}
		case <-p.connected:
			online = false
			kick(p.connected)
		}
	}
}

func (p *Publisher) topic(rel string) string { return p.o.Prefix + "/" + rel }

// announce publishes the retained availability, info and state.
func (p *Publisher) announce(ctx context.Context) error {
	if err := p.publish(ctx, gate.TopicAvailability, true, []byte("online")); err != nil {
		return err
	}
	if len(p.o.Info) > 0 {
		if err := p.publish(ctx, gate.TopicInfo, true, p.o.Info); err != nil {
			return err
		}
	}
	return p.publishState(ctx)
}

func (p *Publisher) publishState(ctx context.Context) error {
	p.mu.Lock()
	s := p.state
	p.mu.Unlock()
	if s == nil {
		return nil
	}
	return p.publish(ctx, gate.TopicState, true, s)
}

// drain publishes outbox messages in order until it is empty.
func (p *Publisher) drain(ctx context.Context) error {
	for {
		batch, err := p.src.Peek(64)
		if err != nil {
			return fmt.Errorf("mqtt: read outbox: %w", err)
		}
		if len(batch) == 0 {
			return nil
		}
		for _, m := range batch {
			if err := p.publish(ctx, m.Topic, false, m.Payload); err != nil {
				return err
			}
			if err := p.src.Ack(m.Seq); err != nil {
				return fmt.Errorf("mqtt: ack %d: %w", m.Seq, err)
			}
		}
	}
}

// publish sends one QoS 1 message and waits for its PUBACK.
func (p *Publisher) publish(ctx context.Context, rel string, retained bool, payload []byte) error {
	if !p.client.IsConnectionOpen() {
		return errors.New("mqtt: not connected")
	}
	t := p.client.Publish(p.topic(rel), 1, retained, payload)
	select {
	case <-t.Done():
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(p.o.PublishTimeout):
		return fmt.Errorf("mqtt: publish %s: no PUBACK within %v", rel, p.o.PublishTimeout)
	}
	if err := t.Error(); err != nil {
		return fmt.Errorf("mqtt: publish %s: %w", rel, err)
	}
	return nil
}

package console

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate/central/store"
	"github.com/gateguard/gateguard/gate/command"
)

// Commander sends a signed command to a gate and waits for its result.
type Commander interface {
	// Send signs a command named name for site/gate with args, carrying
	// requestID (which names the guard), publishes it and returns the
	// gate's result; ErrNoResult when none arrives in time.
	Send(ctx context.Context, site, gateName, name string, args command.Args, requestID string) (command.Result, error)
}

// ErrNoResult is returned when a gate does not answer a command in time.
var ErrNoResult = errors.New("console: no result from the gate")

// MQTTOptions configures an MQTTCommander.
type MQTTOptions struct {
	Brokers            []string
	ClientID           string
	Username, Password string
	TLS                *tls.Config
	Prefix             string // gateguard/v1 if empty
	// Operator and Key sign the commands: the deployment's operator key as
	// the gates list it.
	Operator string
	Key      ed25519.PrivateKey
	// Timeout is how long Send waits for a result (10 s if zero).
	Timeout time.Duration
	Log     *slog.Logger
}

// MQTTCommander publishes signed commands on <prefix>/<site>/<gate>/cmd/<name>
// (QoS 1, not retained) and collects results from cmd/<name>/result, over
// its own connection with gatewatch's broker credentials.
type MQTTCommander struct {
	o      MQTTOptions
	client paho.Client
	log    *slog.Logger

	mu      sync.Mutex // guards the fields below
	waiting map[string]chan command.Result
	nonce   uint64
}

// NewMQTTCommander connects (paho retries in the background) and
// subscribes to results.
func NewMQTTCommander(o MQTTOptions) (*MQTTCommander, error) {
	if len(o.Brokers) == 0 || o.Operator == "" || len(o.Key) != ed25519.PrivateKeySize {
		return nil, errors.New("console: commands need brokers, an operator id and its Ed25519 key")
	}
	if o.Prefix == "" {
		o.Prefix = "gateguard/v1"
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	m := &MQTTCommander{o: o, log: o.Log, waiting: map[string]chan command.Result{}}
	filter := strings.TrimSuffix(o.Prefix, "/") + "/+/+/cmd/+/result"
	opts := paho.NewClientOptions().SetClientID(o.ClientID).SetCleanSession(true).SetAutoReconnect(true).
		SetConnectRetry(true).SetConnectRetryInterval(2 * time.Second).SetMaxReconnectInterval(30 * time.Second).
		SetKeepAlive(30 * time.Second).SetWriteTimeout(10 * time.Second)
	for _, b := range o.Brokers {
		opts.AddBroker(b)
	}
	if o.Username != "" {
		opts.SetUsername(o.Username).SetPassword(o.Password)
	}
	if o.TLS != nil {
		opts.SetTLSConfig(o.TLS)
	}
	opts.SetOnConnectHandler(func(c paho.Client) {
		go func() {
			t := c.Subscribe(filter, 1, m.onResult)
			if !t.WaitTimeout(30*time.Second) || t.Error() != nil {
				m.log.Error("console: subscribe to command results failed", "err", t.Error())
			}
		}()
	})
	m.client = paho.NewClient(opts)
	m.client.Connect() // retried in the background (SetConnectRetry)
	return m, nil
}

// Close disconnects.
func (m *MQTTCommander) Close() { m.client.Disconnect(250) }

func (m *MQTTCommander) onResult(_ paho.Client, msg paho.Message) {
	r, err := command.ParseResult(msg.Payload())
	if err != nil {
		m.log.Warn("console: unreadable command result", "topic", msg.Topic(), "err", err)
		return
	}
	m.mu.Lock()
	ch := m.waiting[r.ID]
	m.mu.Unlock()
	if ch != nil {
		select {
		case ch <- *r:
		default:
		}
	}
}

// nextNonce is the issue time in microseconds, strictly increasing.
func (m *MQTTCommander) nextNonce(now time.Time) uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := uint64(now.UnixMicro())
	if n <= m.nonce {
		n = m.nonce + 1
	}
	m.nonce = n
	return n
}

// Send implements Commander.
func (m *MQTTCommander) Send(ctx context.Context, site, gateName, name string, args command.Args, requestID string) (command.Result, error) {
	now := time.Now().UTC()
	b := command.Body{ID: requestID, Name: name, Site: site, Gate: gateName, Operator: m.o.Operator,
		Nonce: m.nextNonce(now), Issued: now, Expires: now.Add(m.o.Timeout + 20*time.Second), Args: args}
	payload, err := command.Sign(b, m.o.Key)
	if err != nil {
		return command.Result{}, fmt.Errorf("console: sign %s: %w", name, err)
	}
	ch := make(chan command.Result, 1)
	m.mu.Lock()
	m.waiting[requestID] = ch
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.waiting, requestID)
		m.mu.Unlock()
	}()
	topic := strings.TrimSuffix(m.o.Prefix, "/") + "/" + site + "/" + gateName + "/cmd/" + name
	t := m.client.Publish(topic, 1, false, payload)
	ctx, cancel := context.WithTimeout(ctx, m.o.Timeout)
	defer cancel()
	select {
	case <-t.Done():
		if t.Error() != nil {
			return command.Result{}, fmt.Errorf("console: publish %s: %w", topic, t.Error())
		}
	case <-ctx.Done():
		return command.Result{}, fmt.Errorf("console: publish %s: %w", topic, ErrNoResult)
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return command.Result{}, ErrNoResult
	}
}

// requestID names the guard in the command's request id, which the gate
// records in its remote_open / mode_change event ("request") and echoes in
// the result: <user>.<random>.
func requestID(username string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := username + "." + hex.EncodeToString(b[:])
	if len(id) > 64 {
		id = id[len(id)-64:]
	}
	return id
}

type commandResult struct {
	Key  string
	Args []any
	OK   bool
}

// command handles POST /gates/{site}/{gate}/{open|set_mode}.
func (c *Console) command(w http.ResponseWriter, r *http.Request, u User) {
	site, gateName, name := r.PathValue("site"), r.PathValue("gate"), r.PathValue("cmd")
	lang := u.Language
	res := func(status int, cr commandResult) {
		w.WriteHeader(status)
		c.fragment(w, lang, "gates", "result", cr)
	}
	if name != command.Open && name != command.SetMode {
		http.NotFound(w, r)
		return
	}
	if c.o.Commander == nil {
		res(http.StatusServiceUnavailable, commandResult{Key: "gates.no_commands"})
		return
	}
	var args command.Args
	if name == command.SetMode {
		args.Mode = r.PostFormValue("mode")
		if !slices.Contains(command.Modes, args.Mode) {
			res(http.StatusBadRequest, commandResult{Key: "error.bad_request", Args: []any{"mode"}})
			return
		}
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if r.PostFormValue("override") != "" {
		if u.Role != RoleAdmin {
			c.audit(r, u.Username, "denied", site+"/"+gateName, name+" override: role "+u.Role)
			res(http.StatusForbidden, commandResult{Key: "gates.override.admin_only"})
			return
		}
		if reason == "" {
			res(http.StatusBadRequest, commandResult{Key: "gates.override.need_reason"})
			return
		}
		args.Override = true
	}
	if key, args := reasonProblem(reason); key != "" {
		res(http.StatusBadRequest, commandResult{Key: key, Args: args})
		return
	}
	// The reason travels in the signed command: the gate records it in
	// its event (operator_reason), so the central log shows it.
	args.Reason = reason
	id := requestID(u.Username)
	detail := fmt.Sprintf("%s request=%s mode=%s override=%t reason=%q", name, id, args.Mode, args.Override, reason)
	result, err := c.o.Commander.Send(r.Context(), site, gateName, name, args, id)
	label := T(lang, "gates.open")
	if name == command.SetMode {
		label = T(lang, "gates.set_mode") + " " + T(lang, "mode."+args.Mode)
	}
	switch {
	case errors.Is(err, ErrNoResult):
		c.audit(r, u.Username, "command", site+"/"+gateName, detail+" result=timeout")
		res(http.StatusGatewayTimeout, commandResult{Key: "gates.result.timeout", Args: []any{gateName, c.commandTimeout()}})
		return
	case err != nil:
		c.audit(r, u.Username, "command", site+"/"+gateName, detail+" result=error: "+err.Error())
		res(http.StatusBadGateway, commandResult{Key: "gates.result.error", Args: []any{gateName, err.Error()}})
		return
	}
	c.audit(r, u.Username, "command", site+"/"+gateName, detail+" result="+result.Status+" "+result.Reason+" event="+result.Event)
	cr := commandResult{Args: []any{gateName, label}}
	switch result.Status {
	case command.StatusOK:
		cr.Key, cr.OK = "gates.result.ok", true
		cr.Args = append(cr.Args, id)
	case command.StatusRefused:
		cr.Key = "gates.result.refused"
		cr.Args = append(cr.Args, result.Reason+" "+result.Detail)
	case command.StatusRejected:
		cr.Key = "gates.result.rejected"
		cr.Args = append(cr.Args, result.Reason+" "+result.Detail)
	default:
		cr.Key = "gates.result.failed"
		cr.Args = append(cr.Args, result.Detail)
	}
	res(http.StatusOK, cr)
}

// reasonProblem is the message key (and its arguments) saying why the
// gate would reject reason as args.reason (command.CheckReason); empty
// when it would not.
func reasonProblem(reason string) (string, []any) {
	if n := utf8.RuneCountInString(reason); n > command.MaxReason {
		return "gates.reason.too_long", []any{n, command.MaxReason}
	}
	if command.CheckReason(reason) != nil {
		return "gates.reason.control", nil
	}
	return "", nil
}

func (c *Console) commandTimeout() string {
	if m, ok := c.o.Commander.(*MQTTCommander); ok {
		return m.o.Timeout.String()
	}
	return "10s"
}

type gateView struct {
	store.GateRow
	Direction string
	LastEvent *store.EventRow
}

type gatesData struct {
	Gates    []gateView
	Commands bool
	Modes    []string
}

func (c *Console) gatesPage(w http.ResponseWriter, r *http.Request, u User) {
	gates, err := c.o.Store.Gates(r.Context())
	if err != nil {
		c.storeError(w, r, u, "gates", err)
		return
	}
	d := gatesData{Commands: c.o.Commander != nil, Modes: command.Modes}
	for _, g := range gates {
		v := gateView{GateRow: g, Direction: c.dir(g.Gate)}
		if rows, _, err := c.o.Store.Events(r.Context(), store.EventFilter{Site: g.Site, Gate: g.Gate, Limit: 1}); err == nil && len(rows) > 0 {
			v.LastEvent = &rows[0]
		}
		d.Gates = append(d.Gates, v)
	}
	c.render(w, r, http.StatusOK, "gates", page{User: u, Nav: "gates", Title: T(u.Language, "gates.title"), Data: d})
}

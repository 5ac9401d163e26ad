package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/mqtt"
)

// remote is the daemon's MQTT command side and Home Assistant discovery.
type remote struct {
	ctrl     *gate.Controller
	log      *slog.Logger
	cmds     *mqtt.Commands
	disc     *mqtt.Discovery
	verifier *command.Verifier
	faces    *faceParts // enroll and unenroll, reload (faces.go)
	// running is the configuration in effect, as reloads changed it. Only
	// the commands goroutine touches it.
	running *configs.Config
}

// operators turns the config's operator list into verifier keys.
func operators(c configs.Commands) ([]command.Operator, error) {
	ops := make([]command.Operator, 0, len(c.Operators))
	for i, op := range c.Operators {
		k, err := command.ParsePublicKey(op.PublicKey)
		if err != nil {
			return nil, fmt.Errorf("commands.operators[%d].public_key: %w", i, err)
		}
		ops = append(ops, command.Operator{ID: op.ID, Key: k, Allow: op.Allow})
	}
	return ops, nil
}

// newRemote wires commands and discovery onto pub, as the config asks;
// commands are carried out on ctrl, enrolment on fp. With no publisher
// (mqtt off) there is no remote side, and it returns nil.
func newRemote(c *configs.Config, log *slog.Logger, pub *mqtt.Publisher, ctrl *gate.Controller, fp *faceParts) (*remote, error) {
	if pub == nil {
		return nil, nil
	}
	r := &remote{ctrl: ctrl, log: log, running: c, faces: fp}
	if c.MQTT.HomeAssistant.Enabled {
		r.disc = pub.Discovery(mqtt.DiscoveryOptions{Prefix: c.MQTT.HomeAssistant.Prefix,
			Site: c.Site, Gate: c.Gate, Version: version, Log: log})
	}
	if !c.Commands.Enabled {
		return r, nil
	}
	ops, err := operators(c.Commands)
	if err != nil {
		return nil, err
	}
	nonces, err := command.OpenFileNonces(c.Commands.NonceFile)
	if err != nil {
		return nil, fmt.Errorf("commands.nonce_file: %w", err)
	}
	vo := command.Options{Site: c.Site, Gate: c.Gate, Operators: ops,
		Nonces: nonces, MaxBytes: c.Commands.MaxBytes, MaxTTL: c.Commands.MaxTTL}
	fp.commandOpts(&vo)
	r.verifier, err = command.NewVerifier(vo)
	if err != nil {
		return nil, fmt.Errorf("commands: %w", err)
	}
	r.cmds, err = pub.Commands(mqtt.CommandOptions{Site: c.Site, Gate: c.Gate,
		Verifier: r.verifier, Handler: r.handleCommand, Log: log})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// start starts the command and discovery goroutines in g; a nil r starts none.
func (r *remote) start(g *group) {
	if r == nil {
		return
	}
	if r.cmds != nil {
		g.Go("commands", r.cmds.Run)
	}
	if r.disc != nil {
		g.Go("discovery", r.disc.Run)
	}
}

// handleCommand carries out an authenticated command.
func (r *remote) handleCommand(ctx context.Context, b *command.Body) command.Result {
	rq := gate.Remote{Operator: b.Operator, Request: b.ID, Override: b.Args.Override, Reason: b.Args.Reason}
	var (
		res gate.RemoteResult
		err error
	)
	switch b.Name {
	case command.Open:
		res, err = r.ctrl.RemoteOpen(ctx, rq)
	case command.SetMode:
		res, err = r.ctrl.RemoteSetMode(ctx, gate.Mode(b.Args.Mode), rq)
	case command.GetState:
		st, err := r.ctrl.StatePayload(ctx)
		if err != nil {
			return stopping(err)
		}
		return command.Result{Status: command.StatusOK, State: st}
	case command.Reload:
		return r.reload(ctx)
	case command.Enroll, command.Unenroll:
		return r.faces.handleEnroll(b, r.log)
	default: // the verifier only lets known names through
		return command.Result{Status: command.StatusRejected, Reason: string(command.ReasonUnknownCommand)}
	}
	if err != nil {
		return stopping(err)
	}
	out := command.Result{Status: command.StatusOK, Event: res.Event, Detail: res.Detail}
	if res.Refused != "" {
		out.Status, out.Reason = command.StatusRefused, res.Refused
	}
	return out
}

func stopping(err error) command.Result {
	return command.Result{Status: command.StatusFailed, Reason: "stopping", Detail: err.Error()}
}

// reload re-reads the config file. It applies the live part
// (configs.PlanReload: thresholds, policy, operator keys) and lists every
// other changed key as needing a restart. An invalid file changes nothing.
func (r *remote) reload(ctx context.Context) command.Result {
	old := r.running
	if old.Path == "" {
		return command.Result{Status: command.StatusFailed, Reason: "invalid_config", Detail: "the daemon was not started from a config file"}
	}
	next, err := configs.Load(old.Path)
	if err != nil {
		return command.Result{Status: command.StatusFailed, Reason: "invalid_config", Detail: err.Error()}
	}
	plan, err := configs.PlanReload(old, next)
	if err != nil {
		return command.Result{Status: command.StatusFailed, Reason: "invalid_config", Detail: err.Error()}
	}
	applied, restart := plan.Applied, plan.RestartRequired
	ops, err := operators(next.Commands)
	if err == nil && r.verifier != nil {
		err = r.verifier.SetOperators(ops)
	}
	if err != nil {
		return command.Result{Status: command.StatusFailed, Reason: "invalid_config", Detail: err.Error()}
	}
	if fp := r.faces; fp != nil && fp.store != nil {
		// Pick up what `gateguard enroll` changed while the gate ran.
		if err := fp.store.Reload(); err != nil {
			return command.Result{Status: command.StatusFailed, Reason: "invalid_templates", Detail: err.Error()}
		}
	}
	running := plan.Running
	if err := r.ctrl.Reconfigure(ctx, liveOf(running)); err != nil {
		return stopping(err)
	}
	r.running = running
	r.log.Info("config reloaded", "applied", strings.Join(applied, ","), "restart_required", strings.Join(restart, ","))
	detail := "no change"
	if len(applied)+len(restart) > 0 {
		detail = fmt.Sprintf("%d key(s) applied, %d need a restart", len(applied), len(restart))
	}
	return command.Result{Status: command.StatusOK, Applied: applied, RestartRequired: restart, Detail: detail}
}

// liveOf is the controller's live configuration from a config. It and
// policyOf stay here, where config meets gate: configs must not import gate
// (deps_test.go), and the decision core importing the YAML schema would tie
// it to the config file's shape.
func liveOf(c *configs.Config) gate.LiveSettings {
	return gate.LiveSettings{
		Policy:         policyOf(c),
		CheckTimeout:   c.Policy.CheckTimeout,
		PassageTimeout: c.Policy.PassageTimeout,
		RepeatSuppress: c.Policy.RepeatSuppress,
		ThermalMaxAge:  c.Thermal.MaxAge,
	}
}

// policyOf is the decision policy a config sets. build and reload both use
// it, so that a reload keeps every policy field it does not change.
func policyOf(c *configs.Config) gate.Policy {
	p := gate.Policy{
		FeverC: c.Thermal.FeverC, ColdC: c.Thermal.ColdC, MinSkinC: c.Thermal.MinSkinC,
		FeverLogOnly:       c.Policy.FeverAction == "log",
		RequireFace:        c.Policy.RequireFace,
		RequireTemperature: c.Policy.RequireTemperature,
		BorderlineC:        c.Thermal.BorderlineC,
		ThermalFailOpen:    c.Thermal.FailMode == "admit",
	}
	faceRules(c, &p)
	return p
}

package mqtt

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// siteBroker starts Mosquitto with the shipped configs/mosquitto-tls.conf and
// configs/mosquitto-acl.conf, only its file paths and port replaced by the
// test's.
func siteBroker(t *testing.T, ca *mqtttest.CA) *mqtttest.Broker {
	t.Helper()
	srv := ca.Server(t)
	port := mqtttest.FreePort(t)
	acl, err := filepath.Abs("../../configs/mosquitto-acl.conf")
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../configs/mosquitto-tls.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	replace := map[string]string{
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", port),
		"cafile":               "cafile " + ca.CertFile,
		"certfile":             "certfile " + srv.CertFile,
		"keyfile":              "keyfile " + srv.KeyFile,
		"acl_file":             "acl_file " + acl,
		"persistence_location": "persistence_location " + t.TempDir() + "/",
	}
	var conf strings.Builder
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		key, _, _ := strings.Cut(line, " ")
		if r, ok := replace[key]; ok {
			line = r
			seen[key] = true
		}
		conf.WriteString(line + "\n")
	}
	for key := range replace {
		if !seen[key] {
			t.Fatalf("configs/mosquitto-tls.conf has no %s line", key)
		}
	}
	for _, must := range []string{"require_certificate true", "use_identity_as_username true", "allow_anonymous false"} {
		if !strings.Contains(conf.String(), "\n"+must+"\n") {
			t.Fatalf("configs/mosquitto-tls.conf lacks %q", must)
		}
	}
	return mqtttest.StartConfig(t, port, conf.String())
}

// certClient connects as the certificate's common name.
func certClient(t *testing.T, b *mqtttest.Broker, ca *mqtttest.CA, cn string) paho.Client {
	t.Helper()
	o := paho.NewClientOptions().AddBroker(b.URL).SetClientID("test-" + strings.ReplaceAll(cn, "/", "-")).
		SetTLSConfig(mqtttest.ClientTLS(t, ca, ca.Client(t, cn))).SetOrderMatters(true)
	return mqtttest.Connect(t, o)
}

func collect(t *testing.T, c paho.Client, filter string) chan paho.Message {
	t.Helper()
	ch := make(chan paho.Message, 100)
	tok := c.Subscribe(filter, 1, func(_ paho.Client, m paho.Message) { ch <- m })
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe %s: %v", filter, tok.Error())
	}
	return ch
}

func pub(t *testing.T, c paho.Client, topic, payload string) {
	t.Helper()
	tok := c.Publish(topic, 1, false, payload)
	if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
		t.Fatalf("publish %s: %v", topic, tok.Error())
	}
}

// next returns the next message's topic, failing after 10 s.
func next(t *testing.T, ch chan paho.Message) string {
	t.Helper()
	select {
	case m := <-ch:
		return m.Topic() + " " + string(m.Payload())
	case <-time.After(10 * time.Second):
		t.Fatal("no message within 10 s")
		return ""
	}
}

// TestACLConfinesEachGate runs the shipped TLS config and ACL on a real
// Mosquitto: gate A can neither publish on gate B's topics (nor forge
// commands on its own cmd topics) nor read gate B's commands, and clients
// without a certificate from the site's CA are refused.
func TestACLConfinesEachGate(t *testing.T) {
	ca := mqtttest.NewCA(t, "plant-1 CA")
	b := siteBroker(t, ca)
	const root = "gateguard/v1/plant-1/"
	central := certClient(t, b, ca, "central")
	seen := collect(t, central, "gateguard/v1/#")
	gateA := certClient(t, b, ca, "plant-1/lane-1")
	ops := certClient(t, b, ca, "ops-desk")

	// Publishing: every attempt on gate B's subtree (and on A's own cmd
	// topic) is dropped; A's own event, sent last, is the first thing the
	// central reader sees. Mosquitto keeps one publisher's order, so the
	// dropped ones would have arrived before it.
	snap := "snapshot/" + strings.Repeat("ab", 32)
	for _, rel := range []string{"availability", "info", "state", "event/access", "event/alert", snap, "cmd/open/result", "cmd/open"} {
		pub(t, gateA, root+"lane-2/"+rel, "forged")
	}
	pub(t, gateA, root+"lane-1/cmd/open", "forged")
	pub(t, gateA, root+"lane-1/event/access", "own")
	if got := next(t, seen); got != root+"lane-1/event/access own" {
		t.Fatalf("central saw %q first: gate A published outside its subtree", got)
	}
	for _, rel := range []string{"availability", "info", "state", "event/alert", snap, "cmd/open/result"} {
		pub(t, gateA, root+"lane-1/"+rel, "own")
		if got := next(t, seen); got != root+"lane-1/"+rel+" own" {
			t.Fatalf("central saw %q, want gate A's own %s", got, rel)
		}
	}

	// Reading: gate A subscribes to B's commands and to everything, but
	// receives only its own command.
	cmds := collect(t, gateA, root+"lane-2/cmd/+")
	all := collect(t, gateA, "#")
	pub(t, ops, root+"lane-2/cmd/open", "for B")
	own := collect(t, gateA, root+"lane-1/cmd/+")
	pub(t, ops, root+"lane-1/cmd/open", "for A")
	if got := next(t, own); got != root+"lane-1/cmd/open for A" {
		t.Fatalf("gate A got %q", got)
	}
	if got := next(t, all); got != root+"lane-1/cmd/open for A" {
		t.Fatalf("gate A's # subscription got %q", got)
	}
	select {
	case m := <-cmds:
		t.Fatalf("gate A read gate B's command %s", m.Topic())
	default:
	}

	// A certificate from another CA, and no certificate, are refused.
	rogue := mqtttest.NewCA(t, "rogue CA")
	o := paho.NewClientOptions().AddBroker(b.URL).SetClientID("rogue").
		SetTLSConfig(mqtttest.ClientTLS(t, ca, rogue.Client(t, "plant-1/lane-2")))
	if c, err := mqtttest.TryConnect(o); err == nil {
		c.Disconnect(0)
		t.Fatal("a client certificate from another CA was accepted")
	}
	o = paho.NewClientOptions().AddBroker(b.URL).SetClientID("anon").
		SetTLSConfig(mqtttest.ClientTLS(t, ca, mqtttest.Cert{}))
	if c, err := mqtttest.TryConnect(o); err == nil {
		c.Disconnect(0)
		t.Fatal("a client without a certificate was accepted")
	}
	// And the gate refuses a broker whose certificate another CA signed.
	o = paho.NewClientOptions().AddBroker(b.URL).SetClientID("lost").
		SetTLSConfig(mqtttest.ClientTLS(t, rogue, ca.Client(t, "plant-1/lane-1")))
	if c, err := mqtttest.TryConnect(o); err == nil {
		c.Disconnect(0)
		t.Fatal("the client trusted a broker certificate from another CA")
	}
}

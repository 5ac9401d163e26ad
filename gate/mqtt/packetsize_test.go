package mqtt

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// localBroker starts Mosquitto with the shipped configs/mosquitto.conf, only
// its listener port and persistence folder replaced by the test's.
func localBroker(t *testing.T) *mqtttest.Broker {
	t.Helper()
	port := mqtttest.FreePort(t)
	f, err := os.Open("../../configs/mosquitto.conf")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	replace := map[string]string{
		"listener":             fmt.Sprintf("listener %d 127.0.0.1", port),
		"persistence_location": "persistence_location " + t.TempDir() + "/",
	}
	var conf strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		key, _, _ := strings.Cut(line, " ")
		if r, ok := replace[key]; ok {
			line = r
			delete(replace, key)
		}
		conf.WriteString(line + "\n")
	}
	if len(replace) > 0 {
		t.Fatalf("configs/mosquitto.conf lacks %v", replace)
	}
	return mqtttest.StartConfig(t, port, conf.String())
}

// TestBrokerRefusesOversizedMessages runs the shipped broker configs (local
// and TLS with the ACL) and the test harness's on a real Mosquitto: a
// command of the largest legitimate size reaches the gate, and a message
// over max_packet_size on the gate's cmd/open disconnects its sender and is
// never forwarded (without the limit the broker forwards it whole, and the
// gate's client buffers it whole).
func TestBrokerRefusesOversizedMessages(t *testing.T) {
	if mqtttest.MaxPacketSize != configs.BrokerMaxPacketSize {
		t.Fatalf("mqtttest.MaxPacketSize %d, configs.BrokerMaxPacketSize %d", mqtttest.MaxPacketSize, configs.BrokerMaxPacketSize)
	}
	const topic = "gateguard/v1/plant-1/lane-1/cmd/open"
	type clients struct {
		gate, sender, marker func() *paho.ClientOptions
	}
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) (*mqtttest.Broker, clients)
	}{
		{"configs/mosquitto.conf", func(t *testing.T) (*mqtttest.Broker, clients) {
			b := localBroker(t)
			anon := func(id string) func() *paho.ClientOptions {
				return func() *paho.ClientOptions { return paho.NewClientOptions().AddBroker(b.URL).SetClientID(id) }
			}
			return b, clients{anon("gate"), anon("sender"), anon("marker")}
		}},
		{"configs/mosquitto-tls.conf", func(t *testing.T) (*mqtttest.Broker, clients) {
			ca := mqtttest.NewCA(t, "plant-1 CA")
			b := siteBroker(t, ca)
			cert := func(id, cn string) func() *paho.ClientOptions {
				return func() *paho.ClientOptions {
					return paho.NewClientOptions().AddBroker(b.URL).SetClientID(id).
						SetTLSConfig(mqtttest.ClientTLS(t, ca, ca.Client(t, cn)))
				}
			}
			return b, clients{cert("gate", "plant-1/lane-1"), cert("sender", "ops-desk"), cert("marker", "ops-desk")}
		}},
		{"mqtttest.Start", func(t *testing.T) (*mqtttest.Broker, clients) {
			b := mqtttest.Start(t, "")
			anon := func(id string) func() *paho.ClientOptions {
				return func() *paho.ClientOptions { return paho.NewClientOptions().AddBroker(b.URL).SetClientID(id) }
			}
			return b, clients{anon("gate"), anon("sender"), anon("marker")}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, cl := tc.start(t)
			gate := mqtttest.Connect(t, cl.gate().SetOrderMatters(true))
			got := collect(t, gate, "gateguard/v1/plant-1/lane-1/cmd/+")

			lost := make(chan error, 1)
			sender := mqtttest.Connect(t, cl.sender().SetConnectionLostHandler(func(_ paho.Client, err error) { lost <- err }))
			largest := bytes.Repeat([]byte("c"), configs.MaxCommandBytes)
			if tok := sender.Publish(topic, 1, false, largest); !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
				t.Fatalf("publish the largest legitimate command: %v", tok.Error())
			}
			select {
			case m := <-got:
				if len(m.Payload()) != len(largest) {
					t.Fatalf("gate got %d bytes, want %d", len(m.Payload()), len(largest))
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the largest legitimate command did not reach the gate")
			}

			sender.Publish(topic, 1, false, bytes.Repeat([]byte("x"), configs.BrokerMaxPacketSize+1))
			select {
			case <-lost:
			case <-time.After(10 * time.Second):
				t.Fatal("the broker kept the connection of a client that sent an oversized message")
			}
			// Mosquitto reads one packet at a time: the oversized one was
			// refused before the marker was sent, so the marker comes first.
			marker := mqtttest.Connect(t, cl.marker())
			pub(t, marker, topic, "marker")
			if m := next(t, got); m != topic+" marker" {
				t.Fatalf("gate got %.60q… (%d bytes) before the marker: the oversized message was forwarded", m, len(m))
			}
		})
	}
}

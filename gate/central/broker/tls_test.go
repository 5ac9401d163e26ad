package broker

import (
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate/mqtt/mqtttest"
)

// TestTLSListener checks that with TLS configured the MQTT listener speaks
// only TLS (ssl://): a gate trusting the site's CA connects with its
// password; a plain connection, and a client that does not trust the
// broker's certificate, do not.
func TestTLSListener(t *testing.T) {
	ca := mqtttest.NewCA(t, "site CA")
	srv := ca.Server(t)
	tc, err := ServerTLS(srv.CertFile, srv.KeyFile, "")
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, t.TempDir())
	o.TLS = tc
	b := start(t, o)
	if !strings.HasPrefix(b.URL(), "ssl://") {
		t.Fatalf("URL %s, want ssl://", b.URL())
	}
	try := func(url string, trust *mqtttest.CA) error {
		opts := paho.NewClientOptions().AddBroker(url).SetClientID("gateguard-s-a").
			SetUsername("s/a").SetPassword("pw-a").SetConnectTimeout(3 * time.Second)
		if trust != nil {
			opts.SetTLSConfig(mqtttest.ClientTLS(t, trust, mqtttest.Cert{}))
		}
		c, err := mqtttest.TryConnect(opts)
		if err == nil {
			c.Disconnect(0)
		}
		return err
	}
	if err := try(b.URL(), ca); err != nil {
		t.Fatalf("gate over TLS: %v", err)
	}
	if err := try("tcp://"+strings.TrimPrefix(b.URL(), "ssl://"), nil); err == nil {
		t.Error("a plain connection was accepted on the TLS listener")
	}
	if err := try(b.URL(), mqtttest.NewCA(t, "rogue CA")); err == nil {
		t.Error("a client that does not trust the broker's certificate connected")
	}
}

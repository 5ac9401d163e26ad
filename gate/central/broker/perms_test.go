package broker

import (
	"errors"
	"strings"
	"testing"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
)

func TestSubject(t *testing.T) {
	for _, tc := range []struct{ topic, want string }{
		{"gateguard/v1/plant-1/lane-1/state", "gateguard.v1.plant-1.lane-1.state"},
		{"gateguard/v1/plant.1/lane_1/cmd/+", "gateguard.v1.plant//1.lane_1.cmd.*"},
		{"gateguard/v1/#", "gateguard.v1.>"},
	} {
		if got := Subject(tc.topic); got != tc.want {
			t.Errorf("Subject(%q) = %q, want %q", tc.topic, got, tc.want)
		}
	}
}

// TestBadOptions checks that every missing or wrong option is reported at
// once, by name.
func TestBadOptions(t *testing.T) {
	_, err := Start(Options{Prefix: "a/#", MQTTAddr: "nowhere", Gates: []Gate{
		{Site: "s", Gate: "a", Username: "s/a", PasswordHash: "plain"},
		{Site: "s", Gate: "a", Username: "s/a", PasswordHash: "$2a$04$x"}}})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("err = %v, want ErrConfig", err)
	}
	for _, want := range []string{"server name", "store dir", `prefix "a/#"`, "MQTT address", "central account",
		`user "s/a" listed twice`, "gate s/a: password hash is not bcrypt"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not say %q:\n%v", want, err)
		}
	}
}

// TestMaxPacketSize: the embedded broker takes the same largest message as
// every shipped Mosquitto config, which the largest snapshot fits.
func TestMaxPacketSize(t *testing.T) {
	if MaxPacketSize != configs.BrokerMaxPacketSize {
		t.Errorf("MaxPacketSize %d, configs.BrokerMaxPacketSize %d", MaxPacketSize, configs.BrokerMaxPacketSize)
	}
	if b64 := (gate.MaxSnapshotBytes + 2) / 3 * 4; b64+2048 > MaxPacketSize {
		t.Errorf("a %d-byte snapshot is %d bytes in base64: no room under %d", gate.MaxSnapshotBytes, b64, MaxPacketSize)
	}
}

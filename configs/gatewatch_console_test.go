package configs

import (
	"strings"
	"testing"
	"time"
)

func TestGatewatchConsoleConfig(t *testing.T) {
	base := "site: p1\ndata_dir: /tmp/gw\nmqtt: {brokers: [tcp://127.0.0.1:1883]}\napi: {token_env: GW_TOKEN}\n"
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"language", "console: {language: fr}", "console.language"},
		{"session too short", "console: {session_ttl: 1s}", "console.session_ttl"},
		{"tls half", "console: {tls: {cert_file: a.pem}}", "console.tls"},
		{"key without operator", "console: {command_key_file: op.pem}", "console.command_key_file"},
		{"operator name", "console: {command_key_file: op.pem, operator_id: 'a b'}", "console.operator_id"},
		{"lane direction", "console: {lanes: {lane-2: out}}", "console.lanes.lane-2"},
		{"trend days", "console: {trend_days: 1000}", "console.trend_days"},
		{"unknown key", "console: {colour: red}", "colour"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseGatewatch([]byte(base+tc.yaml+"\n"), "gw.yaml")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
	c, err := ParseGatewatch([]byte(base+"console: {lanes: {lane-2: exit}, command_key_file: op.pem, operator_id: console}\n"), "gw.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.ConsoleSessionTTL() != 12*time.Hour || c.ConsoleLanguage() != "en" || c.ConsoleTrendDays() != 28 || c.Console.Lanes["lane-2"] != "exit" {
		t.Fatalf("defaults: %v %v %v %v", c.ConsoleSessionTTL(), c.ConsoleLanguage(), c.ConsoleTrendDays(), c.Console.Lanes)
	}
}

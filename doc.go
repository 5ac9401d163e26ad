// Package gateguard is the root of GateGuard, an edge gate controller for
// factory entrances: it reads a thermal and a face camera, verifies entry
// credentials shown as QR codes, drives the turnstile relay and reports to a
// central MQTT broker. The code lives in cmd/, configs/, device/, gate/ and
// vision/; this package holds only repository-wide tests.
package gateguard

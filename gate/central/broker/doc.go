// Package broker runs the NATS server (github.com/nats-io/nats-server/v2)
// inside gatewatch as the site's MQTT broker, so that a small site needs no
// other server: its MQTT listener takes the gates' connections, and its
// JetStream file store keeps QoS 1 messages and persistent sessions across
// a restart.
//
// Every client authenticates. Each gate has its own username and a bcrypt
// password hash from gatewatch's gate list, and may publish only under its
// own prefix (<prefix>/<site>/<gate>/: availability, info, state,
// event/access, event/alert, snapshot/<hash> and cmd/<name>/result) and
// subscribe only to its own commands (cmd/<name>): not another gate's
// topics, and not its own cmd topics, so it cannot forge commands to
// itself. gatewatch itself reads everything and publishes commands. The
// permissions are on NATS subjects: an MQTT topic maps to a subject with
// '/' as '.' and '.' as "//" (Subject), so gateguard/v1/plant-1/lane-1/state
// is gateguard.v1.plant-1.lane-1.state.
//
// A large site runs a NATS cluster (three nodes, JetStream replicas 3)
// instead; Options.Cluster runs a node of one, which the soak test uses.
package broker

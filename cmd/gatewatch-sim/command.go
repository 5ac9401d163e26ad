package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/command"
)

// onCommand verifies a command with the gate's verifier and carries out
// open and set_mode as the gate would, answering on cmd/<name>/result.
func (s *sim) onCommand(_ paho.Client, m paho.Message) {
	name := m.Topic()[strings.LastIndexByte(m.Topic(), '/')+1:]
	go func() { // paho's handler must not wait for our publishes
		s.commands.Add(1)
		res := command.Result{V: 1, Name: name, Site: s.o.site, Gate: s.name, Time: time.Now().UTC()}
		b, err := s.ver.Verify(name, m.Retained(), m.Payload())
		if err != nil {
			res = command.Rejected(name, s.o.site, s.name, time.Now(), err)
		} else if r, ok := s.faceCommand(b); ok {
			res = r
		} else {
			res.ID, res.Operator, res.Status = b.ID, b.Operator, command.StatusOK
			switch name {
			case command.Open:
				e := s.event(gate.KindRemoteOpen, "opened", []gate.Reason{"remote_open"}, "")
				if b.Args.Override {
					e.Reasons = append(e.Reasons, "override")
				}
				e.Operator, e.Request, e.OperatorReason = b.Operator, b.ID, b.Args.Reason
				if err := s.publishEvent(e); err != nil {
					res.Status, res.Detail = command.StatusFailed, err.Error()
				}
				res.Event = e.ID
				fmt.Println("cmd open", s.name, b.ID)
			case command.SetMode:
				s.mu.Lock()
				s.mode = gate.Mode(b.Args.Mode)
				s.mu.Unlock()
				e := s.event(gate.KindModeChange, b.Args.Mode, []gate.Reason{}, "")
				e.Operator, e.Request, e.OperatorReason = b.Operator, b.ID, b.Args.Reason
				_ = s.publishEvent(e)
				st, _ := json.Marshal(s.state())
				_ = s.pub("state", true, st)
				res.Event = e.ID
				fmt.Println("cmd set_mode", s.name, b.Args.Mode, b.ID)
			default:
				res.Status, res.Reason = command.StatusRefused, "not simulated"
			}
		}
		rb, _ := json.Marshal(res)
		_ = s.pub("cmd/"+name+"/result", false, rb)
	}()
}

package gate_test

import (
	"encoding/json"
	"image"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gateguard/gateguard/configs/schema"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/gatetest"
	"github.com/gateguard/gateguard/vision"
)

// Boxes of faces in a 640×480 frame: near is just above the code (the
// code's holder), far is elsewhere and larger.
var (
	nearBox  = image.Rect(100, 40, 260, 200)
	farBox   = image.Rect(380, 40, 600, 260)
	codeQuad = [4]image.Point{{150, 230}, {210, 230}, {210, 290}, {150, 290}}

	aliceFace = []float32{1, 0, 0, 0}
	bobFace   = []float32{0, 1, 0, 0}
)

// show hands the controller one observation: code (if not empty) at
// codeQuad, and the faces given.
func (h *harness) show(code string, faces ...vision.Face) {
	o := vision.Observation{Time: time.Now(), Size: image.Pt(640, 480), Faces: faces}
	if code != "" {
		o.Codes = []vision.Code{{Text: code, Corners: codeQuad}}
	}
	h.ctrl.Observe(o)
	synctest.Wait()
}

func face(box image.Rectangle, desc []float32) vision.Face {
	return vision.Face{Box: box, Descriptor: desc}
}

// lastEntry returns the last access event of kind entry.
func (h *harness) lastEntry() gate.Event {
	h.t.Helper()
	var ev gate.Event
	for _, m := range h.rec.Messages() {
		if m.Topic == gate.TopicAccess {
			var e gate.Event
			if err := json.Unmarshal(m.Payload, &e); err != nil {
				h.t.Fatal(err)
			}
			if e.Kind == gate.KindEntry {
				ev = e
			}
		}
	}
	return ev
}

// withFaces gives the harness an enrolled alice and bob.
func withFaces(p func(*gate.Policy)) func(*gate.Options) {
	return func(o *gate.Options) {
		f := &gatetest.Faces{Threshold: 0.5}
		f.Enroll("alice", aliceFace)
		f.Enroll("bob", bobFace)
		o.Faces = f
		if p != nil {
			p(&o.Policy)
		}
	}
}

// TestHolderBinding plays each binding rule: the face that counts is the
// one presenting the code, followed until the decision.
func TestHolderBinding(t *testing.T) {
	live := gate.Reading{SkinC: 36.5, CoreC: 36.5}
	tests := []struct {
		name   string
		mutate func(*gate.Options)
		run    func(h *harness)
		want   []string
	}{
		{"pass shown, then another face after the code has gone", nil, func(h *harness) {
			h.show("alice")
			h.thermal()
			h.show("", face(farBox, nil)) // not the code's holder
			time.Sleep(3 * time.Second)
			synctest.Wait()
		}, []string{"entry:denied:no_face,check_timeout"}},
		{"holder's face lost, another face steps in without the code", nil, func(h *harness) {
			h.show("alice", face(nearBox, nil)) // no thermal frame yet: no reading
			for range 4 {
				h.show("") // the holder leaves
			}
			h.thermal()
			h.show("", face(farBox, nil))
			time.Sleep(3 * time.Second)
			synctest.Wait()
		}, []string{"entry:denied:no_temperature,check_timeout"}},
		{"holder followed while the code is put away", nil, func(h *harness) {
			h.show("alice", face(nearBox, nil))
			h.thermal()
			h.show("", face(nearBox.Add(image.Pt(6, 4)), nil))
		}, []string{"entry:admitted:insecure_credential"}},
		{"code with no face waits for the face within the attempt", nil, func(h *harness) {
			h.show("alice")
			h.thermal()
			h.show("alice", face(nearBox, nil))
		}, []string{"entry:admitted:insecure_credential"}},
		{"code with no face until the check times out", nil, func(h *harness) {
			h.show("alice")
			time.Sleep(3 * time.Second)
			synctest.Wait()
		}, []string{"entry:denied:no_face,check_timeout"}},
		{"two faces: denied with a tailgating alert", nil, func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, nil), face(farBox, nil))
		}, []string{"entry:denied:multiple_faces", "alert:tailgating:new"}},
		{"two faces, the other out of the zone (further back)", func(o *gate.Options) {
			o.Policy.ZoneMinEyePx = 50 // 125 px wide boxes and more
		}, func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, nil), face(image.Rect(400, 60, 480, 140), nil))
		}, []string{"entry:admitted:insecure_credential"}},
		{"screen_all: the other face has a fever", func(o *gate.Options) {
			o.Policy.MultipleFaces = gate.MultipleFacesScreenAll
		}, func(h *harness) {
			h.therm.SetFor(farBox, gate.Reading{SkinC: 38.5, CoreC: 38.5})
			h.thermal()
			h.show("alice", face(nearBox, nil), face(farBox, nil))
		}, []string{"entry:denied:fever", "alert:fever:new"}},
		{"screen_all: both healthy", func(o *gate.Options) {
			o.Policy.MultipleFaces = gate.MultipleFacesScreenAll
		}, func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, nil), face(farBox, nil))
		}, []string{"entry:admitted:insecure_credential"}},
		{"screen_all: the other face is a photo", func(o *gate.Options) {
			o.Policy.MultipleFaces = gate.MultipleFacesScreenAll
		}, func(h *harness) {
			h.therm.SetFor(farBox, gate.Reading{SkinC: 24, CoreC: 24})
			h.thermal()
			h.show("alice", face(nearBox, nil), face(farBox, nil))
		}, []string{"entry:denied:no_body_heat", "alert:spoof:new"}},
		{"screen_all: the other face never measured", func(o *gate.Options) {
			o.Policy.MultipleFaces = gate.MultipleFacesScreenAll
		}, func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, nil), vision.Face{Box: farBox, Quality: vision.Quality{Assessed: true}})
			time.Sleep(3 * time.Second)
			synctest.Wait()
		}, []string{"entry:denied:companion_unscreened,check_timeout"}},
		{"the face nearest the code counts, not the largest", withFaces(func(p *gate.Policy) {
			p.MultipleFaces = gate.MultipleFacesScreenAll
		}), func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, aliceFace), face(farBox, bobFace))
		}, []string{"entry:admitted:insecure_credential"}},
		{"a face that matches another enrolled person", withFaces(nil), func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, bobFace))
		}, []string{"entry:denied:face_mismatch", "alert:face_mismatch:new"}},
		{"the pass handed to someone else in view: checks start again", withFaces(nil), func(h *harness) {
			h.show("alice", face(nearBox, aliceFace)) // no thermal frame yet: not decided
			for range 4 {
				h.show("") // alice leaves, her pass stays behind
			}
			h.thermal()
			h.show("alice", face(farBox, bobFace)) // bob presents it: alice's descriptor is not his
		}, []string{"entry:denied:face_mismatch", "alert:face_mismatch:new"}},
		{"enrolled holder, face never comparable", withFaces(nil), func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, nil))
			time.Sleep(3 * time.Second)
			synctest.Wait()
		}, []string{"entry:denied:face_unverified,check_timeout"}},
		{"unenrolled holder, require_match enrolled", withFaces(nil), func(h *harness) {
			h.thermal()
			h.show("carol", face(nearBox, bobFace))
		}, []string{"entry:admitted:insecure_credential"}},
		{"unenrolled holder, require_match always", withFaces(func(p *gate.Policy) {
			p.RequireMatch = gate.MatchAlways
		}), func(h *harness) {
			h.thermal()
			h.show("carol", face(nearBox, bobFace))
		}, []string{"entry:denied:holder_not_enrolled"}},
		{"require_match off ignores a mismatch", withFaces(func(p *gate.Policy) {
			p.RequireMatch = gate.MatchOff
		}), func(h *harness) {
			h.thermal()
			h.show("alice", face(nearBox, bobFace))
		}, []string{"entry:admitted:insecure_credential"}},
		{"a photo of an enrolled person with her pass (no body heat)", withFaces(nil), func(h *harness) {
			h.therm.Set(gate.Reading{SkinC: 24, CoreC: 24}, nil)
			h.thermal()
			h.show("alice", face(nearBox, aliceFace))
		}, []string{"entry:denied:no_body_heat", "alert:spoof:new"}},
		{"face only: an enrolled face admits as a face credential", withFaces(func(p *gate.Policy) {
			p.FaceOnly = true
		}), func(h *harness) {
			h.thermal()
			h.show("", face(nearBox, bobFace))
		}, []string{"entry:admitted:"}},
		{"face only: a photo of an enrolled person (no body heat)", withFaces(func(p *gate.Policy) {
			p.FaceOnly = true
		}), func(h *harness) {
			h.therm.Set(gate.Reading{SkinC: 24, CoreC: 24}, nil)
			h.thermal()
			h.show("", face(nearBox, bobFace))
		}, []string{"entry:denied:no_body_heat", "alert:spoof:new"}},
		{"face only: never without a reading, even when temperature is not required", withFaces(func(p *gate.Policy) {
			p.FaceOnly, p.RequireTemperature = true, false
		}), func(h *harness) {
			h.show("", face(nearBox, bobFace)) // no thermal frame
			time.Sleep(3 * time.Second)
			synctest.Wait()
		}, []string{"entry:denied:no_temperature,check_timeout"}},
		{"face only is off by default", withFaces(nil), func(h *harness) {
			h.thermal()
			h.show("", face(nearBox, bobFace))
		}, nil},
		{"face only: an unknown face starts nothing", withFaces(func(p *gate.Policy) {
			p.FaceOnly = true
		}), func(h *harness) {
			h.thermal()
			h.show("", face(nearBox, []float32{0, 0, 1, 0}))
		}, nil},
	}
	schemas, err := schema.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := newHarness(t, tt.mutate)
				h.therm.Set(live, nil)
				tt.run(h)
				h.want(tt.want...)
				for _, m := range h.rec.Messages() {
					if err := schemas.ValidateTopic(m.Topic, m.Payload); err != nil {
						t.Errorf("%s payload against its schema: %v\n%s", m.Topic, err, m.Payload)
					}
				}
				h.shutdown()
			})
		})
	}
}

// TestFaceMatchInEvents: the entry event and the mismatch alert carry the
// person, the distance and the threshold, the pass and the gate, never a
// descriptor.
func TestFaceMatchInEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := newHarness(t, withFaces(nil))
		h.therm.Set(gate.Reading{SkinC: 36.5, CoreC: 36.5}, nil)
		h.thermal()
		h.show("alice", face(nearBox, bobFace))
		ev := h.lastEntry()
		if ev.Face == nil || ev.Face.Person != "alice" || ev.Face.Match || ev.Face.Threshold != 0.5 || ev.Face.Distance < 1.41 || ev.Face.Distance > 1.42 {
			t.Errorf("entry face %+v", ev.Face)
		}
		msgs := h.rec.Messages()
		var a gate.Alert
		if err := json.Unmarshal(msgs[len(msgs)-1].Payload, &a); err != nil {
			t.Fatal(err)
		}
		if a.Type != gate.AlertFaceMismatch || a.Holder != "alice" || a.Face == nil || a.Face.Person != "alice" ||
			a.Message != "credential holder mismatch: pass alice at gate g is not presented by its holder's enrolled face" {
			t.Errorf("alert %+v", a)
		}
		for _, m := range msgs {
			var raw map[string]any
			_ = json.Unmarshal(m.Payload, &raw)
			if f, ok := raw["face"].(map[string]any); ok && len(f) != 4 {
				t.Errorf("face object has extra fields: %v", f)
			}
		}

		h.show("bob", face(nearBox, bobFace))
		if ev := h.lastEntry(); ev.Decision != "admitted" || ev.Face == nil || !ev.Face.Match || ev.Face.Distance != 0 {
			t.Errorf("matching entry %+v face %+v", ev, ev.Face)
		}
		h.shutdown()
	})
}

package scenario

import (
	"strings"
	"testing"
)

func TestParseShippedDemo(t *testing.T) {
	s, err := Load("../../configs/scenarios/demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Steps) < 8 || s.Dir == "" {
		t.Errorf("scenario %+v", s)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, yaml, want string
	}{
		{"empty", "name: x\n", "no steps"},
		{"unknown key", "steps:\n  - arrive: {qr: a, colour: green}\n", "field colour not found"},
		{"two actions", "steps:\n  - {fire_alarm: true, exit_button: true}\n", "exactly one of"},
		{"no action", "steps:\n  - {name: idle}\n", "exactly one of"},
		{"bad expect", "steps:\n  - {arrive: {qr: a}, expect: maybe}\n", `expect: "maybe" is not one of admitted, denied`},
		{"bad colour", "steps:\n  - arrive: {qr: a, qr_colour: blue}\n", "qr_colour"},
		{"bad skin", "steps:\n  - arrive: {qr: a, skin_c: 99}\n", "skin_c: 99"},
		{"qr and image", "steps:\n  - arrive: {qr: a, qr_image: b.png}\n", "exclusive"},
		{"reset expects reset", "steps:\n  - {fire_reset: true, expect: opened}\n", `"opened" is not one of reset`},
		{"thermal expects nothing", "steps:\n  - {thermal: {drift_c: 1}, expect: admitted}\n", "a thermal step has no decision"},
		{"empty thermal", "steps:\n  - thermal: {}\n", "needs at least one of"},
		{"drift too large", "steps:\n  - thermal: {drift_c: 20}\n", "drift_c: 20"},
		{"canthus without skin", "steps:\n  - arrive: {qr: a, canthus_c: 37}\n", "needs skin_c"},
		{"screen with skin", "steps:\n  - arrive: {qr: a, skin_c: 36, screen_c: 32}\n", "a screen has no skin_c"},
		{"enroll without person", "steps:\n  - enroll: {face: gocv:face.jpg}\n", "enroll.person is required"},
		{"enroll without face", "steps:\n  - enroll: {person: alice}\n", "enroll.face is required"},
		{"enroll expects enrolled", "steps:\n  - {enroll: {person: a, face: f.jpg}, expect: admitted}\n", "expects enrolled or nothing"},
		{"enroll and arrive", "steps:\n  - {enroll: {person: a, face: f.jpg}, arrive: {qr: a}}\n", "exactly one of"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("steps:\n  - arrive: {qr: a, face: gocv:face.jpg, skin_c: 36.5, walk: true}\n    expect: admitted\n"))
	f.Add([]byte("steps:\n  - fire_alarm: true\n  - fire_reset: true\n"))
	f.Add([]byte("steps:\n  - thermal: {drift_c: 1.0, blackbody: false, hot_pixels: [[3, 4]]}\n  - arrive: {qr: a, skin_c: 36, canthus_c: 37.1}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data)
		if err != nil {
			return
		}
		for _, st := range s.Steps {
			if st.check() != nil {
				t.Fatalf("Parse accepted a bad step %+v", st)
			}
		}
	})
}

func TestParseShippedFaces(t *testing.T) {
	s, err := Load("../../configs/scenarios/faces.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if s.Steps[0].Enroll == nil || s.Steps[0].Enroll.Person == "" {
		t.Errorf("first step %+v is not an enrolment", s.Steps[0])
	}
}

package display

import (
	"fmt"
	"slices"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/lane"
)

// View is a lane state as the page shows it: every string already in the
// display's language, names and temperatures left out when the site hides
// them. It is what the page receives over server-sent events.
type View struct {
	Seq    uint64 `json:"seq"`
	Kind   string `json:"kind"`
	Reason string `json:"reason,omitempty"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	// Icon names the picture shown with the text (never colour alone).
	Icon string `json:"icon"`
	// Tone names the sound file (/sounds/<tone>.wav) and Speech the words
	// to speak; both empty when this prompt's sound is off.
	Tone   string `json:"tone,omitempty"`
	Speech string `json:"speech,omitempty"`
	// Decision and Event are the logged entry decision the view shows.
	Decision string `json:"decision,omitempty"`
	Event    string `json:"event,omitempty"`
}

// Privacy hides personal data from the lane's screen and voice.
type Privacy struct {
	HideNames        bool
	HideTemperatures bool
}

// Sound says which prompts make a sound.
type Sound struct {
	// Enabled turns every sound on the page on or off.
	Enabled bool
	// Speech speaks prompts with the browser's speech synthesis when it
	// has a voice for the language; tones are played otherwise.
	Speech bool
	// Mute lists the kinds whose prompt is silent.
	Mute []lane.Kind
}

var icons = map[lane.Kind]string{
	lane.Idle: "qr", lane.CodeSeen: "camera", lane.Remeasure: "wait", lane.Admitted: "check",
	lane.Denied: "guard", lane.Fever: "thermometer", lane.FireAlarm: "exit", lane.Open: "arrow",
	lane.Locked: "lock", lane.Maintenance: "wrench",
}

// remeasureIcons picks the picture of a remeasure prompt.
var remeasureIcons = map[gate.Reason]string{
	gate.ReasonTooFar: "closer", gate.ReasonTooClose: "back", gate.ReasonTurned: "camera",
	gate.ReasonPoorFace: "camera", gate.ReasonNoFace: "camera",
}

var tones = map[lane.Kind]string{
	lane.CodeSeen: "prompt", lane.Remeasure: "prompt", lane.Admitted: "chime", lane.Denied: "attention",
	lane.Fever: "attention", lane.FireAlarm: "alarm", lane.Open: "chime",
}

// view renders st in the catalogue's language.
func (c *Catalog) view(st lane.State, p Privacy, snd Sound) View {
	v := View{Seq: st.Seq, Kind: string(st.Kind), Reason: string(st.Reason), Icon: icons[st.Kind],
		Decision: st.Decision, Event: st.Event}
	kind := string(st.Kind)
	v.Title = c.Text("title."+kind, "", "")
	v.Detail = c.Text("detail."+kind, "", "")
	speech := c.Text("speech."+kind, "", "")
	switch st.Kind {
	case lane.Admitted:
		name, temp := st.Name, ""
		if p.HideNames {
			name = ""
		}
		if st.TempC != nil && !p.HideTemperatures {
			temp = fmt.Sprintf("%.1f", *st.TempC)
		}
		if name != "" {
			v.Title = c.Text("title.admitted", name, "")
		} else {
			v.Title = c.Text("title.admitted.anonymous", "", "")
		}
		if temp != "" {
			v.Detail = c.Text("detail.admitted.temp", "", temp)
		}
	case lane.Remeasure:
		if t := c.Text("title.remeasure."+string(st.Reason), "", ""); t != "" {
			v.Title = t
		}
		v.Detail = c.reason(st.Reason)
		speech = v.Title
		if i, ok := remeasureIcons[st.Reason]; ok {
			v.Icon = i
		}
	case lane.Denied:
		v.Detail = c.reason(st.Reason)
	}
	if snd.Enabled && !slices.Contains(snd.Mute, st.Kind) {
		v.Tone = tones[st.Kind]
		if snd.Speech {
			v.Speech = speech
		}
	}
	return v
}

// reason is the plain message of a reason code.
func (c *Catalog) reason(r gate.Reason) string {
	if r != "" && c.Has("reason."+string(r)) {
		return c.Text("reason."+string(r), "", "")
	}
	return c.Text("reason.unknown", "", "")
}

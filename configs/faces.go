package configs

// Faces configures face verification: the descriptor model, the enrolled
// templates and when the presenting face must match (README "Faces").
type Faces struct {
	// Model is the path of the face descriptor's ONNX file (make
	// facenet-model writes bin/models/faceapi-recognition.onnx). When it is
	// empty or missing the gate falls back to LBPH, which is much weaker,
	// and logs so loudly.
	Model string `yaml:"model"`
	// TemplatesFile is the one file holding the enrolled templates
	// (descriptors, never images); empty: nobody is enrolled and the
	// enrolment commands are refused.
	TemplatesFile string `yaml:"templates_file"`
	// KeyFile holds the key (base64 of 32 bytes, `gateguard enroll keygen`)
	// the templates file is encrypted with; KeyEnv names an environment
	// variable holding it instead. Neither: the file is not encrypted.
	KeyFile string `yaml:"key_file"`
	KeyEnv  string `yaml:"key_env"`
	// RequireMatch is enrolled (a holder with an enrolled face must match
	// it), always (a holder with none is denied holder_not_enrolled) or off.
	RequireMatch string `yaml:"require_match"`
	// FaceOnly lets enrolled staff in by face alone (1:N), never without a
	// live thermal reading. Off by default.
	FaceOnly bool `yaml:"face_only"`
	// Threshold overrides the descriptor's default match threshold (0: the
	// descriptor's own: 0.50 for the ResNet, see docs/face-verification.md).
	Threshold float64 `yaml:"threshold"`
	// ZoneMinEyePixels is the least eye distance of a face in the checking
	// zone: smaller faces are further back (the queue) and do not count as
	// a second person. 0: every face in the frame counts.
	ZoneMinEyePixels float64 `yaml:"zone_min_eye_pixels"`
}

// defaultFaces are the faces defaults.
func defaultFaces() Faces {
	return Faces{RequireMatch: "enrolled", ZoneMinEyePixels: 15}
}

// faces checks the faces section and policy.multiple_faces.
func (v *validator) faces(c *Config) {
	f := c.Faces
	v.oneOf("faces.require_match", f.RequireMatch, "enrolled", "always", "off")
	v.oneOf("policy.multiple_faces", c.Policy.MultipleFaces, "deny", "screen_all")
	if f.Threshold < 0 || f.Threshold > 10 {
		v.add("faces.threshold", "%v is outside 0–10 (0: the descriptor's default)", f.Threshold)
	}
	if f.ZoneMinEyePixels < 0 || f.ZoneMinEyePixels > 500 {
		v.add("faces.zone_min_eye_pixels", "%v is outside 0–500", f.ZoneMinEyePixels)
	}
	if f.KeyFile != "" && f.KeyEnv != "" {
		v.add("faces.key_file", "and faces.key_env are exclusive: give one")
	}
	if (f.KeyFile != "" || f.KeyEnv != "") && f.TemplatesFile == "" {
		v.add("faces.templates_file", "is required with a templates key")
	}
	if f.RequireMatch == "always" && f.TemplatesFile == "" {
		v.add("faces.templates_file", "is required with faces.require_match: always (else nobody is enrolled and everyone is denied)")
	}
	if f.FaceOnly && f.TemplatesFile == "" {
		v.add("faces.templates_file", "is required with faces.face_only")
	}
}

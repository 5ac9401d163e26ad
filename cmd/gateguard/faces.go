package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"

	"gocv.io/x/gocv"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces"
	"github.com/gateguard/gateguard/vision"
	"github.com/gateguard/gateguard/vision/facerec"
	"github.com/gateguard/gateguard/vision/scan"
)

// Face verification: the descriptor faces.model names (LBPH when it is
// missing, loudly), the enrolled templates, and the enroll and unenroll
// commands.

// faceParts are the daemon's face verification parts. The zero value (no
// templates file) verifies nobody.
type faceParts struct {
	desc  facerec.Descriptor
	dim   int
	store *faces.Store
}

// openDescriptor loads the descriptor faces.model names, or LBPH when
// none is configured or installed, saying loudly that it is much weaker.
func openDescriptor(c configs.Faces, log *slog.Logger) (facerec.Descriptor, error) {
	if c.Model != "" {
		_, err := os.Stat(c.Model)
		if err == nil {
			n, err := facerec.NewNet(c.Model)
			if err != nil {
				return nil, fmt.Errorf("faces.model: %w", err)
			}
			return n, nil
		}
		log.Warn("faces.model not found", "path", c.Model, "err", err)
	}
	log.Warn("FACE DESCRIPTOR: falling back to LBPH, which is MUCH WEAKER than the ResNet descriptor " +
		"(on ORL at 1% false accepts it rejects about 21% of genuine faces, the ResNet none): run make facenet-model and set faces.model " +
		"(see README, Faces); templates enrolled with LBPH must be enrolled again after the switch")
	l, err := facerec.NewLBPH()
	if err != nil {
		return nil, fmt.Errorf("faces: LBPH fallback: %w", err)
	}
	return l, nil
}

// openFaces opens the descriptor and the templates file, when the config
// has one; with none it returns the zero faceParts. Each part opened is
// added to closers.
func openFaces(cfg *configs.Config, log *slog.Logger, cl *closers) (*faceParts, error) {
	c := cfg.Faces
	if c.TemplatesFile == "" {
		return &faceParts{}, nil
	}
	desc, err := openDescriptor(c, log)
	if err != nil {
		return nil, err
	}
	cl.add(desc.Close)
	fp, err := openStore(c, desc)
	if err != nil {
		return nil, err
	}
	log.Info("face verification", "descriptor", desc.Name(), "model", desc.ModelID(),
		"enrolled", fp.store.Len(), "threshold", fp.threshold(c), "require_match", c.RequireMatch, "face_only", c.FaceOnly)
	if cfg.Vision.FaceModel == "" {
		log.Warn("faces: the Haar cascade gives no landmarks, so no face can be compared: set vision.face_model (YuNet)")
	}
	return fp, nil
}

// openStore opens the templates file for desc.
func openStore(c configs.Faces, desc facerec.Descriptor) (*faceParts, error) {
	dim, err := facerec.Dim(desc)
	if err != nil {
		return nil, err
	}
	key, err := faces.LoadKey(c.KeyFile, c.KeyEnv)
	if err != nil {
		return nil, err
	}
	fp := &faceParts{desc: desc, dim: dim}
	fp.store, err = faces.Open(faces.Options{Path: c.TemplatesFile, Key: key, ModelID: desc.ModelID(), Dim: dim,
		Threshold: fp.threshold(c), Distance: desc.Distance, MeanTemplate: desc.Name() == facerec.NetName})
	if err != nil {
		return nil, err
	}
	return fp, nil
}

func (fp *faceParts) threshold(c configs.Faces) float64 {
	if c.Threshold > 0 {
		return c.Threshold
	}
	return fp.desc.Threshold()
}

// matcher is the gate's FaceMatcher, or nil (never a typed nil) without
// templates.
func (fp *faceParts) matcher() gate.FaceMatcher {
	if fp == nil || fp.store == nil {
		return nil
	}
	return fp.store
}

// describer returns a frame describer for the scanner, or nil. It
// describes nothing while nobody is enrolled: a descriptor costs several
// milliseconds a face.
func (fp *faceParts) describer(cl *closers) scan.FaceDescriber {
	if fp == nil || fp.desc == nil {
		return nil
	}
	d := facerec.NewDescriber(fp.desc)
	cl.add(d.Close)
	return enrolledOnly{d: d, store: fp.store}
}

// enrolledOnly describes faces only while someone is enrolled.
type enrolledOnly struct {
	d     *facerec.Describer
	store *faces.Store
}

func (e enrolledOnly) Describe(frame gocv.Mat, f vision.Face) ([]float32, error) {
	if e.store.Len() == 0 {
		return nil, nil
	}
	return e.d.Describe(frame, f)
}

// commandOpts sets the enroll command's model and length on the verifier.
func (fp *faceParts) commandOpts(o *command.Options) {
	if fp == nil || fp.desc == nil {
		return
	}
	o.FaceModel, o.FaceDim = fp.desc.ModelID(), fp.dim
}

// handleEnroll carries out an authenticated enroll or unenroll command.
// The verifier checked the arguments (model, lengths); the store checks
// them again and writes all or nothing.
func (fp *faceParts) handleEnroll(b *command.Body, log *slog.Logger) command.Result {
	if fp == nil || fp.store == nil {
		return command.Result{Status: command.StatusFailed, Reason: "no_templates_file",
			Detail: "this gate has no faces.templates_file"}
	}
	a := b.Args
	if b.Name == command.Unenroll {
		was, err := fp.store.Remove(a.Person)
		if err != nil {
			return command.Result{Status: command.StatusFailed, Reason: "templates_unwritable", Detail: err.Error()}
		}
		log.Info("face unenrolled by command", "person", a.Person, "operator", b.Operator, "request", b.ID, "was_enrolled", was)
		detail := "unenrolled"
		if !was {
			detail = "was not enrolled"
		}
		return command.Result{Status: command.StatusOK, Detail: detail}
	}
	err := fp.store.Put(faces.Person{ID: a.Person, Name: a.Name, Department: a.Department, Templates: a.Descriptors})
	switch {
	case errors.Is(err, faces.ErrBadTemplate):
		return command.Result{Status: command.StatusRejected, Reason: string(command.ReasonBadArgs), Detail: err.Error()}
	case err != nil:
		return command.Result{Status: command.StatusFailed, Reason: "templates_unwritable", Detail: err.Error()}
	}
	// Never the descriptors themselves in a log.
	log.Info("face enrolled by command", "person", a.Person, "templates", len(a.Descriptors), "operator", b.Operator, "request", b.ID)
	return command.Result{Status: command.StatusOK, Detail: fmt.Sprintf("enrolled %s with %d template(s)", a.Person, len(a.Descriptors))}
}

// faceRules are the policy fields the faces config sets.
func faceRules(c *configs.Config, p *gate.Policy) {
	p.MultipleFaces = gate.MultipleFaces(c.Policy.MultipleFaces)
	p.RequireMatch = gate.MatchRule(c.Faces.RequireMatch)
	p.FaceOnly = c.Faces.FaceOnly
	p.ZoneMinEyePx = c.Faces.ZoneMinEyePixels
}

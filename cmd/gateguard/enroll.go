package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/faces"
	"github.com/gateguard/gateguard/vision/face"
	"github.com/gateguard/gateguard/vision/facerec"
)

const enrollUsage = `usage:
  gateguard enroll add -c CONFIG -id ID [-name NAME] [-department DEPT] PHOTO|FOLDER...
                                      enrol one person from photos (several make a better template)
  gateguard enroll import -c CONFIG ROSTER.csv|FOLDER
                                      enrol everyone in a roster (CSV: id,name,department,photo[,photo…],
                                      photo paths relative to the CSV) or a folder with a folder per person
  gateguard enroll list -c CONFIG     list the enrolled people
  gateguard enroll remove -c CONFIG ID...
  gateguard enroll keygen -o FILE     make a key to encrypt the templates file (faces.key_file)
  gateguard enroll export -c CONFIG -key FILE -station ID -o FILE [ID...]
                                      write a signed enrolment file for gatewatch's console to push to its gates`

// cmdEnroll is `gateguard enroll`: face templates from photos, kept in
// faces.templates_file.
func cmdEnroll(args []string, out, progress io.Writer) error {
	if len(args) == 0 {
		return usageError{enrollUsage}
	}
	switch args[0] {
	case "add", "import":
		return enrollPhotos(args[0], args[1:], out, progress)
	case "list":
		return enrollList(args[1:], out)
	case "remove":
		return enrollRemove(args[1:], out)
	case "keygen":
		return enrollKeygen(args[1:], out)
	case "export":
		return enrollExport(args[1:], out)
	}
	return usageError{fmt.Sprintf("enroll: unknown subcommand %q\n%s", args[0], enrollUsage)}
}

// enrollee is one person to enrol and their photos.
type enrollee struct {
	faces.Person
	photos []string
}

func enrollPhotos(sub string, args []string, out, progress io.Writer) error {
	fs := flag.NewFlagSet("enroll "+sub, flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config file")
	id := fs.String("id", "", "add: the person's id (the holder their passes name)")
	name := fs.String("name", "", "add: the person's name")
	dept := fs.String("department", "", "add: the person's department")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *cfgPath == "" || fs.NArg() == 0 {
		return usageError{enrollUsage}
	}
	people, err := enrollees(sub, fs.Args(), faces.Person{ID: *id, Name: *name, Department: *dept})
	if err != nil {
		return err
	}
	if err := checkEnrollees(people); err != nil {
		return err
	}
	cfg, err := configs.Load(*cfgPath)
	if err != nil {
		return err
	}
	fp, enr, closeAll, err := openEnrolment(cfg)
	if err != nil {
		return err
	}
	defer closeAll()
	if err := describePhotos(enr, people, out, progress); err != nil {
		return err
	}
	ps := make([]faces.Person, len(people))
	n := 0
	for i, e := range people {
		ps[i], n = e.Person, n+len(e.Templates)
	}
	if err := fp.store.PutAll(ps); err != nil {
		return err
	}
	fmt.Fprintf(out, "enrolled %d person(s) with %d template(s) in %s (%s); a running gate takes them on reload or restart\n",
		len(ps), n, cfg.Faces.TemplatesFile, fp.desc.ModelID())
	return nil
}

// enrollees lists the people to enrol: for add, one person (p) with the
// photos and folders in args; for import, the roster in args[0].
func enrollees(sub string, args []string, p faces.Person) ([]enrollee, error) {
	switch {
	case sub == "add" && p.ID == "":
		return nil, usageError{"enroll add: -id is required"}
	case sub == "add":
		var photos []string
		for _, a := range args {
			ps, err := photosIn(a)
			if err != nil {
				return nil, err
			}
			photos = append(photos, ps...)
		}
		return []enrollee{{Person: p, photos: photos}}, nil
	case len(args) != 1:
		return nil, usageError{"enroll import: want one roster CSV or folder"}
	}
	return roster(args[0])
}

// checkEnrollees refuses a list before any photo is read: duplicate ids,
// nobody, a person with no photos or too many.
func checkEnrollees(people []enrollee) error {
	if len(people) == 0 {
		return errors.New("enroll: nobody to enrol")
	}
	seen := map[string]bool{}
	var errs []error
	for _, e := range people {
		switch {
		case seen[e.ID]:
			errs = append(errs, fmt.Errorf("enroll: person %q appears twice", e.ID))
		case len(e.photos) == 0:
			errs = append(errs, fmt.Errorf("enroll: person %q has no photos", e.ID))
		case len(e.photos) > faces.MaxTemplates:
			errs = append(errs, fmt.Errorf("enroll: person %q has %d photos, at most %d", e.ID, len(e.photos), faces.MaxTemplates))
		}
		seen[e.ID] = true
	}
	return errors.Join(errs...)
}

// openEnrolment opens the descriptor, the templates file and the YuNet
// detector the config names.
func openEnrolment(cfg *configs.Config) (*faceParts, *facerec.Enroller, func(), error) {
	if cfg.Faces.TemplatesFile == "" {
		return nil, nil, nil, errors.New("enroll: the config has no faces.templates_file")
	}
	if cfg.Vision.FaceModel == "" {
		return nil, nil, nil, errors.New("enroll: the config has no vision.face_model: enrolment aligns faces by YuNet's landmarks (the Haar cascade has none)")
	}
	var cl closers
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	closeAll := func() { cl.close(log) }
	desc, err := openDescriptor(cfg.Faces, log)
	if err != nil {
		return nil, nil, nil, err
	}
	cl.add(desc.Close)
	fp, err := openStore(cfg.Faces, desc)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	enr, err := newEnroller(cfg, desc, &cl)
	if err != nil {
		closeAll()
		return nil, nil, nil, err
	}
	return fp, enr, closeAll, nil
}

// newEnroller returns an enroller of photos with desc and the YuNet
// detector the config names (its closer added to cl).
func newEnroller(cfg *configs.Config, desc facerec.Descriptor, cl *closers) (*facerec.Enroller, error) {
	if cfg.Vision.FaceModel == "" {
		return nil, errors.New("enroll: the config has no vision.face_model: enrolment aligns faces by YuNet's landmarks (the Haar cascade has none)")
	}
	o := face.DefaultYuNetOpts
	o.Score = 0.8 // a photo's face is clear; weaker hits are background
	det, err := face.NewYuNet(cfg.Vision.FaceModel, &o)
	if err != nil {
		return nil, fmt.Errorf("vision.face_model: %w", err)
	}
	cl.add(det.Close)
	return &facerec.Enroller{Detector: det, Descriptor: desc, Quality: facerec.DefaultEnrolQuality}, nil
}

// describePhotos fills each person's templates from their photos, showing
// progress and each refused photo with its reason. A person left with no
// usable photo fails the whole enrolment: nothing is enrolled.
func describePhotos(enr *facerec.Enroller, people []enrollee, out, progress io.Writer) error {
	total := 0
	for _, e := range people {
		total += len(e.photos)
	}
	bar := newProgress(progress, total)
	refused := 0
	var empty []string
	for i := range people {
		e := &people[i]
		for _, ph := range e.photos {
			d, err := enr.Photo(ph)
			if pe, ok := facerec.IsPhotoError(err); ok {
				refused++
				bar.note(fmt.Sprintf("refused %s (%s): %s: %s", ph, e.ID, pe.Reason, pe.Detail))
			} else if err != nil {
				bar.done()
				return err
			} else {
				e.Templates = append(e.Templates, d)
			}
			bar.step(e.ID)
		}
		if len(e.Templates) == 0 {
			empty = append(empty, e.ID)
		}
	}
	bar.done()
	if refused > 0 {
		fmt.Fprintf(out, "%d of %d photo(s) refused\n", refused, total)
	}
	if len(empty) > 0 {
		return fmt.Errorf("enroll: no usable face in any photo of %s: nothing enrolled", strings.Join(empty, ", "))
	}
	return nil
}

func enrollList(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enroll list", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *cfgPath == "" || fs.NArg() > 0 {
		return usageError{"enroll list: want -c CONFIG"}
	}
	fp, closeAll, err := openTemplates(*cfgPath)
	if err != nil {
		return err
	}
	defer closeAll()
	people := fp.store.List()
	sort.Slice(people, func(i, j int) bool { return people[i].ID < people[j].ID })
	fmt.Fprintf(out, "model %s, %d enrolled\n", fp.desc.ModelID(), len(people))
	for _, p := range people {
		fmt.Fprintf(out, "%s\t%s\t%s\t%d template(s)\tenrolled %s\n", p.ID, p.Name, p.Department, len(p.Templates),
			p.Enrolled.UTC().Format("2006-01-02T15:04:05Z"))
	}
	return nil
}

func enrollRemove(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enroll remove", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config file")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *cfgPath == "" || fs.NArg() == 0 {
		return usageError{"enroll remove: want -c CONFIG ID..."}
	}
	fp, closeAll, err := openTemplates(*cfgPath)
	if err != nil {
		return err
	}
	defer closeAll()
	for _, id := range fs.Args() {
		was, err := fp.store.Remove(id)
		if err != nil {
			return err
		}
		if !was {
			return fmt.Errorf("enroll remove: %q is not enrolled", id)
		}
		fmt.Fprintf(out, "removed %s\n", id)
	}
	return nil
}

// openTemplates opens the descriptor and the templates file a config names.
func openTemplates(cfgPath string) (*faceParts, func(), error) {
	cfg, err := configs.Load(cfgPath)
	if err != nil {
		return nil, nil, err
	}
	if cfg.Faces.TemplatesFile == "" {
		return nil, nil, errors.New("enroll: the config has no faces.templates_file")
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	desc, err := openDescriptor(cfg.Faces, log)
	if err != nil {
		return nil, nil, err
	}
	fp, err := openStore(cfg.Faces, desc)
	if err != nil {
		desc.Close()
		return nil, nil, err
	}
	return fp, func() { desc.Close() }, nil
}

func enrollKeygen(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enroll keygen", flag.ContinueOnError)
	path := fs.String("o", "", "key file to create")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *path == "" || fs.NArg() > 0 {
		return usageError{"enroll keygen: want -o FILE"}
	}
	k, err := faces.GenerateKey()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(*path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("enroll keygen: %w", err)
	}
	_, err = fmt.Fprintln(f, k)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(*path) // no half-written key left behind
		return fmt.Errorf("enroll keygen: %w", err)
	}
	fmt.Fprintf(out, "wrote %s: set faces.key_file to it; keep a copy offline (without it the templates cannot be read)\n", *path)
	return nil
}

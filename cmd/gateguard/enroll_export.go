package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"sort"
	"time"

	"github.com/gateguard/gateguard/gate/faces"
	"github.com/gateguard/gateguard/gate/faces/enrolfile"
)

const enrollExportUsage = `usage: gateguard enroll export -c CONFIG -key FILE -station ID -o FILE [ID...]
  write the enrolled people (all, or the IDs named) to a signed enrolment file for gatewatch's console
  (People, "Import enrolments"), which pushes them to its gates. The file holds descriptors, never photos;
  -key is this station's key (gateguard keygen), whose public key is listed in gatewatch's
  console.enrolment.stations under -station ID.`

// enrollExport is `gateguard enroll export`: the templates file's people,
// or some of them, as a signed enrolment file (gate/faces/enrolfile).
func enrollExport(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("enroll export", flag.ContinueOnError)
	cfgPath := fs.String("c", "", "config file (its faces.templates_file, faces.model)")
	keyPath := fs.String("key", "", "this enrolment station's private key (gateguard keygen)")
	station := fs.String("station", "", "this enrolment station's id, as console.enrolment.stations lists it")
	outPath := fs.String("o", "", "enrolment file to write")
	if err := fs.Parse(args); err != nil {
		return usageError{err.Error()}
	}
	if *cfgPath == "" || *keyPath == "" || *station == "" || *outPath == "" {
		return usageError{enrollExportUsage}
	}
	key, err := readPrivateKey(*keyPath)
	if err != nil {
		return fmt.Errorf("enroll export: %w", err)
	}
	fp, closeAll, err := openTemplates(*cfgPath)
	if err != nil {
		return err
	}
	defer closeAll()
	people, err := exportPeople(fp.store.List(), fs.Args())
	if err != nil {
		return err
	}
	b := enrolfile.Body{Station: *station, Exported: time.Now().UTC(), Model: fp.desc.ModelID(), Dim: fp.dim, People: people}
	data, err := enrolfile.Sign(b, key)
	if err != nil {
		return fmt.Errorf("enroll export: %w", err)
	}
	// 0600: descriptors are biometric data.
	if err := writeFileAtomic(*outPath, data, 0o600); err != nil {
		return fmt.Errorf("enroll export: %w", err)
	}
	n := 0
	for _, p := range people {
		n += len(p.Descriptors)
	}
	fmt.Fprintf(out, "wrote %s: %d person(s), %d descriptor(s), model %s, signed by station %s\n", *outPath, len(people), n, b.Model, *station)
	return nil
}

// exportPeople picks the people named in ids (all when none), by id;
// an id that is not enrolled is an error.
func exportPeople(enrolled []faces.Person, ids []string) ([]enrolfile.Person, error) {
	sort.Slice(enrolled, func(i, j int) bool { return enrolled[i].ID < enrolled[j].ID })
	var out []enrolfile.Person
	var errs []error
	for _, id := range ids {
		if !slices.ContainsFunc(enrolled, func(p faces.Person) bool { return p.ID == id }) {
			errs = append(errs, fmt.Errorf("enroll export: %q is not enrolled", id))
		}
	}
	for _, p := range enrolled {
		if len(ids) > 0 && !slices.Contains(ids, p.ID) {
			continue
		}
		out = append(out, enrolfile.Person{ID: p.ID, Name: p.Name, Department: p.Department, Enrolled: p.Enrolled, Descriptors: p.Templates})
	}
	if len(out) == 0 && len(errs) == 0 {
		errs = append(errs, errors.New("enroll export: nobody is enrolled"))
	}
	return out, errors.Join(errs...)
}

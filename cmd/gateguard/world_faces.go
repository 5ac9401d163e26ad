package main

import (
	"errors"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/gateguard/gateguard/gate/faces"
	"github.com/gateguard/gateguard/gate/scenario"
)

// Enroll enrols a person from a photo into the daemon's templates
// (w.faces, set by whoever built the daemon), as `gateguard enroll add`
// does, with a descriptor and detector of its own (the scanner's are its
// goroutine's alone).
func (w *world) Enroll(e *scenario.Enrolment) error {
	fp := w.faces
	if fp == nil || fp.store == nil {
		return errors.New("simulate: an enroll step needs faces.templates_file in the config")
	}
	var cl closers
	log := slog.New(slog.DiscardHandler)
	defer cl.close(log)
	desc, err := openDescriptor(w.cfg.Faces, log)
	if err != nil {
		return err
	}
	cl.add(desc.Close)
	enr, err := newEnroller(w.cfg, desc, &cl)
	if err != nil {
		return err
	}
	path := e.Face
	if name, ok := strings.CutPrefix(path, "gocv:"); ok {
		path = filepath.Join(w.gocvDir, name)
	}
	d, err := enr.Photo(path)
	if err != nil {
		return err
	}
	return fp.store.Put(faces.Person{ID: e.Person, Name: e.Name, Templates: [][]float32{d}})
}

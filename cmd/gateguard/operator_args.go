package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/gateguard/gateguard/configs"
	"github.com/gateguard/gateguard/gate/command"
	"github.com/gateguard/gateguard/gate/faces"
)

// commandArgs builds a command's arguments from the words after its name:
// set_mode MODE; enroll PERSON PHOTO|FOLDER... (descriptors computed here,
// with the gate's config's faces.model and vision.face_model, so that only
// descriptors, never photos, go to the gate); unenroll PERSON.
func commandArgs(name string, rest []string, f commandFlags, progress io.Writer) (command.Args, error) {
	if err := checkReasonFlag(name, f); err != nil {
		return command.Args{}, err
	}
	a := command.Args{Override: f.override, Reason: f.reason}
	switch {
	case name == command.SetMode && len(rest) == 1:
		a.Mode = rest[0]
	case name == command.Unenroll && len(rest) == 1:
		a.Person = rest[0]
	case name == command.Enroll && len(rest) >= 2:
		return enrollArgs(rest[0], rest[1:], f.config, progress)
	case name != command.SetMode && name != command.Enroll && name != command.Unenroll && len(rest) == 0:
	default:
		return a, usageError{"command: set_mode takes one MODE (normal, locked, free, maintenance), enroll PERSON PHOTO|FOLDER..., unenroll PERSON; other commands take none"}
	}
	return a, nil
}

// checkReasonFlag refuses, before anything is signed, what the gate would
// reject: -reason on a command other than open and set_mode, a reason the
// gate refuses (command.CheckReason), and -override without -reason.
func checkReasonFlag(name string, f commandFlags) error {
	if f.reason != "" && name != command.Open && name != command.SetMode {
		return usageError{"command: -reason goes with open and set_mode only"}
	}
	if err := command.CheckReason(f.reason); err != nil {
		return usageError{"command: -reason: " + err.Error()}
	}
	if f.override && strings.TrimSpace(f.reason) == "" {
		return usageError{"command: -override needs -reason TEXT: say why (it is signed and recorded in the gate's event)"}
	}
	return nil
}

// enrollArgs describes person's photos with the descriptor the gate's
// config names, as `gateguard enroll add` does.
func enrollArgs(person string, photos []string, cfgPath string, progress io.Writer) (command.Args, error) {
	if cfgPath == "" {
		return command.Args{}, usageError{"command enroll: -c CONFIG is required (the gate's faces.model and vision.face_model)"}
	}
	people, err := enrollees("add", photos, faces.Person{ID: person})
	if err == nil {
		err = checkEnrollees(people)
	}
	if err != nil {
		return command.Args{}, err
	}
	cfg, err := configs.Load(cfgPath)
	if err != nil {
		return command.Args{}, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	desc, err := openDescriptor(cfg.Faces, log)
	if err != nil {
		return command.Args{}, err
	}
	var cl closers
	defer cl.close(log)
	cl.add(desc.Close)
	enr, err := newEnroller(cfg, desc, &cl)
	if err != nil {
		return command.Args{}, err
	}
	if err := describePhotos(enr, people, progress, progress); err != nil {
		return command.Args{}, err
	}
	if len(people[0].Templates) > command.MaxDescriptors {
		return command.Args{}, errors.New("command enroll: too many descriptors")
	}
	fmt.Fprintf(progress, "sending %d descriptor(s) of %s (%s)\n", len(people[0].Templates), person, desc.ModelID())
	return command.Args{Person: person, Model: desc.ModelID(), Descriptors: people[0].Templates}, nil
}

package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate/command"
)

// faceCommand carries out a verified enroll or unenroll as a gate with a
// templates file would (the templates are not kept: the sim matches no
// faces), or fails it on a gate named in -refuse-enroll. ok is false for
// other commands.
func (s *sim) faceCommand(b *command.Body) (res command.Result, ok bool) {
	if b.Name != command.Enroll && b.Name != command.Unenroll {
		return command.Result{}, false
	}
	res = command.Result{V: 1, ID: b.ID, Name: b.Name, Site: s.o.site, Gate: s.name, Operator: b.Operator,
		Time: time.Now().UTC(), Status: command.StatusOK}
	if slices.Contains(strings.Split(s.o.refuseEnroll, ","), s.name) {
		res.Status, res.Reason, res.Detail = command.StatusFailed, "templates_unwritable", "faces: write templates: read-only file system"
	} else if b.Name == command.Enroll {
		res.Detail = fmt.Sprintf("enrolled %s with %d template(s)", b.Args.Person, len(b.Args.Descriptors))
	} else {
		res.Detail = "unenrolled"
	}
	fmt.Println("cmd", b.Name, s.name, b.Args.Person, len(b.Args.Descriptors), res.Status)
	return res, true
}

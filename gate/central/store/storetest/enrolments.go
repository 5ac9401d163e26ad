package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
)

func enrolment(person string, n int, at time.Time) store.Enrolment {
	d := make([][]float32, n)
	for i := range d {
		d[i] = []float32{float32(i) + 0.125, -0.3333333, 1e-7, float32(len(person))}
	}
	return store.Enrolment{Person: person, Model: "facenet+mirror@00", Dim: 4, Descriptors: d, Enrolled: at,
		Station: "desk-1", Imported: at.Add(time.Hour), ImportedBy: "ada"}
}

// enrolments: stored with their descriptors exactly, listed without them,
// replaced by person, and a batch with a bad entry stores nothing.
func enrolments(t *testing.T, ctx context.Context, s store.Store) {
	if _, err := s.Enrolment(ctx, "emp-1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("enrolment before any: %v", err)
	}
	if err := s.PutEnrolments(ctx, []store.Enrolment{enrolment("emp-1", 3, Base), enrolment("emp-2", 1, Base)}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Enrolment(ctx, "emp-1")
	want := enrolment("emp-1", 3, Base)
	want.Count = 3
	if err != nil || got.Model != want.Model || got.Dim != 4 || got.Count != 3 || !got.Enrolled.Equal(Base) || got.Station != "desk-1" ||
		!got.Imported.Equal(want.Imported) || got.ImportedBy != "ada" || len(got.Descriptors) != 3 {
		t.Fatalf("enrolment %+v, %v", got, err)
	}
	for i := range want.Descriptors {
		if !slices.Equal(got.Descriptors[i], want.Descriptors[i]) {
			t.Errorf("descriptor %d: %v, want %v", i, got.Descriptors[i], want.Descriptors[i])
		}
	}
	// Replaced, and a batch with a bad entry changes nothing.
	if err := s.PutEnrolments(ctx, []store.Enrolment{enrolment("emp-1", 5, Base.Add(time.Hour))}); err != nil {
		t.Fatal(err)
	}
	bad := enrolment("emp-3", 0, Base)
	if err := s.PutEnrolments(ctx, []store.Enrolment{enrolment("emp-2", 7, Base), bad}); err == nil {
		t.Fatal("stored an enrolment without descriptors")
	}
	list, err := s.Enrolments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Person != "emp-1" || list[0].Count != 5 || !list[0].Enrolled.Equal(Base.Add(time.Hour)) ||
		list[0].Descriptors != nil || list[1].Person != "emp-2" || list[1].Count != 1 {
		t.Fatalf("enrolments %+v", list)
	}
}

// enrolmentPushes: one row per person and gate, the last state wins.
func enrolmentPushes(t *testing.T, ctx context.Context, s store.Store) {
	p := store.EnrolmentPush{Person: "emp-1", Site: "plant", Gate: "lane-1", Action: store.PushEnroll, Status: store.PushPending,
		Request: "ada.01", Enrolled: Base, By: "ada", Updated: Base.Add(time.Minute)}
	for _, st := range []store.EnrolmentPush{p, {Person: "emp-1", Site: "plant", Gate: "lane-2", Action: store.PushEnroll,
		Status: store.PushRefused, Reason: "bad_args args.model", Request: "ada.02", Enrolled: Base, By: "ada", Updated: Base}} {
		if err := s.RecordPush(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	p.Status, p.Updated = store.PushApplied, Base.Add(2*time.Minute)
	if err := s.RecordPush(ctx, p); err != nil {
		t.Fatal(err)
	}
	got, err := s.EnrolmentPushes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Gate != "lane-1" || got[0].Status != store.PushApplied || !got[0].Updated.Equal(p.Updated) ||
		!got[0].Enrolled.Equal(Base) || got[0].Request != "ada.01" || got[0].By != "ada" ||
		got[1].Gate != "lane-2" || got[1].Status != store.PushRefused || got[1].Reason != "bad_args args.model" {
		t.Fatalf("pushes %+v", got)
	}
}

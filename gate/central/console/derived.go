package console

import (
	"context"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate/central/store"
)

// The gates raise no alert when a credential's holder is not the person at
// the lane: the entry is denied with the reason face_mismatch. The live
// page shows such denials as items of their own (type holder_mismatch),
// acknowledged in the console's own table.
const (
	// TypeHolderMismatch is the live item type of a face_mismatch denial.
	TypeHolderMismatch = "holder_mismatch"
	eventItemPrefix    = "ev-"
	// derivedWindow is how far back the live page looks for such denials
	// when it loads.
	derivedWindow = 24 * time.Hour
)

// derivedAlerts returns the recent face_mismatch denials as alert rows,
// with their acknowledgements.
func derivedAlerts(ctx context.Context, st store.Store, db *DB, now time.Time, window time.Duration, limit int) ([]store.AlertRow, error) {
	rows, _, err := st.Events(ctx, store.EventFilter{From: now.Add(-window), Decision: "denied", Reason: "face_mismatch", Limit: limit})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rows))
	for i, e := range rows {
		ids[i] = e.ID
	}
	acks, err := db.EventAcks(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]store.AlertRow, 0, len(rows))
	for _, e := range rows {
		a := store.AlertRow{AlertID: eventItemPrefix + e.ID, Site: e.Site, Gate: e.Gate, Type: TypeHolderMismatch, State: "new",
			Severity: "warning", Holder: e.Holder, Event: e.ID, Count: 1, Messages: 1, First: e.Time, Last: e.Time, LastRaw: e.Payload}
		if k, ok := acks[e.ID]; ok {
			a.AckBy, a.AckNote, a.AckAt = k.By, k.Note, k.At
		}
		out = append(out, a)
	}
	return out, nil
}

// eventItem returns the event id of a derived item's id.
func eventItem(alertID string) (string, bool) { return strings.CutPrefix(alertID, eventItemPrefix) }

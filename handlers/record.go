package handlers

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// Record applies sign-in events to the store in one transaction: detection,
// the incidents' alert state, timeline lines for what changed, and the
// Slack work that follows. It returns only once all of it is committed, so
// an event source may acknowledge the events (delete the SQS message,
// advance the checkpoint) as soon as it returns.
func (a *App) Record(ctx context.Context, events []cloudtrail.SignIn) error {
	if len(events) == 0 {
		return nil
	}
	events = slices.Clone(events)
	slices.SortFunc(events, func(x, y cloudtrail.SignIn) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.EventID, y.EventID))
	})
	now := a.now()
	changed := false
	// State that only matters within detection windows is pruned
	// relative to the events, so that replaying old files in batches
	// keeps what later batches need; dedupe keys are kept from now.
	pruneAt := now
	if last := events[len(events)-1].Time; last.Before(now) {
		pruneAt = last
	}
	err := a.Store.Update(ctx, func(tx *store.Tx) error {
		changed = false
		tx.SetSeenAt(now)
		for _, ev := range events {
			r, err := a.Engine.Apply(tx, ev)
			if err != nil {
				return fmt.Errorf("event %s: %w", ev.EventID, err)
			}
			for _, inc := range r.Changed {
				if err := a.noteChange(tx, inc); err != nil {
					return err
				}
				changed = true
			}
		}
		if _, err := tx.Prune(pruneAt); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d events: %w", len(events), err)
	}
	if changed {
		a.wake()
	}
	return nil
}

// noteChange updates an incident's alert state after detection changed it:
// a new incident waits the group window before its first post; a posted one
// is updated at once; what changed goes on the timeline.
func (a *App) noteChange(tx *store.Tx, inc *incident.Incident) error {
	now := a.now()
	al, err := tx.Alert(inc.ID)
	if err != nil {
		return err
	}
	snap := incident.SnapshotOf(inc)
	if al == nil {
		al = &incident.Alert{IncidentID: inc.ID, DueAt: now.Add(a.Cfg.GroupWait), Last: snap}
		if _, err := tx.AppendAudit(store.AuditEntry{Time: now, Actor: incident.SystemActor, Action: "detected",
			IncidentID: inc.ID, Outcome: string(inc.Classification), Detail: inc.Reason}); err != nil {
			return err
		}
	} else if al.Last != snap && al.TS != "" {
		if err := a.timeline(tx, inc.ID, incident.Entry{Time: now, Actor: incident.SystemActor,
			Action: changeAction(al.Last, snap), Outcome: changeOutcome(inc), Detail: inc.Reason}); err != nil {
			return err
		}
	}
	// Before the first post, changes just shape the alert.
	al.Last = snap
	al.Rev++
	due := al.DueAt
	if al.TS != "" || now.After(due) {
		due = now
	}
	if err := tx.PutAlert(al); err != nil {
		return err
	}
	return tx.MarkDirty(inc.ID, due)
}

// changeAction names what detection changed.
func changeAction(old, cur incident.Snapshot) string {
	switch {
	case old.Status != cur.Status:
		return "status " + string(cur.Status)
	case old.Classification != cur.Classification:
		return "reclassified " + string(cur.Classification)
	default:
		return "severity " + string(cur.Severity)
	}
}

func changeOutcome(inc *incident.Incident) string {
	switch inc.Status {
	case incident.StatusRecovered:
		return "a successful MFA sign-in followed the failures"
	case incident.StatusMerged:
		return "explained by password spray " + inc.MergedInto
	}
	return fmt.Sprintf("%d failures", inc.Failures)
}

// timeline records an entry in the audit log and queues its line for the
// alert's thread.
func (a *App) timeline(tx *store.Tx, id string, e incident.Entry) error {
	if _, err := tx.AppendAudit(store.AuditEntry{Time: e.Time, Actor: e.Actor, Action: e.Action,
		IncidentID: id, Outcome: e.Outcome, Detail: e.Detail}); err != nil {
		return err
	}
	return tx.QueueThread(id, incident.ThreadMessage{Text: TimelineLine(e)})
}

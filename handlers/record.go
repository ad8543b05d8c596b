package handlers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// Record applies sign-in events to the store in one transaction: detection,
// the incidents' alert state, timeline lines for what changed, and the
// Slack work that follows. It returns only once all of it is committed, so
// an event source may acknowledge the events (delete the SQS message,
// advance the checkpoint) as soon as it returns.
//
// Concurrent calls share a transaction (group commit: one fsync for all of
// them), so sources that record from several goroutines do not wait for
// each other's commits.
func (a *App) Record(ctx context.Context, events []cloudtrail.SignIn) error {
	if len(events) == 0 {
		return nil
	}
	events = slices.Clone(events)
	slices.SortFunc(events, func(x, y cloudtrail.SignIn) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.EventID, y.EventID))
	})
	now := a.now()
	wake := false
	// State that only matters within detection windows is pruned
	// relative to the events, so that replaying old files in batches
	// keeps what later batches need; dedupe keys are kept from now.
	pruneAt := now
	if last := events[len(events)-1].Time; last.Before(now) {
		pruneAt = last
	}
	// Store.Batch may run the function more than once (when a function
	// sharing its transaction fails): it starts afresh every time and
	// reports through wake only what the committed run did.
	err := a.Store.Batch(ctx, func(tx *store.Tx) error {
		wake = false
		tx.SetSeenAt(now)
		st := newRecordState(tx)
		for _, ev := range events {
			r, err := a.Engine.Apply(st, ev)
			if err != nil {
				return fmt.Errorf("event %s: %w", ev.EventID, err)
			}
			for _, inc := range r.Changed {
				if err := a.noteChange(st, inc, now); err != nil {
					return err
				}
			}
		}
		w, err := st.flush(now)
		if err != nil {
			return err
		}
		wake = w
		if _, err := tx.PruneEvery(pruneAt, recordPruneEvery); err != nil {
			return fmt.Errorf("prune: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d events: %w", len(events), err)
	}
	if wake {
		a.wake()
	}
	return nil
}

// recordPruneEvery is how often Record prunes detection state: pruning walks
// every IP tally, which a burst of small batches cannot afford each time.
const recordPruneEvery = time.Second

// Detection changes an alert that is already in the channel with every
// event of a burst. Changes of its counts and evidence are gathered for
// updateWait (the group wait, within these bounds) and shown by one
// chat.update, so that a password spray costs a few edits of its alert
// rather than one per batch of events. A new classification, severity or
// status (what the timeline reports) is shown at once, as are clicks
// (App.change).
const (
	minUpdateWait = time.Second
	maxUpdateWait = 30 * time.Second
)

func (a *App) updateWait() time.Duration {
	return min(max(a.Cfg.GroupWait, minUpdateWait), maxUpdateWait)
}

// noteChange updates an incident's alert state after detection changed it:
// a new incident waits the group window before its first post; a posted one
// is updated at once when its classification, severity or status changed
// (which goes on the timeline too), and after updateWait otherwise.
func (a *App) noteChange(st *recordState, inc *incident.Incident, now time.Time) error {
	tx := st.tx
	al, err := st.alert(inc.ID)
	if err != nil {
		return err
	}
	snap := incident.SnapshotOf(inc)
	changed := al != nil && al.Last != snap
	if al == nil {
		al = &incident.Alert{IncidentID: inc.ID, DueAt: now.Add(a.Cfg.GroupWait), Last: snap}
		if _, err := tx.AppendAudit(store.AuditEntry{Time: now, Actor: incident.SystemActor, Action: "detected",
			IncidentID: inc.ID, Outcome: string(inc.Classification), Detail: inc.Reason}); err != nil {
			return err
		}
	} else if changed && al.TS != "" {
		if err := a.timeline(tx, inc.ID, incident.Entry{Time: now, Actor: incident.SystemActor,
			Action: changeAction(al.Last, snap), Outcome: changeOutcome(inc), Detail: inc.Reason}); err != nil {
			return err
		}
	}
	// Before the first post, changes just shape the alert.
	al.Last = snap
	al.Rev++
	due := al.DueAt
	switch {
	case al.TS != "" && !changed:
		due = now.Add(a.updateWait())
	case al.TS != "" || now.After(due):
		due = now
	}
	st.putAlert(al)
	st.markDirty(inc.ID, due)
	return nil
}

// recordState is detect.State over one Record transaction that keeps the
// incidents and alerts it has read decoded and writes each back once, when
// the events are applied: a burst of events for one incident (a password
// spray) costs one decode and one encode of it per Record, not per event.
// Everything else goes straight to the transaction.
type recordState struct {
	tx *store.Tx

	incs     map[string]*incident.Incident // by id, as last read or put
	latest   map[string]string             // subject key -> id ("" for none)
	incDirty map[string]bool               // ids to write back
	incOrder []string                      // the same, in order

	alerts     map[string]*incident.Alert // by incident id; nil: none stored
	alertDirty map[string]bool            // alerts to write back
	alertOrder []string                   // the same, in order

	due      map[string]time.Time // earliest MarkDirty of each incident
	dueOrder []string
}

var _ detect.State = (*recordState)(nil)

func newRecordState(tx *store.Tx) *recordState {
	return &recordState{tx: tx, incs: map[string]*incident.Incident{}, latest: map[string]string{},
		incDirty: map[string]bool{}, alerts: map[string]*incident.Alert{}, alertDirty: map[string]bool{},
		due: map[string]time.Time{}}
}

func (s *recordState) MarkSeen(account, eventID string, eventTime time.Time) (bool, error) {
	return s.tx.MarkSeen(account, eventID, eventTime)
}

func (s *recordState) LatestIncident(subjectKey string) (*incident.Incident, error) {
	if id, ok := s.latest[subjectKey]; ok {
		if id == "" {
			return nil, nil
		}
		return s.Incident(id)
	}
	inc, err := s.tx.LatestIncident(subjectKey)
	if err != nil || inc == nil {
		if err == nil {
			s.latest[subjectKey] = ""
		}
		return nil, err
	}
	if cached, ok := s.incs[inc.ID]; ok {
		inc = cached // read before through Incident, maybe changed since
	} else {
		s.incs[inc.ID] = inc
	}
	s.latest[subjectKey] = inc.ID
	return cloneIncident(inc), nil
}

func (s *recordState) Incident(id string) (*incident.Incident, error) {
	if inc, ok := s.incs[id]; ok {
		return cloneIncident(inc), nil
	}
	inc, err := s.tx.Incident(id)
	if err != nil {
		return nil, err
	}
	s.incs[id] = inc
	return cloneIncident(inc), nil
}

func (s *recordState) PutIncident(inc *incident.Incident) error {
	if inc == nil {
		return s.tx.PutIncident(inc)
	}
	if inc.ID == "" {
		// A new incident gets its id (and becomes its subject's
		// latest) from the store at once.
		if err := s.tx.PutIncident(inc); err != nil {
			return err
		}
		s.incs[inc.ID] = cloneIncident(inc)
		s.latest[inc.Subject.Key()] = inc.ID
		return nil
	}
	if _, ok := s.incs[inc.ID]; !ok {
		return s.tx.PutIncident(inc) // not read through here: write through
	}
	if !s.incDirty[inc.ID] {
		s.incDirty[inc.ID] = true
		s.incOrder = append(s.incOrder, inc.ID)
	}
	s.incs[inc.ID] = cloneIncident(inc)
	return nil
}

func (s *recordState) AddMFASuccess(subjectKey string, at time.Time) error {
	return s.tx.AddMFASuccess(subjectKey, at)
}

func (s *recordState) LastMFASuccess(subjectKey string, from, to time.Time) (time.Time, bool, error) {
	return s.tx.LastMFASuccess(subjectKey, from, to)
}

func (s *recordState) TouchIPTarget(account, ip, target string, at, since time.Time, mfa incident.Stage) (detect.IPTarget, error) {
	return s.tx.TouchIPTarget(account, ip, target, at, since, mfa)
}

func (s *recordState) IPTargets(account, ip string, since time.Time) ([]detect.IPTarget, error) {
	return s.tx.IPTargets(account, ip, since)
}

// alert returns the incident's alert state, read once per Record; the
// caller may change it and hand it to putAlert.
func (s *recordState) alert(id string) (*incident.Alert, error) {
	if al, ok := s.alerts[id]; ok {
		return al, nil
	}
	al, err := s.tx.Alert(id)
	if err != nil {
		return nil, err
	}
	s.alerts[id] = al
	return al, nil
}

func (s *recordState) putAlert(al *incident.Alert) {
	if !s.alertDirty[al.IncidentID] {
		s.alertDirty[al.IncidentID] = true
		s.alertOrder = append(s.alertOrder, al.IncidentID)
	}
	s.alerts[al.IncidentID] = al
}

// markDirty is tx.MarkDirty, applied at flush: the earliest time stands.
func (s *recordState) markDirty(id string, at time.Time) {
	if cur, ok := s.due[id]; ok {
		if at.Before(cur) {
			s.due[id] = at
		}
		return
	}
	s.due[id] = at
	s.dueOrder = append(s.dueOrder, id)
}

// flush writes back the incidents and alerts that changed and marks their
// Slack work. It reports whether the syncer must look again: when work is
// new, or due earlier than the syncer was told, or due already (the syncer
// may be past it). Work that only waits longer for its group or update
// window needs no wake-up: the syncer's timer is set for it.
func (s *recordState) flush(now time.Time) (bool, error) {
	for _, id := range s.incOrder {
		if err := s.tx.PutIncident(s.incs[id]); err != nil {
			return false, err
		}
	}
	for _, id := range s.alertOrder {
		if err := s.tx.PutAlert(s.alerts[id]); err != nil {
			return false, err
		}
	}
	wake := false
	for _, id := range s.dueOrder {
		at := s.due[id]
		old, ok, err := s.tx.DirtyAt(id)
		if err != nil {
			return false, err
		}
		if !ok || at.Before(old) || !old.After(now) {
			wake = true
		}
		if err := s.tx.MarkDirty(id, at); err != nil {
			return false, err
		}
	}
	return wake, nil
}

// cloneIncident copies an incident deeply enough that changing the copy
// leaves the original alone.
func cloneIncident(inc *incident.Incident) *incident.Incident {
	c := *inc
	c.SourceIPs = slices.Clone(inc.SourceIPs)
	c.UserAgents = slices.Clone(inc.UserAgents)
	c.Regions = slices.Clone(inc.Regions)
	c.Targets = slices.Clone(inc.Targets)
	c.Recent = slices.Clone(inc.Recent)
	c.PriorMFASuccess = clonePtr(inc.PriorMFASuccess)
	c.RecoveredAt = clonePtr(inc.RecoveredAt)
	c.ResolvedAt = clonePtr(inc.ResolvedAt)
	return &c
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
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

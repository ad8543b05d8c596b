package store

import (
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/incident"
)

func TestAlertsAndIndexes(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		a := &incident.Alert{IncidentID: "INC-1", Rev: 2, Channel: "C1", TS: "100.1",
			Reset: &incident.Reset{IncidentID: "INC-1", Status: incident.ResetPending, MessageTS: "100.2"}}
		if err := tx.PutAlert(a); err != nil {
			return err
		}
		for _, ts := range []string{"100.1", "100.2"} {
			if id, _ := tx.AlertByTS("C1", ts); id != "INC-1" {
				t.Errorf("AlertByTS(C1, %s): got %q, want INC-1", ts, id)
			}
		}
		if id, _ := tx.AlertByTS("C2", "100.1"); id != "" {
			t.Errorf("AlertByTS in another channel: got %q, want none", id)
		}
		got, err := tx.Alert("INC-1")
		if err != nil || got == nil || got.Rev != 2 || got.Reset.MessageTS != "100.2" {
			t.Errorf("Alert: got %+v, %v", got, err)
		}
		if none, err := tx.Alert("INC-9"); none != nil || err != nil {
			t.Errorf("Alert(unknown): got %+v, %v; want nil, nil", none, err)
		}
		return nil
	})
}

func TestDirtyKeepsTheEarliestTime(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		tx.MarkDirty("INC-2", t0.Add(time.Minute))
		tx.MarkDirty("INC-1", t0.Add(30*time.Second))
		tx.MarkDirty("INC-2", t0)                  // earlier: wins
		tx.MarkDirty("INC-1", t0.Add(time.Minute)) // later: ignored
		d, err := tx.Dirty()
		if err != nil {
			return err
		}
		if len(d) != 2 || d[0] != (Due{"INC-2", t0}) || d[1] != (Due{"INC-1", t0.Add(30 * time.Second)}) {
			t.Errorf("Dirty: got %+v", d)
		}
		if err := tx.ClearDirty("INC-2"); err != nil {
			return err
		}
		if d, _ := tx.Dirty(); len(d) != 1 || d[0].IncidentID != "INC-1" {
			t.Errorf("after ClearDirty: got %+v", d)
		}
		return nil
	})
}

func TestThreadQueueOrderPerIncident(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		for _, m := range []struct{ id, text string }{{"INC-1", "a"}, {"INC-10", "x"}, {"INC-1", "b"}, {"INC-1", "c"}} {
			if err := tx.QueueThread(m.id, incident.ThreadMessage{Text: m.text}); err != nil {
				return err
			}
		}
		q, err := tx.ThreadQueue("INC-1")
		if err != nil {
			return err
		}
		if len(q) != 3 || q[0].Msg.Text != "a" || q[1].Msg.Text != "b" || q[2].Msg.Text != "c" {
			t.Fatalf("queue of INC-1: got %+v, want a, b, c (and not INC-10's)", q)
		}
		if err := tx.DropThread("INC-1", q[0].Seq); err != nil {
			return err
		}
		q, _ = tx.ThreadQueue("INC-1")
		if len(q) != 2 || q[0].Msg.Text != "b" {
			t.Fatalf("after drop: got %+v", q)
		}
		return nil
	})
}

func TestAuditIndexByIncident(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		for i, id := range []string{"INC-1", "INC-2", "INC-1", ""} {
			if _, err := tx.AppendAudit(AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), Actor: "U1", Action: "a", IncidentID: id}); err != nil {
				return err
			}
		}
		es, err := tx.AuditEntries("INC-1")
		if err != nil {
			return err
		}
		if len(es) != 2 || es[0].Seq != 1 || es[1].Seq != 3 {
			t.Errorf("entries of INC-1: got %+v", es)
		}
		return nil
	})
}

func TestSeenAtExtendsDedupeRetention(t *testing.T) {
	s := openTest(t)
	old := t0.Add(-30 * 24 * time.Hour)
	update(t, s, func(tx *Tx) error {
		tx.SetSeenAt(t0)
		_, err := tx.MarkSeen("111122223333", "old-event", old)
		return err
	})
	if _, err := s.Prune(t.Context(), t0.Add(47*time.Hour)); err != nil {
		t.Fatal(err)
	}
	update(t, s, func(tx *Tx) error {
		isNew, err := tx.MarkSeen("111122223333", "old-event", old)
		if isNew {
			t.Error("a month-old event seen 47 hours ago was forgotten")
		}
		return err
	})
}

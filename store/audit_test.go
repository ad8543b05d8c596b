package store

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// appendThree appends three audit entries, two about INC-1 and one about
// INC-2, and returns them as stored.
func appendThree(t *testing.T, s *Store) []AuditEntry {
	t.Helper()
	in := []AuditEntry{
		{Time: t0, Actor: SystemActor, Action: "alert", IncidentID: "INC-1", Outcome: "posted"},
		{Time: t0.Add(time.Minute), Actor: "U012AB3CD", Action: "dm_user", IncidentID: "INC-1", Outcome: "sent", Detail: "asked alice"},
		{Time: t0.Add(2 * time.Minute), Actor: "U012AB3CD", Action: "resolve", IncidentID: "INC-2", Outcome: "ok"},
	}
	var out []AuditEntry
	update(t, s, func(tx *Tx) error {
		for _, e := range in {
			got, err := tx.AppendAudit(e)
			if err != nil {
				return err
			}
			out = append(out, got)
		}
		return nil
	})
	return out
}

func TestAuditChain(t *testing.T) {
	s := openTest(t)
	entries := appendThree(t, s)
	prev := ""
	for i, e := range entries {
		if e.Seq != uint64(i+1) {
			t.Fatalf("entry %d seq: got %d, want %d", i, e.Seq, i+1)
		}
		if e.PrevHash != prev {
			t.Fatalf("entry %d prev hash: got %q, want %q", i, e.PrevHash, prev)
		}
		if e.Hash == "" || e.Hash != e.computeHash() {
			t.Fatalf("entry %d hash: got %q, want %q", i, e.Hash, e.computeHash())
		}
		prev = e.Hash
	}
	n, err := s.VerifyAudit(t.Context())
	if err != nil || n != 3 {
		t.Fatalf("verify: got (%d, %v), want (3, nil)", n, err)
	}
	tests := []struct {
		incidentID string
		wantSeqs   []uint64
	}{
		{"", []uint64{1, 2, 3}},
		{"INC-1", []uint64{1, 2}},
		{"INC-2", []uint64{3}},
		{"INC-9", nil},
	}
	view(t, s, func(tx *Tx) error {
		for _, tt := range tests {
			got, err := tx.AuditEntries(tt.incidentID)
			if err != nil {
				return err
			}
			if len(got) != len(tt.wantSeqs) {
				t.Fatalf("entries of %q: got %d, want %d", tt.incidentID, len(got), len(tt.wantSeqs))
			}
			for i, e := range got {
				if e.Seq != tt.wantSeqs[i] || e.Hash != entries[e.Seq-1].Hash || !e.Time.Equal(entries[e.Seq-1].Time) {
					t.Fatalf("entries of %q [%d]: got %+v, want %+v", tt.incidentID, i, e, entries[tt.wantSeqs[i]-1])
				}
			}
		}
		return nil
	})
}

// editAudit rewrites entry seq directly in bbolt, bypassing the store.
func editAudit(t *testing.T, s *Store, seq uint64, edit func(e *AuditEntry)) {
	t.Helper()
	raw(t, s, func(btx *bbolt.Tx) error {
		b := btx.Bucket([]byte(bucketAudit))
		var e AuditEntry
		if err := json.Unmarshal(b.Get(auditKey(seq)), &e); err != nil {
			return err
		}
		edit(&e)
		data, err := json.Marshal(&e)
		if err != nil {
			return err
		}
		return b.Put(auditKey(seq), data)
	})
}

// setAuditBytes overwrites (or with nil deletes) entry seq's stored bytes.
func setAuditBytes(t *testing.T, s *Store, seq uint64, data []byte) {
	t.Helper()
	raw(t, s, func(btx *bbolt.Tx) error {
		b := btx.Bucket([]byte(bucketAudit))
		if data == nil {
			return b.Delete(auditKey(seq))
		}
		return b.Put(auditKey(seq), data)
	})
}

// auditBytes returns a copy of entry seq's stored bytes.
func auditBytes(t *testing.T, s *Store, seq uint64) []byte {
	t.Helper()
	var out []byte
	raw(t, s, func(btx *bbolt.Tx) error {
		out = append([]byte(nil), btx.Bucket([]byte(bucketAudit)).Get(auditKey(seq))...)
		return nil
	})
	return out
}

func TestVerifyAuditDetectsTampering(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(t *testing.T, s *Store)
		wantSeq uint64
	}{
		{"detail edited", func(t *testing.T, s *Store) {
			editAudit(t, s, 2, func(e *AuditEntry) { e.Detail = "asked bob" })
		}, 2},
		{"outcome edited and its hash recomputed", func(t *testing.T, s *Store) {
			editAudit(t, s, 2, func(e *AuditEntry) { e.Outcome = "failed"; e.Hash = e.computeHash() })
		}, 3},
		{"time edited", func(t *testing.T, s *Store) {
			editAudit(t, s, 1, func(e *AuditEntry) { e.Time = e.Time.Add(time.Second) })
		}, 1},
		{"bytes garbled", func(t *testing.T, s *Store) {
			setAuditBytes(t, s, 2, []byte(`{"seq":2,`))
		}, 2},
		{"first entry deleted", func(t *testing.T, s *Store) { setAuditBytes(t, s, 1, nil) }, 1},
		{"middle entry deleted", func(t *testing.T, s *Store) { setAuditBytes(t, s, 2, nil) }, 2},
		{"last entry deleted", func(t *testing.T, s *Store) { setAuditBytes(t, s, 3, nil) }, 3},
		{"entries swapped", func(t *testing.T, s *Store) {
			one, two := auditBytes(t, s, 1), auditBytes(t, s, 2)
			setAuditBytes(t, s, 1, two)
			setAuditBytes(t, s, 2, one)
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t)
			appendThree(t, s)
			tt.tamper(t, s)
			_, err := s.VerifyAudit(t.Context())
			if !errors.Is(err, ErrAuditTampered) {
				t.Fatalf("verify: got %v, want ErrAuditTampered", err)
			}
			var ae *AuditError
			if !errors.As(err, &ae) || ae.Seq != tt.wantSeq {
				t.Fatalf("verify: got %v, want entry %d named", err, tt.wantSeq)
			}
		})
	}
}

func TestAppendAuditValidates(t *testing.T) {
	s := openTest(t)
	tests := []struct {
		name string
		e    AuditEntry
	}{
		{"no actor", AuditEntry{Action: "alert"}},
		{"no action", AuditEntry{Actor: SystemActor}},
		{"time out of range", AuditEntry{Actor: SystemActor, Action: "alert", Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(t.Context(), func(tx *Tx) error {
				_, err := tx.AppendAudit(tt.e)
				return err
			})
			if err == nil {
				t.Fatalf("append: got no error, want one")
			}
		})
	}
	var got AuditEntry
	update(t, s, func(tx *Tx) error {
		var err error
		got, err = tx.AppendAudit(AuditEntry{Actor: SystemActor, Action: "alert", Seq: 99, Hash: "forged"})
		return err
	})
	if got.Seq != 1 || got.Time.IsZero() || got.Hash != got.computeHash() {
		t.Fatalf("append with zero time: got %+v, want seq 1, a time and its own hash", got)
	}
	if n, err := s.VerifyAudit(t.Context()); err != nil || n != 1 {
		t.Fatalf("verify: got (%d, %v), want (1, nil)", n, err)
	}
}

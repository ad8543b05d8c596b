package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mfabot/mfabot/internal/incident"
)

const account = "111111111111"

func userSubject(user string) incident.Subject {
	return incident.Subject{Kind: incident.KindUser, Account: account, User: user}
}

// ids returns the ids of incs, in order, joined for easy comparison.
func ids(incs []*incident.Incident) string {
	var b bytes.Buffer
	for i, inc := range incs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(inc.ID)
	}
	return b.String()
}

func TestPutIncidentAssignsIDsAndSubjects(t *testing.T) {
	s := openTest(t)
	alice1 := &incident.Incident{Subject: userSubject("alice"), FirstSeen: t0}
	bob := &incident.Incident{Subject: userSubject("bob"), FirstSeen: t0.Add(time.Minute)}
	alice2 := &incident.Incident{Subject: userSubject("alice"), FirstSeen: t0.Add(time.Hour)}
	for _, tt := range []struct {
		inc    *incident.Incident
		wantID string
	}{{alice1, "INC-1"}, {bob, "INC-2"}, {alice2, "INC-3"}} {
		update(t, s, func(tx *Tx) error { return tx.PutIncident(tt.inc) })
		if tt.inc.ID != tt.wantID {
			t.Fatalf("assigned id: got %s, want %s", tt.inc.ID, tt.wantID)
		}
	}
	// Replacing an incident keeps its id and does not touch subjects.
	alice1.Status = incident.StatusResolved
	update(t, s, func(tx *Tx) error { return tx.PutIncident(alice1) })
	if alice1.ID != "INC-1" {
		t.Fatalf("id after replace: got %s, want INC-1", alice1.ID)
	}
	tests := []struct {
		subject incident.Subject
		wantID  string
	}{
		{userSubject("alice"), "INC-3"},
		{userSubject("bob"), "INC-2"},
	}
	view(t, s, func(tx *Tx) error {
		for _, tt := range tests {
			got, err := tx.LatestIncident(tt.subject.Key())
			if err != nil {
				return err
			}
			if got == nil || got.ID != tt.wantID {
				t.Fatalf("latest of %s: got %v, want %s", tt.subject, got, tt.wantID)
			}
		}
		got, err := tx.Incident("INC-1")
		if err != nil {
			return err
		}
		if got.Status != incident.StatusResolved {
			t.Fatalf("INC-1 status: got %s, want %s", got.Status, incident.StatusResolved)
		}
		return nil
	})
	if got := keyCount(t, s, bucketIncidentsFirst); got != 3 {
		t.Fatalf("first-seen index keys: got %d, want 3", got)
	}
}

func TestPutIncidentMovesFirstSeenIndex(t *testing.T) {
	s := openTest(t)
	a := &incident.Incident{Subject: userSubject("alice"), FirstSeen: t0.Add(time.Hour)}
	b := &incident.Incident{Subject: userSubject("bob"), FirstSeen: t0}
	update(t, s, func(tx *Tx) error {
		if err := tx.PutIncident(a); err != nil {
			return err
		}
		return tx.PutIncident(b)
	})
	list, err := s.ListIncidents(context.Background())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got := ids(list); got != "INC-2,INC-1" {
		t.Fatalf("order before move: got %s, want INC-2,INC-1", got)
	}
	// A late, out-of-order event moves INC-1's first failure earlier.
	a.FirstSeen = t0.Add(-time.Hour)
	update(t, s, func(tx *Tx) error { return tx.PutIncident(a) })
	list, err = s.ListIncidents(context.Background())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if got := ids(list); got != "INC-1,INC-2" {
		t.Fatalf("order after move: got %s, want INC-1,INC-2", got)
	}
	if got := keyCount(t, s, bucketIncidentsFirst); got != 2 {
		t.Fatalf("first-seen index keys: got %d, want 2", got)
	}
}

func TestIncidentsTieOrderIsBytewiseID(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		for range 10 {
			if err := tx.PutIncident(&incident.Incident{Subject: userSubject("alice"), FirstSeen: t0}); err != nil {
				return err
			}
		}
		return nil
	})
	list, err := s.ListIncidents(context.Background())
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	want := "INC-1,INC-10,INC-2,INC-3,INC-4,INC-5,INC-6,INC-7,INC-8,INC-9"
	if got := ids(list); got != want {
		t.Fatalf("order: got %s, want %s", got, want)
	}
}

func TestPutIncidentRoundTrip(t *testing.T) {
	s := openTest(t)
	prior := t0.Add(-10 * time.Minute)
	in := &incident.Incident{
		Subject:         userSubject("alice"),
		Classification:  incident.TokenExpiryLikely,
		Reason:          "3 failures after an MFA success",
		Severity:        incident.Medium,
		Stage:           incident.StageMFA,
		Status:          incident.StatusOpen,
		Failures:        3,
		FirstSeen:       t0,
		LastSeen:        t0.Add(2 * time.Minute),
		SourceIPs:       []string{"192.0.2.1", "192.0.2.2"},
		UserAgents:      []string{"Mozilla/5.0"},
		Regions:         []string{"us-east-1"},
		PriorMFASuccess: &prior,
		MFAYes:          3,
		Recent:          []incident.Failure{{Time: t0, SourceIP: "192.0.2.1"}},
		FirstEventID:    "ev-1",
		LastEventID:     "ev-3",
		LastRegion:      "us-east-1",
		UpdatedAt:       t0.Add(2 * time.Minute),
	}
	update(t, s, func(tx *Tx) error { return tx.PutIncident(in) })
	var got *incident.Incident
	view(t, s, func(tx *Tx) error {
		var err error
		got, err = tx.Incident(in.ID)
		return err
	})
	wantJSON, _ := json.Marshal(in)
	gotJSON, _ := json.Marshal(got)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Fatalf("round trip: got %s, want %s", gotJSON, wantJSON)
	}
}

func TestPutIncidentExplicitID(t *testing.T) {
	s := openTest(t)
	imported := &incident.Incident{ID: "INC-7", Subject: userSubject("alice"), FirstSeen: t0}
	next := &incident.Incident{Subject: userSubject("bob"), FirstSeen: t0}
	update(t, s, func(tx *Tx) error {
		if err := tx.PutIncident(imported); err != nil {
			return err
		}
		return tx.PutIncident(next)
	})
	if next.ID != "INC-8" {
		t.Fatalf("id after an imported INC-7: got %s, want INC-8", next.ID)
	}
	view(t, s, func(tx *Tx) error {
		got, err := tx.LatestIncident(userSubject("alice").Key())
		if err != nil {
			return err
		}
		if got == nil || got.ID != "INC-7" {
			t.Fatalf("latest of alice: got %v, want INC-7", got)
		}
		return nil
	})
}

func TestPutIncidentRejects(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		return tx.PutIncident(&incident.Incident{Subject: userSubject("alice"), FirstSeen: t0})
	})
	tests := []struct {
		name string
		inc  *incident.Incident
	}{
		{"nil", nil},
		{"no account", &incident.Incident{Subject: incident.Subject{Kind: incident.KindUser, User: "alice"}}},
		{"subject changes", &incident.Incident{ID: "INC-1", Subject: userSubject("bob"), FirstSeen: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(context.Background(), func(tx *Tx) error { return tx.PutIncident(tt.inc) })
			if err == nil {
				t.Fatalf("put: got no error, want one")
			}
		})
	}
}

func TestLatestIncidentUnknown(t *testing.T) {
	s := openTest(t)
	view(t, s, func(tx *Tx) error {
		for _, key := range []string{userSubject("nobody").Key(), ""} {
			got, err := tx.LatestIncident(key)
			if err != nil {
				return err
			}
			if got != nil {
				t.Fatalf("latest of %q: got %v, want nil", key, got)
			}
		}
		return nil
	})
}

func TestIncidentNotFound(t *testing.T) {
	s := openTest(t)
	view(t, s, func(tx *Tx) error {
		for _, id := range []string{"INC-9", ""} {
			_, err := tx.Incident(id)
			if !errors.Is(err, incident.ErrNotFound) {
				t.Fatalf("incident %q: got %v, want ErrNotFound", id, err)
			}
		}
		_, err := tx.Incident("INC-9")
		if got, want := err.Error(), "incident INC-9: incident not found"; got != want {
			t.Fatalf("message: got %q, want %q", got, want)
		}
		return nil
	})
}

func TestCorruptIncidentNamesKey(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		return tx.PutIncident(&incident.Incident{Subject: userSubject("alice"), FirstSeen: t0})
	})
	raw(t, s, func(btx *bbolt.Tx) error {
		return btx.Bucket([]byte(bucketIncidents)).Put([]byte("INC-1"), []byte("{not json"))
	})
	err := s.View(context.Background(), func(tx *Tx) error {
		_, err := tx.Incident("INC-1")
		return err
	})
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("INC-1")) {
		t.Fatalf("corrupt incident: got %v, want an error naming INC-1", err)
	}
	if err := s.Check(); err == nil {
		t.Fatalf("check of a corrupt incident: got no error, want one")
	}
	// Repair so that the cleanup check passes.
	raw(t, s, func(btx *bbolt.Tx) error {
		data, _ := json.Marshal(&incident.Incident{ID: "INC-1", Subject: userSubject("alice"), FirstSeen: t0})
		return btx.Bucket([]byte(bucketIncidents)).Put([]byte("INC-1"), data)
	})
}

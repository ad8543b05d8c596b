package store

import (
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mfabot/mfabot/internal/incident"
)

func TestPrune(t *testing.T) {
	s := openTest(t) // default retentions: dedupe 48h, logins 24h, ip targets 1h
	now := t0
	alice, bob := userSubject("alice").Key(), userSubject("bob").Key()
	update(t, s, func(tx *Tx) error {
		for id, at := range map[string]time.Time{
			"old":  now.Add(-48*time.Hour - time.Nanosecond),
			"edge": now.Add(-48 * time.Hour),
			"new":  now.Add(-time.Hour),
		} {
			if _, err := tx.MarkSeen(account, id, at); err != nil {
				return err
			}
		}
		for _, l := range []struct {
			subject string
			at      time.Time
		}{
			{alice, now.Add(-24*time.Hour - time.Nanosecond)},
			{alice, now.Add(-24 * time.Hour)},
			{bob, now.Add(-25 * time.Hour)},
		} {
			if err := tx.AddMFASuccess(l.subject, l.at); err != nil {
				return err
			}
		}
		for target, at := range map[string]time.Time{
			"old":  now.Add(-time.Hour - time.Nanosecond),
			"edge": now.Add(-time.Hour),
		} {
			if _, err := tx.TouchIPTarget(account, "192.0.2.1", target, at, time.Time{}, incident.StageUnknown); err != nil {
				return err
			}
		}
		return tx.PutIncident(&incident.Incident{Subject: userSubject("alice"), FirstSeen: now.Add(-30 * 24 * time.Hour)})
	})

	var got Pruned
	update(t, s, func(tx *Tx) error {
		var err error
		got, err = tx.Prune(now)
		return err
	})
	if want := (Pruned{Dedupe: 1, MFALogins: 2, IPTargets: 1}); got != want {
		t.Fatalf("pruned: got %+v, want %+v", got, want)
	}

	update(t, s, func(tx *Tx) error {
		for _, tt := range []struct {
			id   string
			want bool
		}{{"old", true}, {"edge", false}, {"new", false}} {
			isNew, err := tx.MarkSeen(account, tt.id, now)
			if err != nil {
				return err
			}
			if isNew != tt.want {
				t.Fatalf("mark seen %s after prune: got %v, want %v", tt.id, isNew, tt.want)
			}
		}
		last, ok, err := tx.LastMFASuccess(alice, time.Time{}, now)
		if err != nil {
			return err
		}
		if !ok || !last.Equal(now.Add(-24*time.Hour)) {
			t.Fatalf("alice's success after prune: got (%v, %v), want (%v, true)", last, ok, now.Add(-24*time.Hour))
		}
		targets, err := tx.IPTargets(account, "192.0.2.1", time.Time{})
		if err != nil {
			return err
		}
		if len(targets) != 1 || targets[0].Target != "edge" {
			t.Fatalf("ip targets after prune: got %+v, want only edge", targets)
		}
		if _, err := tx.Incident("INC-1"); err != nil {
			t.Fatalf("incident after prune: got %v, want it kept", err)
		}
		return nil
	})
	raw(t, s, func(btx *bbolt.Tx) error {
		if btx.Bucket([]byte(bucketMFALogins)).Bucket([]byte(bob)) != nil {
			t.Fatalf("bob's mfa bucket: got present, want dropped once empty")
		}
		return nil
	})

	// A second prune at the same time finds nothing more. ("old" was
	// marked again at now, so it stays.)
	update(t, s, func(tx *Tx) error {
		got, err := tx.Prune(now)
		if got != (Pruned{}) {
			t.Fatalf("second prune: got %+v, want nothing", got)
		}
		return err
	})
}

func TestPruneRetentionOptions(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		seenAt time.Duration // before now
		login  time.Duration // before now
		want   Pruned
	}{
		{"short dedupe retention is clamped to 48h", Options{DedupeRetention: time.Hour}, 47 * time.Hour, time.Minute, Pruned{}},
		{"longer dedupe retention", Options{DedupeRetention: 72 * time.Hour}, 71 * time.Hour, time.Minute, Pruned{}},
		{"dedupe past 72h", Options{DedupeRetention: 72 * time.Hour}, 73 * time.Hour, time.Minute, Pruned{Dedupe: 1}},
		{"short login retention", Options{LoginRetention: time.Hour}, time.Minute, 2 * time.Hour, Pruned{MFALogins: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openTest(t, tt.opts)
			update(t, s, func(tx *Tx) error {
				if _, err := tx.MarkSeen(account, "ev-1", t0.Add(-tt.seenAt)); err != nil {
					return err
				}
				return tx.AddMFASuccess(userSubject("alice").Key(), t0.Add(-tt.login))
			})
			got, err := s.Prune(t.Context(), t0)
			if err != nil {
				t.Fatalf("prune: %v", err)
			}
			if got != tt.want {
				t.Fatalf("pruned: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

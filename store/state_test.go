package store

import (
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
)

func TestMarkSeen(t *testing.T) {
	s := openTest(t)
	steps := []struct {
		account, eventID string
		want             bool
	}{
		{account, "ev-1", true},
		{account, "ev-1", false},
		{"222222222222", "ev-1", true},
		{account, "ev-2", true},
	}
	for i, st := range steps {
		update(t, s, func(tx *Tx) error {
			got, err := tx.MarkSeen(st.account, st.eventID, t0)
			if got != st.want {
				t.Fatalf("step %d: mark seen (%s, %s): got %v, want %v", i, st.account, st.eventID, got, st.want)
			}
			return err
		})
	}
	s = reopenTest(t, s)
	update(t, s, func(tx *Tx) error {
		got, err := tx.MarkSeen(account, "ev-1", t0)
		if got != false {
			t.Fatalf("mark seen after reopen: got %v, want false", got)
		}
		return err
	})
	if got := keyCount(t, s, bucketDedupeByTime); got != 3 {
		t.Fatalf("dedupe_by_time keys: got %d, want 3", got)
	}
}

func TestMarkSeenRejectsBadKeys(t *testing.T) {
	s := openTest(t)
	tests := []struct{ name, account, eventID string }{
		{"empty event id", account, ""},
		{"NUL in account", "1111\x002222", "ev-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Update(t.Context(), func(tx *Tx) error {
				_, err := tx.MarkSeen(tt.account, tt.eventID, t0)
				return err
			})
			if err == nil {
				t.Fatalf("mark seen: got no error, want one")
			}
		})
	}
}

func TestLastMFASuccess(t *testing.T) {
	s := openTest(t)
	alice := userSubject("alice").Key()
	update(t, s, func(tx *Tx) error {
		for _, at := range []time.Time{t0, t0.Add(10 * time.Minute), t0.Add(20 * time.Minute)} {
			if err := tx.AddMFASuccess(alice, at); err != nil {
				return err
			}
		}
		return tx.AddMFASuccess(userSubject("bob").Key(), t0.Add(15*time.Minute))
	})
	tests := []struct {
		name     string
		subject  string
		from, to time.Time
		want     time.Time
		wantOK   bool
	}{
		{"latest of all", alice, t0.Add(-time.Hour), t0.Add(time.Hour), t0.Add(20 * time.Minute), true},
		{"to is inclusive", alice, t0.Add(-time.Hour), t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), true},
		{"just before to", alice, t0.Add(-time.Hour), t0.Add(20*time.Minute - time.Nanosecond), t0.Add(10 * time.Minute), true},
		{"from is inclusive", alice, t0.Add(20 * time.Minute), t0.Add(time.Hour), t0.Add(20 * time.Minute), true},
		{"single instant", alice, t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), true},
		{"earliest", alice, t0.Add(-time.Hour), t0, t0, true},
		{"gap between successes", alice, t0.Add(time.Minute), t0.Add(9 * time.Minute), time.Time{}, false},
		{"after the last", alice, t0.Add(20*time.Minute + time.Nanosecond), t0.Add(time.Hour), time.Time{}, false},
		{"before the first", alice, t0.Add(-time.Hour), t0.Add(-time.Nanosecond), time.Time{}, false},
		{"empty interval", alice, t0.Add(time.Hour), t0, time.Time{}, false},
		{"other subject kept apart", userSubject("bob").Key(), t0, t0.Add(time.Hour), t0.Add(15 * time.Minute), true},
		{"unknown subject", userSubject("carol").Key(), t0, t0.Add(time.Hour), time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(tx *Tx) error {
				got, ok, err := tx.LastMFASuccess(tt.subject, tt.from, tt.to)
				if ok != tt.wantOK || !got.Equal(tt.want) {
					t.Fatalf("last mfa success: got (%v, %v), want (%v, %v)", got, ok, tt.want, tt.wantOK)
				}
				return err
			})
		})
	}
}

func TestTouchIPTarget(t *testing.T) {
	s := openTest(t)
	const ip = "198.51.100.7"
	target := userSubject("alice").Key()
	steps := []struct {
		name      string
		at, since time.Time
		stage     incident.Stage
		want      detect.IPTarget
	}{
		{"first failure", t0, t0.Add(-time.Hour), incident.StageMFA,
			detect.IPTarget{Target: target, First: t0, Last: t0, Count: 1, MFAYes: 1}},
		{"later failure", t0.Add(time.Minute), t0.Add(-time.Hour), incident.StagePassword,
			detect.IPTarget{Target: target, First: t0, Last: t0.Add(time.Minute), Count: 2, MFAYes: 1, MFANo: 1}},
		{"out of order failure", t0.Add(-30 * time.Second), t0.Add(-time.Hour), incident.StageUnknown,
			detect.IPTarget{Target: target, First: t0.Add(-30 * time.Second), Last: t0.Add(time.Minute), Count: 3, MFAYes: 1, MFANo: 1, MFAUnknown: 1}},
		{"since equal to last keeps the tally", t0.Add(2 * time.Minute), t0.Add(time.Minute), "",
			detect.IPTarget{Target: target, First: t0.Add(-30 * time.Second), Last: t0.Add(2 * time.Minute), Count: 4, MFAYes: 1, MFANo: 1, MFAUnknown: 2}},
		{"stale tally starts afresh", t0.Add(2 * time.Hour), t0.Add(2*time.Minute + time.Nanosecond), incident.StagePassword,
			detect.IPTarget{Target: target, First: t0.Add(2 * time.Hour), Last: t0.Add(2 * time.Hour), Count: 1, MFANo: 1}},
	}
	for _, st := range steps {
		update(t, s, func(tx *Tx) error {
			got, err := tx.TouchIPTarget(account, ip, target, st.at, st.since, st.stage)
			if err != nil {
				return err
			}
			if !sameTarget(got, st.want) {
				t.Fatalf("%s: returned tally: got %+v, want %+v", st.name, got, st.want)
			}
			stored, err := tx.IPTargets(account, ip, time.Time{})
			if err != nil {
				return err
			}
			if len(stored) != 1 || !sameTarget(stored[0], st.want) {
				t.Fatalf("%s: stored tallies: got %+v, want [%+v]", st.name, stored, st.want)
			}
			return nil
		})
	}
}

// sameTarget compares tallies with time.Equal.
func sameTarget(a, b detect.IPTarget) bool {
	return a.Target == b.Target && a.First.Equal(b.First) && a.Last.Equal(b.Last) &&
		a.Count == b.Count && a.MFAYes == b.MFAYes && a.MFANo == b.MFANo && a.MFAUnknown == b.MFAUnknown
}

func TestIPTargets(t *testing.T) {
	s := openTest(t)
	const ip = "192.0.2.4"
	touches := []struct {
		account, ip, target string
		at                  time.Time
	}{
		{account, ip, "carol", t0.Add(20 * time.Minute)},
		{account, ip, "alice", t0},
		{account, ip, "bob", t0.Add(10 * time.Minute)},
		{account, "192.0.2.45", "dave", t0.Add(20 * time.Minute)}, // shares the ip as a string prefix
		{"222222222222", ip, "erin", t0.Add(20 * time.Minute)},
	}
	update(t, s, func(tx *Tx) error {
		for _, tc := range touches {
			if _, err := tx.TouchIPTarget(tc.account, tc.ip, tc.target, tc.at, time.Time{}, incident.StageUnknown); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name  string
		since time.Time
		want  string
	}{
		{"all", t0, "alice,bob,carol"},
		{"since is inclusive", t0.Add(10 * time.Minute), "bob,carol"},
		{"just after bob", t0.Add(10*time.Minute + time.Nanosecond), "carol"},
		{"none", t0.Add(21 * time.Minute), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(tx *Tx) error {
				list, err := tx.IPTargets(account, ip, tt.since)
				if err != nil {
					return err
				}
				got := ""
				for i, tg := range list {
					if i > 0 {
						got += ","
					}
					got += tg.Target
				}
				if got != tt.want {
					t.Fatalf("targets: got %q, want %q", got, tt.want)
				}
				return nil
			})
		})
	}
}

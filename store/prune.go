package store

import (
	"bytes"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Pruned counts what Prune deleted.
type Pruned struct {
	Dedupe    int `json:"dedupe"`
	MFALogins int `json:"mfa_logins"`
	IPTargets int `json:"ip_targets"`
}

// Total returns the number of deleted entries.
func (p Pruned) Total() int { return p.Dedupe + p.MFALogins + p.IPTargets }

// Prune deletes what the retention options let go, measured back from now:
// dedupe keys whose event time is before now-DedupeRetention, MFA successes
// before now-LoginRetention (and subjects left with none), and IP targets
// last touched before now-IPRetention. Entries exactly at a cutoff stay.
func (tx *Tx) Prune(now time.Time) (Pruned, error) {
	var p Pruned
	var err error
	o := tx.s.opts
	if p.Dedupe, err = tx.pruneDedupe(now.Add(-o.DedupeRetention)); err != nil {
		return p, fmt.Errorf("prune dedupe: %w", err)
	}
	if p.MFALogins, err = tx.pruneMFALogins(now.Add(-o.LoginRetention)); err != nil {
		return p, fmt.Errorf("prune mfa logins: %w", err)
	}
	if p.IPTargets, err = tx.pruneIPTargets(now.Add(-o.IPRetention)); err != nil {
		return p, fmt.Errorf("prune ip targets: %w", err)
	}
	return p, nil
}

// pruneDedupe walks dedupe_by_time from the oldest key up to cutoff.
func (tx *Tx) pruneDedupe(cutoff time.Time) (int, error) {
	dedupe, err := tx.bucket(bucketDedupe)
	if err != nil {
		return 0, err
	}
	byTime, err := tx.bucket(bucketDedupeByTime)
	if err != nil {
		return 0, err
	}
	old := keysBefore(byTime, encodeTime(cutoff))
	for _, k := range old {
		if len(k) <= timeLen {
			return 0, fmt.Errorf("%s key %x is too short", bucketDedupeByTime, k)
		}
		if err := byTime.Delete(k); err != nil {
			return 0, fmt.Errorf("delete %x: %w", k, err)
		}
		// Only drop the dedupe key this index entry stands for.
		dk := k[timeLen:]
		if v := dedupe.Get(dk); v != nil && bytes.Equal(v, k[:timeLen]) {
			if err := dedupe.Delete(dk); err != nil {
				return 0, fmt.Errorf("delete %q: %w", dk, err)
			}
		}
	}
	return len(old), nil
}

// pruneMFALogins drops old successes of every subject, and subjects whose
// bucket ends up empty.
func (tx *Tx) pruneMFALogins(cutoff time.Time) (int, error) {
	logins, err := tx.bucket(bucketMFALogins)
	if err != nil {
		return 0, err
	}
	var subjects [][]byte
	c := logins.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if v != nil {
			return 0, fmt.Errorf("%s key %q is not a bucket", bucketMFALogins, k)
		}
		subjects = append(subjects, bytes.Clone(k))
	}
	lo := encodeTime(cutoff)
	n := 0
	for _, subject := range subjects {
		b := logins.Bucket(subject)
		if b == nil {
			return n, fmt.Errorf("%s key %q is not a bucket", bucketMFALogins, subject)
		}
		old := keysBefore(b, lo)
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return n, fmt.Errorf("subject %s: delete %x: %w", subject, k, err)
			}
			n++
		}
		if k, _ := b.Cursor().First(); k == nil {
			if err := logins.DeleteBucket(subject); err != nil {
				return n, fmt.Errorf("drop empty subject %s: %w", subject, err)
			}
		}
	}
	return n, nil
}

// pruneIPTargets scans every tally; retention keeps the bucket small.
func (tx *Tx) pruneIPTargets(cutoff time.Time) (int, error) {
	b, err := tx.bucket(bucketIPTargets)
	if err != nil {
		return 0, err
	}
	var old [][]byte
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		t, err := decodeIPTarget(k, v)
		if err != nil {
			return 0, err
		}
		if t.Last.Before(cutoff) {
			old = append(old, bytes.Clone(k))
		}
	}
	for _, k := range old {
		if err := b.Delete(k); err != nil {
			return 0, fmt.Errorf("delete %q: %w", k, err)
		}
	}
	return len(old), nil
}

// keysBefore returns copies of the keys of b that sort before limit, from
// the first on. A key that starts with limit sorts after it, so an entry
// exactly at a time cutoff stays. Deleting is left to the caller: deleting
// under a live cursor can skip keys.
func keysBefore(b *bbolt.Bucket, limit []byte) [][]byte {
	var out [][]byte
	c := b.Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, limit) < 0; k, _ = c.Next() {
		out = append(out, bytes.Clone(k))
	}
	return out
}

package store

import (
	"bytes"
	"fmt"
)

// Check runs bbolt's page-level consistency check and then verifies the
// store's own invariants (see the package doc), returning the first problem
// found. It holds the writer lock while it runs but writes nothing.
func (s *Store) Check() error {
	// A read-only bbolt check is not safe next to writers, so take a
	// writable transaction and roll it back.
	btx, err := s.db.Begin(true)
	if err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	defer func() { _ = btx.Rollback() }()
	var first error
	for err := range btx.Check() {
		if first == nil {
			first = err
		}
	}
	if first != nil {
		return fmt.Errorf("check store %s: bbolt: %w", s.path, first)
	}
	if err := (&Tx{tx: btx, s: s}).checkInvariants(); err != nil {
		return fmt.Errorf("check store %s: %w", s.path, err)
	}
	return nil
}

// checkInvariants verifies the schema version and that the indexes agree
// with the data they index.
func (tx *Tx) checkInvariants() error {
	v, err := readSchemaVersion(tx.tx)
	if err != nil {
		return err
	}
	if v != SchemaVersion {
		return fmt.Errorf("schema version %d, want %d", v, SchemaVersion)
	}
	for _, name := range v1Buckets() {
		if _, err := tx.bucket(name); err != nil {
			return err
		}
	}
	for _, check := range []func() error{tx.checkIncidents, tx.checkSubjects, tx.checkDedupe, tx.checkMFALogins, tx.checkIPTargets} {
		if err := check(); err != nil {
			return err
		}
	}
	return nil
}

// checkIncidents verifies that every incident decodes and has exactly its
// own key in the first-seen index.
func (tx *Tx) checkIncidents() error {
	incs, _ := tx.bucket(bucketIncidents)
	index, _ := tx.bucket(bucketIncidentsFirst)
	err := incs.ForEach(func(k, v []byte) error {
		inc, err := decodeIncident(string(k), v)
		if err != nil {
			return err
		}
		// Index values are empty, so look for the key with a cursor.
		ik := firstSeenKey(inc)
		if got, _ := index.Cursor().Seek(ik); !bytes.Equal(got, ik) {
			return fmt.Errorf("incident %s has no %s key %x", inc.ID, bucketIncidentsFirst, ik)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return index.ForEach(func(k, _ []byte) error {
		if len(k) <= timeLen {
			return fmt.Errorf("%s key %x is too short", bucketIncidentsFirst, k)
		}
		id := string(k[timeLen:])
		data := incs.Get([]byte(id))
		if data == nil {
			return fmt.Errorf("%s key %x names missing incident %s", bucketIncidentsFirst, k, id)
		}
		inc, err := decodeIncident(id, data)
		if err != nil {
			return err
		}
		if !bytes.Equal(firstSeenKey(inc), k) {
			return fmt.Errorf("%s key %x is stale: incident %s was first seen %s", bucketIncidentsFirst, k, id, inc.FirstSeen)
		}
		return nil
	})
}

// checkSubjects verifies that every subject names a stored incident of
// that subject.
func (tx *Tx) checkSubjects() error {
	subjects, _ := tx.bucket(bucketSubjects)
	return subjects.ForEach(func(k, v []byte) error {
		inc, err := tx.Incident(string(v))
		if err != nil {
			return fmt.Errorf("subject %s: %w", k, err)
		}
		if inc.Subject.Key() != string(k) {
			return fmt.Errorf("subject %s names incident %s of subject %s", k, inc.ID, inc.Subject.Key())
		}
		return nil
	})
}

// checkDedupe verifies that dedupe and dedupe_by_time hold the same keys
// with the same times.
func (tx *Tx) checkDedupe() error {
	dedupe, _ := tx.bucket(bucketDedupe)
	byTime, _ := tx.bucket(bucketDedupeByTime)
	n := 0
	err := byTime.ForEach(func(k, _ []byte) error {
		if len(k) <= timeLen {
			return fmt.Errorf("%s key %x is too short", bucketDedupeByTime, k)
		}
		if v := dedupe.Get(k[timeLen:]); !bytes.Equal(v, k[:timeLen]) {
			return fmt.Errorf("%s key %x: dedupe holds time %x", bucketDedupeByTime, k, v)
		}
		n++
		return nil
	})
	if err != nil {
		return err
	}
	if m := dedupe.Stats().KeyN; m != n {
		return fmt.Errorf("%s holds %d keys but %s %d", bucketDedupe, m, bucketDedupeByTime, n)
	}
	return nil
}

// checkMFALogins verifies that mfa_logins holds only subject buckets of
// 8-byte times.
func (tx *Tx) checkMFALogins() error {
	logins, _ := tx.bucket(bucketMFALogins)
	return logins.ForEach(func(k, v []byte) error {
		b := logins.Bucket(k)
		if v != nil || b == nil {
			return fmt.Errorf("%s key %q is not a bucket", bucketMFALogins, k)
		}
		return b.ForEach(func(t, _ []byte) error {
			if len(t) != timeLen {
				return fmt.Errorf("%s/%s key %x is not a time", bucketMFALogins, k, t)
			}
			return nil
		})
	})
}

// checkIPTargets verifies that every tally decodes under its own target.
func (tx *Tx) checkIPTargets() error {
	b, _ := tx.bucket(bucketIPTargets)
	return b.ForEach(func(k, v []byte) error {
		t, err := decodeIPTarget(k, v)
		if err != nil {
			return err
		}
		if !bytes.HasSuffix(k, append([]byte{0}, t.Target...)) {
			return fmt.Errorf("%s key %q holds target %q", bucketIPTargets, k, t.Target)
		}
		return nil
	})
}

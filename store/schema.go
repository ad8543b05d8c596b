package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// SchemaVersion is the schema this code writes; see the package doc.
const SchemaVersion uint64 = 2

// Bucket names and the meta key, as drawn in the package doc.
const (
	bucketMeta           = "meta"
	bucketIncidents      = "incidents"
	bucketIncidentsFirst = "incidents_by_first_seen"
	bucketSubjects       = "subjects"
	bucketDedupe         = "dedupe"
	bucketDedupeByTime   = "dedupe_by_time"
	bucketMFALogins      = "mfa_logins"
	bucketIPTargets      = "ip_targets"
	bucketAudit          = "audit"
	bucketCheckpoints    = "checkpoints"

	keySchemaVersion = "schema_version"
)

// migration is one schema step: apply takes a file at version-1 to version.
type migration struct {
	version uint64
	name    string
	apply   func(*bbolt.Tx) error
}

// migrations lists every step in order; step i takes version i to i+1.
func migrations() []migration {
	return []migration{
		{version: 1, name: "create the v1 buckets", apply: migrateV1},
		{version: 2, name: "add the alert buckets and the audit index", apply: migrateV2},
	}
}

// v1Buckets lists the top-level buckets of schema version 1.
func v1Buckets() []string {
	return []string{
		bucketMeta, bucketIncidents, bucketIncidentsFirst, bucketSubjects,
		bucketDedupe, bucketDedupeByTime, bucketMFALogins, bucketIPTargets,
		bucketAudit, bucketCheckpoints,
	}
}

func migrateV1(btx *bbolt.Tx) error {
	for _, name := range v1Buckets() {
		if _, err := btx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	return nil
}

// migrate brings the file to SchemaVersion in one Update transaction.
func (s *Store) migrate() error {
	var from uint64
	err := s.db.Update(func(btx *bbolt.Tx) error {
		var err error
		from, err = readSchemaVersion(btx)
		if err != nil {
			return fmt.Errorf("store %s: %w", s.path, err)
		}
		if from > SchemaVersion {
			return fmt.Errorf("store %s has schema version %d but this mfabot knows only up to %d; upgrade mfabot: %w",
				s.path, from, SchemaVersion, ErrSchemaTooNew)
		}
		if from == SchemaVersion {
			return nil
		}
		for _, m := range migrations()[from:SchemaVersion] {
			if err := m.apply(btx); err != nil {
				return fmt.Errorf("store %s: migrate to schema %d (%s): %w", s.path, m.version, m.name, err)
			}
		}
		meta := btx.Bucket([]byte(bucketMeta))
		if meta == nil {
			return fmt.Errorf("store %s: migrations left no %s bucket", s.path, bucketMeta)
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], SchemaVersion)
		if err := meta.Put([]byte(keySchemaVersion), v[:]); err != nil {
			return fmt.Errorf("store %s: write schema version: %w", s.path, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if from != SchemaVersion {
		s.log.Info("store schema migrated", "path", s.path, "from", from, "to", SchemaVersion)
	}
	return nil
}

// readSchemaVersion returns the file's schema version: 0 for a file without
// any bucket, an error for one with buckets but no version.
func readSchemaVersion(btx *bbolt.Tx) (uint64, error) {
	meta := btx.Bucket([]byte(bucketMeta))
	if meta == nil {
		if k, _ := btx.Cursor().First(); k != nil {
			return 0, errors.New("file holds data but no schema version; it is not an mfabot store")
		}
		return 0, nil
	}
	v := meta.Get([]byte(keySchemaVersion))
	if v == nil {
		return 0, fmt.Errorf("%s bucket has no %s", bucketMeta, keySchemaVersion)
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%s/%s is %d bytes, want 8", bucketMeta, keySchemaVersion, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// timeLen is the size of an encoded time.
const timeLen = 8

// encodeTime returns t as 8 sortable bytes: Unix nanoseconds, clamped to
// the int64 range, with the sign bit flipped, big-endian.
func encodeTime(t time.Time) []byte {
	var n int64
	switch {
	case t.Before(time.Unix(0, math.MinInt64)):
		n = math.MinInt64
	case t.After(time.Unix(0, math.MaxInt64)):
		n = math.MaxInt64
	default:
		n = t.UnixNano()
	}
	b := make([]byte, timeLen)
	binary.BigEndian.PutUint64(b, uint64(n)^(1<<63))
	return b
}

// decodeTime reverses encodeTime, reading the first 8 bytes of b.
func decodeTime(b []byte) (time.Time, error) {
	if len(b) < timeLen {
		return time.Time{}, fmt.Errorf("encoded time is %d bytes, want %d", len(b), timeLen)
	}
	n := int64(binary.BigEndian.Uint64(b[:timeLen]) ^ (1 << 63))
	return time.Unix(0, n).UTC(), nil
}

// joinKey joins key parts with 0x00. Every part but the last must be free
// of 0x00 so that keys stay unambiguous.
func joinKey(parts ...string) ([]byte, error) {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			k = append(k, 0)
		}
		if i < len(parts)-1 && strings.IndexByte(p, 0) >= 0 {
			return nil, fmt.Errorf("key part %q contains a 0x00 byte", p)
		}
		k = append(k, p...)
	}
	return k, nil
}

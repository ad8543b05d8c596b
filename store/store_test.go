package store

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mfabot/mfabot/internal/incident"
)

// schemaVersionOf reads the schema version straight from the file.
func schemaVersionOf(t *testing.T, s *Store) uint64 {
	t.Helper()
	var v uint64
	raw(t, s, func(btx *bbolt.Tx) error {
		var err error
		v, err = readSchemaVersion(btx)
		return err
	})
	return v
}

func TestOpenMigratesEmptyFile(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, path string)
	}{
		{"missing file", func(*testing.T, string) {}},
		{"zero-length file", func(t *testing.T, path string) {
			if err := os.WriteFile(path, nil, 0o600); err != nil {
				t.Fatalf("create %s: %v", path, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "mfabot.db")
			tt.prepare(t, path)
			s := openTestPath(t, path)
			if got := schemaVersionOf(t, s); got != SchemaVersion {
				t.Fatalf("schema version: got %d, want %d", got, SchemaVersion)
			}
			raw(t, s, func(btx *bbolt.Tx) error {
				for _, name := range v1Buckets() {
					if btx.Bucket([]byte(name)) == nil {
						t.Errorf("bucket %s: got missing, want present", name)
					}
				}
				return nil
			})
		})
	}
}

func TestMigrationsAreNumberedInOrder(t *testing.T) {
	ms := migrations()
	if got := uint64(len(ms)); got != SchemaVersion {
		t.Fatalf("migrations: got %d, want %d", got, SchemaVersion)
	}
	for i, m := range ms {
		if m.version != uint64(i+1) {
			t.Fatalf("migration %d version: got %d, want %d", i, m.version, i+1)
		}
	}
}

func TestReopenIsIdempotent(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		return tx.PutIncident(&incident.Incident{Subject: userSubject("alice"), FirstSeen: t0})
	})
	for i := range 2 {
		s = reopenTest(t, s)
		if got := schemaVersionOf(t, s); got != SchemaVersion {
			t.Fatalf("reopen %d: schema version: got %d, want %d", i, got, SchemaVersion)
		}
	}
	inc := &incident.Incident{Subject: userSubject("bob"), FirstSeen: t0}
	update(t, s, func(tx *Tx) error {
		if _, err := tx.Incident("INC-1"); err != nil {
			return err
		}
		return tx.PutIncident(inc)
	})
	if inc.ID != "INC-2" {
		t.Fatalf("id after reopen: got %s, want INC-2", inc.ID)
	}
}

// writeRawFile creates a bbolt file at path holding the given buckets, with
// meta/schema_version set when version is not zero.
func writeRawFile(t *testing.T, path string, version uint64, buckets ...string) {
	t.Helper()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open raw %s: %v", path, err)
	}
	defer db.Close()
	err = db.Update(func(btx *bbolt.Tx) error {
		for _, name := range buckets {
			if _, err := btx.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		if version == 0 {
			return nil
		}
		meta, err := btx.CreateBucketIfNotExists([]byte(bucketMeta))
		if err != nil {
			return err
		}
		var v [8]byte
		binary.BigEndian.PutUint64(v[:], version)
		return meta.Put([]byte(keySchemaVersion), v[:])
	})
	if err != nil {
		t.Fatalf("write raw %s: %v", path, err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mfabot.db")
	writeRawFile(t, path, SchemaVersion+1)
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatalf("open newer schema: got no error, want ErrSchemaTooNew")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("open newer schema: got %v, want ErrSchemaTooNew", err)
	}
	// The refusal must leave the file as it was, and unlocked.
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("reopen refused file: %v", err)
	}
	defer db.Close()
	var got uint64
	if err := db.View(func(btx *bbolt.Tx) error {
		got, err = readSchemaVersion(btx)
		return err
	}); err != nil {
		t.Fatalf("read schema version: %v", err)
	}
	if got != SchemaVersion+1 {
		t.Fatalf("schema version after refusal: got %d, want %d", got, SchemaVersion+1)
	}
}

func TestOpenRefusesForeignFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	writeRawFile(t, path, 0, "something_else")
	s, err := Open(path, Options{})
	if err == nil {
		s.Close()
		t.Fatalf("open foreign file: got no error, want one")
	}
	if errors.Is(err, ErrSchemaTooNew) || errors.Is(err, ErrLocked) {
		t.Fatalf("open foreign file: got %v, want a not-an-mfabot-store error", err)
	}
}

func TestOpenLocked(t *testing.T) {
	s := openTest(t)
	other, err := Open(s.Path(), Options{Timeout: 100 * time.Millisecond})
	if err == nil {
		other.Close()
		t.Fatalf("second open: got no error, want ErrLocked")
	}
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: got %v, want ErrLocked", err)
	}
	if !strings.Contains(err.Error(), s.Path()+" is in use by another mfabot process") {
		t.Fatalf("second open message: got %q, want it to name the path and the other process", err)
	}
}

func TestOptionsNormalize(t *testing.T) {
	tests := []struct {
		name string
		in   Options
		want Options
	}{
		{"zero gives defaults", Options{}, Options{Timeout: time.Second, DedupeRetention: 48 * time.Hour, LoginRetention: 24 * time.Hour, IPRetention: time.Hour}},
		{"short dedupe clamped up", Options{DedupeRetention: time.Hour}, Options{Timeout: time.Second, DedupeRetention: 48 * time.Hour, LoginRetention: 24 * time.Hour, IPRetention: time.Hour}},
		{"negative values", Options{Timeout: -1, DedupeRetention: -1, LoginRetention: -1, IPRetention: -1}, Options{Timeout: time.Second, DedupeRetention: 48 * time.Hour, LoginRetention: 24 * time.Hour, IPRetention: time.Hour}},
		{"explicit values kept", Options{Timeout: time.Minute, DedupeRetention: 72 * time.Hour, LoginRetention: time.Hour, IPRetention: 2 * time.Hour}, Options{Timeout: time.Minute, DedupeRetention: 72 * time.Hour, LoginRetention: time.Hour, IPRetention: 2 * time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.normalize()
			got.Logger = nil
			if got != tt.want {
				t.Fatalf("normalize: got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestDoneContextStartsNothing(t *testing.T) {
	s := openTest(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ran := false
	fn := func(*Tx) error { ran = true; return nil }
	if err := s.Update(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Fatalf("update: got %v, want context.Canceled", err)
	}
	if err := s.View(ctx, fn); !errors.Is(err, context.Canceled) {
		t.Fatalf("view: got %v, want context.Canceled", err)
	}
	if ran {
		t.Fatalf("fn ran: got true, want false")
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	s := openTest(t)
	boom := errors.New("boom")
	err := s.Update(context.Background(), func(tx *Tx) error {
		if _, err := tx.MarkSeen("111111111111", "ev-1", t0); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("update: got %v, want boom", err)
	}
	update(t, s, func(tx *Tx) error {
		isNew, err := tx.MarkSeen("111111111111", "ev-1", t0)
		if isNew != true {
			t.Fatalf("mark seen after rollback: got %v, want true", isNew)
		}
		return err
	})
}

func TestConcurrentUpdates(t *testing.T) {
	s := openTest(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Go(func() {
			errs <- s.Update(context.Background(), func(tx *Tx) error {
				_, err := tx.MarkSeen("111111111111", "ev-"+string(rune('a'+i)), t0)
				return err
			})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("concurrent update: %v", err)
		}
	}
	if got := keyCount(t, s, bucketDedupe); got != 8 {
		t.Fatalf("dedupe keys: got %d, want 8", got)
	}
}

func TestCheckFindsStaleIndex(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		return tx.PutIncident(&incident.Incident{Subject: userSubject("alice"), FirstSeen: t0})
	})
	stale := append(encodeTime(t0.Add(time.Hour)), "INC-1"...)
	raw(t, s, func(btx *bbolt.Tx) error { return btx.Bucket([]byte(bucketIncidentsFirst)).Put(stale, nil) })
	if err := s.Check(); err == nil {
		t.Fatalf("check with a stale index key: got no error, want one")
	}
	raw(t, s, func(btx *bbolt.Tx) error { return btx.Bucket([]byte(bucketIncidentsFirst)).Delete(stale) })
	if err := s.Check(); err != nil {
		t.Fatalf("check after repair: got %v, want nil", err)
	}
}

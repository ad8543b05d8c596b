package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"go.etcd.io/bbolt"
)

// t0 is the reference time of the tests.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// openTest opens a new store in a temporary directory, with opts when
// given. Its cleanup runs the consistency check, failing the test on any
// finding, and closes the store.
func openTest(t *testing.T, opts ...Options) *Store {
	t.Helper()
	return openTestPath(t, filepath.Join(t.TempDir(), "mfabot.db"), opts...)
}

// reopenTest checks and closes s, then opens its file again through the
// same cleanup discipline as openTest.
func reopenTest(t *testing.T, s *Store, opts ...Options) *Store {
	t.Helper()
	checkAndClose(t, s)
	return openTestPath(t, s.Path(), opts...)
}

func openTestPath(t *testing.T, path string, opts ...Options) *Store {
	t.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := Open(path, o)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { checkAndClose(t, s) })
	return s
}

// checkAndClose runs the consistency check and closes s. A store that is
// already closed was checked when it was closed.
func checkAndClose(t *testing.T, s *Store) {
	t.Helper()
	if err := s.Check(); err != nil && !errors.Is(err, bbolt.ErrDatabaseNotOpen) {
		t.Errorf("consistency check: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// update runs fn in an Update transaction and fails the test on error.
func update(t *testing.T, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatalf("update: %v", err)
	}
}

// view runs fn in a View transaction and fails the test on error.
func view(t *testing.T, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.View(context.Background(), fn); err != nil {
		t.Fatalf("view: %v", err)
	}
}

// raw runs fn on the underlying bbolt file, bypassing the store's API, to
// inspect or tamper with it.
func raw(t *testing.T, s *Store, fn func(*bbolt.Tx) error) {
	t.Helper()
	if err := s.db.Update(fn); err != nil {
		t.Fatalf("raw update: %v", err)
	}
}

// keyCount returns the number of keys in a top-level bucket.
func keyCount(t *testing.T, s *Store, bucket string) int {
	t.Helper()
	n := 0
	raw(t, s, func(btx *bbolt.Tx) error {
		return btx.Bucket([]byte(bucket)).ForEach(func(_, _ []byte) error { n++; return nil })
	})
	return n
}

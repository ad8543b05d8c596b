package store

import (
	"testing"
)

func TestCheckpoint(t *testing.T) {
	s := openTest(t)
	const source = "cloudtrail:s3://trail-bucket"
	view(t, s, func(tx *Tx) error {
		got, err := tx.Checkpoint(source)
		if got != nil {
			t.Fatalf("absent checkpoint: got %q, want nil", got)
		}
		return err
	})
	update(t, s, func(tx *Tx) error {
		v := []byte("2025/03/01/file-7.json.gz")
		if err := tx.SetCheckpoint(source, v); err != nil {
			return err
		}
		// The caller may reuse its buffer at once.
		copy(v, "XXXX")
		got, err := tx.Checkpoint(source)
		if string(got) != "2025/03/01/file-7.json.gz" {
			t.Fatalf("checkpoint after the caller reused its buffer: got %q, want the original", got)
		}
		return err
	})

	var kept []byte
	view(t, s, func(tx *Tx) error {
		var err error
		kept, err = tx.Checkpoint(source)
		return err
	})
	// The copy outlives the transaction and belongs to the caller.
	update(t, s, func(tx *Tx) error { return tx.SetCheckpoint(source, []byte("2025/03/01/file-8.json.gz")) })
	if string(kept) != "2025/03/01/file-7.json.gz" {
		t.Fatalf("checkpoint kept after its transaction: got %q, want file-7", kept)
	}
	copy(kept, "XXXX")
	view(t, s, func(tx *Tx) error {
		got, err := tx.Checkpoint(source)
		if string(got) != "2025/03/01/file-8.json.gz" {
			t.Fatalf("checkpoint after the caller changed a copy: got %q, want file-8", got)
		}
		return err
	})

	s = reopenTest(t, s)
	update(t, s, func(tx *Tx) error {
		got, err := tx.Checkpoint(source)
		if err != nil {
			return err
		}
		if string(got) != "2025/03/01/file-8.json.gz" {
			t.Fatalf("checkpoint after reopen: got %q, want file-8", got)
		}
		return tx.SetCheckpoint(source, nil)
	})
	view(t, s, func(tx *Tx) error {
		got, err := tx.Checkpoint(source)
		if got != nil {
			t.Fatalf("removed checkpoint: got %q, want nil", got)
		}
		return err
	})
	if err := s.Update(t.Context(), func(tx *Tx) error { return tx.SetCheckpoint("", []byte("x")) }); err == nil {
		t.Fatalf("empty source: got no error, want one")
	}
}

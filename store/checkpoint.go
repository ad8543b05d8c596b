package store

import (
	"bytes"
	"errors"
	"fmt"
)

// Checkpoint returns a copy of the source's checkpoint, or nil when it has
// none.
func (tx *Tx) Checkpoint(source string) ([]byte, error) {
	b, err := tx.bucket(bucketCheckpoints)
	if err != nil {
		return nil, err
	}
	if source == "" {
		return nil, errors.New("checkpoint: empty source name")
	}
	v := b.Get([]byte(source))
	if v == nil {
		return nil, nil
	}
	return bytes.Clone(v), nil
}

// SetCheckpoint stores a copy of v as the source's checkpoint; an empty v
// removes it.
func (tx *Tx) SetCheckpoint(source string, v []byte) error {
	b, err := tx.bucket(bucketCheckpoints)
	if err != nil {
		return err
	}
	if source == "" {
		return errors.New("set checkpoint: empty source name")
	}
	if len(v) == 0 {
		err = b.Delete([]byte(source))
	} else {
		// bbolt keeps the value slice until commit; the caller may not.
		err = b.Put([]byte(source), bytes.Clone(v))
	}
	if err != nil {
		return fmt.Errorf("set checkpoint %s: %w", source, err)
	}
	return nil
}

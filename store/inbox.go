package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.etcd.io/bbolt"
)

// Inbox is the journal of Slack envelopes that were acknowledged but whose
// work is not finished. It lives in a file of its own, next to the store, so
// that recording an envelope before acknowledging it never waits for a
// large detection transaction. After a crash the bot does the work of every
// envelope still in it; the handlers' state checks make doing it twice
// harmless.
//
// The file has one bucket, "inbox": <seq, 8 bytes big-endian> -> JSON
// Envelope.
type Inbox struct {
	db   *bbolt.DB
	path string
}

// Envelope is one journalled Socket Mode request.
type Envelope struct {
	ID       uint64          `json:"-"`
	Type     string          `json:"type"`
	Payload  json.RawMessage `json:"payload"`
	Received time.Time       `json:"received"`
}

const bucketInbox = "inbox"

// OpenInbox opens (creating if needed) the inbox at path, failing with an
// error wrapping ErrLocked when another process holds it.
func OpenInbox(path string, timeout time.Duration) (*Inbox, error) {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: timeout})
	if errors.Is(err, bbolt.ErrTimeout) {
		return nil, fmt.Errorf("inbox %s is in use by another mfabot process: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("open inbox %s: %w", path, err)
	}
	if err := db.Update(func(tx *bbolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists([]byte(bucketInbox))
		return err
	}); err != nil {
		db.Close()
		return nil, fmt.Errorf("open inbox %s: %w", path, err)
	}
	return &Inbox{db: db, path: path}, nil
}

// Close closes the inbox.
func (i *Inbox) Close() error { return i.db.Close() }

// Add records an envelope durably and returns its id.
func (i *Inbox) Add(typ string, payload []byte, received time.Time) (uint64, error) {
	data, err := json.Marshal(Envelope{Type: typ, Payload: payload, Received: received.UTC()})
	if err != nil {
		return 0, fmt.Errorf("inbox: encode: %w", err)
	}
	var id uint64
	err = i.db.Update(func(tx *bbolt.Tx) error {
		b := tx.Bucket([]byte(bucketInbox))
		var err error
		if id, err = b.NextSequence(); err != nil {
			return err
		}
		return b.Put(binary.BigEndian.AppendUint64(nil, id), data)
	})
	if err != nil {
		return 0, fmt.Errorf("inbox: add: %w", err)
	}
	return id, nil
}

// Done forgets an envelope whose work is finished.
func (i *Inbox) Done(id uint64) error {
	err := i.db.Update(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketInbox)).Delete(binary.BigEndian.AppendUint64(nil, id))
	})
	if err != nil {
		return fmt.Errorf("inbox: done %d: %w", id, err)
	}
	return nil
}

// Pending lists the envelopes whose work is not finished, oldest first.
func (i *Inbox) Pending() ([]Envelope, error) {
	var out []Envelope
	err := i.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket([]byte(bucketInbox)).ForEach(func(k, v []byte) error {
			var e Envelope
			if len(k) != 8 {
				return fmt.Errorf("inbox key %x is not 8 bytes", k)
			}
			if err := json.Unmarshal(v, &e); err != nil {
				return fmt.Errorf("inbox entry %x: %w", k, err)
			}
			e.ID = binary.BigEndian.Uint64(k)
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

package store

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mfabot/mfabot/internal/incident"
)

// Buckets added by schema version 2: the Slack side of incidents.
const (
	bucketAlerts          = "alerts"
	bucketAlertsByTS      = "alerts_by_ts"
	bucketDirty           = "dirty"
	bucketThreadOutbox    = "thread_outbox"
	bucketAuditByIncident = "audit_by_incident"
)

func v2Buckets() []string {
	return []string{bucketAlerts, bucketAlertsByTS, bucketDirty, bucketThreadOutbox, bucketAuditByIncident}
}

// migrateV2 adds the alert buckets and indexes the existing audit log by
// incident.
func migrateV2(btx *bbolt.Tx) error {
	for _, name := range v2Buckets() {
		if _, err := btx.CreateBucketIfNotExists([]byte(name)); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	audit := btx.Bucket([]byte(bucketAudit))
	idx := btx.Bucket([]byte(bucketAuditByIncident))
	return audit.ForEach(func(k, v []byte) error {
		e, err := decodeAudit(k, v)
		if err != nil {
			return err
		}
		if e.IncidentID == "" {
			return nil
		}
		return idx.Put(auditIndexKey(e.IncidentID, e.Seq), nil)
	})
}

func auditIndexKey(id string, seq uint64) []byte {
	k := make([]byte, 0, len(id)+9)
	k = append(k, id...)
	k = append(k, 0)
	return binary.BigEndian.AppendUint64(k, seq)
}

// Alert returns the incident's alert state, or nil when it has none yet.
func (tx *Tx) Alert(id string) (*incident.Alert, error) {
	b, err := tx.bucket(bucketAlerts)
	if err != nil {
		return nil, err
	}
	v := b.Get([]byte(id))
	if v == nil {
		return nil, nil
	}
	var a incident.Alert
	if err := json.Unmarshal(v, &a); err != nil {
		return nil, fmt.Errorf("alert %s: %w", id, err)
	}
	return &a, nil
}

// PutAlert stores an alert and indexes its messages (the alert and the
// reset prompt) by channel and ts.
func (tx *Tx) PutAlert(a *incident.Alert) error {
	if a == nil || a.IncidentID == "" {
		return fmt.Errorf("put alert: no incident id")
	}
	b, err := tx.bucket(bucketAlerts)
	if err != nil {
		return err
	}
	data, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert %s: %w", a.IncidentID, err)
	}
	if err := b.Put([]byte(a.IncidentID), data); err != nil {
		return fmt.Errorf("put alert %s: %w", a.IncidentID, err)
	}
	idx, err := tx.bucket(bucketAlertsByTS)
	if err != nil {
		return err
	}
	for _, ts := range []string{a.TS, promptTS(a)} {
		if a.Channel == "" || ts == "" {
			continue
		}
		k, err := joinKey(a.Channel, ts)
		if err != nil {
			return fmt.Errorf("index alert %s: %w", a.IncidentID, err)
		}
		if err := idx.Put(k, []byte(a.IncidentID)); err != nil {
			return fmt.Errorf("index alert %s: %w", a.IncidentID, err)
		}
	}
	return nil
}

func promptTS(a *incident.Alert) string {
	if a.Reset == nil {
		return ""
	}
	return a.Reset.MessageTS
}

// AlertByTS returns the id of the incident whose alert (or reset prompt) is
// the message channel/ts, or "" when none is.
func (tx *Tx) AlertByTS(channel, ts string) (string, error) {
	idx, err := tx.bucket(bucketAlertsByTS)
	if err != nil {
		return "", err
	}
	k, err := joinKey(channel, ts)
	if err != nil {
		return "", nil
	}
	return string(idx.Get(k)), nil
}

// Due is an alert with Slack work waiting.
type Due struct {
	IncidentID string
	At         time.Time
}

// MarkDirty records that the incident's messages need syncing from at on;
// an earlier time already recorded stands.
func (tx *Tx) MarkDirty(id string, at time.Time) error {
	b, err := tx.bucket(bucketDirty)
	if err != nil {
		return err
	}
	if v := b.Get([]byte(id)); v != nil {
		if old, err := decodeTime(v); err == nil && !old.After(at) {
			return nil
		}
	}
	return b.Put([]byte(id), encodeTime(at))
}

// ClearDirty records that the incident's messages are in sync.
func (tx *Tx) ClearDirty(id string) error {
	b, err := tx.bucket(bucketDirty)
	if err != nil {
		return err
	}
	return b.Delete([]byte(id))
}

// Dirty lists the incidents with Slack work waiting, soonest first.
func (tx *Tx) Dirty() ([]Due, error) {
	b, err := tx.bucket(bucketDirty)
	if err != nil {
		return nil, err
	}
	var out []Due
	err = b.ForEach(func(k, v []byte) error {
		t, err := decodeTime(v)
		if err != nil {
			return fmt.Errorf("dirty %s: %w", k, err)
		}
		out = append(out, Due{string(k), t})
		return nil
	})
	sortDue(out)
	return out, err
}

func sortDue(d []Due) {
	for i := 1; i < len(d); i++ {
		for j := i; j > 0 && (d[j].At.Before(d[j-1].At) || d[j].At.Equal(d[j-1].At) && d[j].IncidentID < d[j-1].IncidentID); j-- {
			d[j], d[j-1] = d[j-1], d[j]
		}
	}
}

// Queued is a thread message waiting to be posted.
type Queued struct {
	Seq uint64
	Msg incident.ThreadMessage
}

// QueueThread queues a message for the incident's thread, after those
// already queued.
func (tx *Tx) QueueThread(id string, m incident.ThreadMessage) error {
	b, err := tx.bucket(bucketThreadOutbox)
	if err != nil {
		return err
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("queue thread message: %w", err)
	}
	data, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode thread message: %w", err)
	}
	return b.Put(auditIndexKey(id, seq), data)
}

// ThreadQueue lists the messages queued for the incident's thread in order.
func (tx *Tx) ThreadQueue(id string) ([]Queued, error) {
	b, err := tx.bucket(bucketThreadOutbox)
	if err != nil {
		return nil, err
	}
	prefix := append([]byte(id), 0)
	var out []Queued
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, v = c.Next() {
		var m incident.ThreadMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, fmt.Errorf("thread message of %s: %w", id, err)
		}
		out = append(out, Queued{binary.BigEndian.Uint64(k[len(prefix):]), m})
	}
	return out, nil
}

// DropThread removes a posted thread message from the queue.
func (tx *Tx) DropThread(id string, seq uint64) error {
	b, err := tx.bucket(bucketThreadOutbox)
	if err != nil {
		return err
	}
	return b.Delete(auditIndexKey(id, seq))
}

// Alerts lists every alert state, for listings and statistics.
func (tx *Tx) Alerts() ([]*incident.Alert, error) {
	b, err := tx.bucket(bucketAlerts)
	if err != nil {
		return nil, err
	}
	var out []*incident.Alert
	err = b.ForEach(func(k, v []byte) error {
		var a incident.Alert
		if err := json.Unmarshal(v, &a); err != nil {
			return fmt.Errorf("alert %s: %w", k, err)
		}
		out = append(out, &a)
		return nil
	})
	return out, err
}

package store

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrAuditTampered is wrapped by the error VerifyAudit returns when an audit
// entry was altered, removed or moved.
var ErrAuditTampered = errors.New("audit log tampered with")

// SystemActor is the Actor of audit entries the bot records on its own.
const SystemActor = "system"

// AuditEntry is one record of the audit log: who did what to which incident
// and how it went. Seq, PrevHash and Hash are set by AppendAudit.
//
// Hash is the hex SHA-256 of the domain string "mfabot-audit-v1" and then
// Seq (8 bytes big-endian), Time (UTC, RFC 3339 with nanoseconds), Actor,
// Action, IncidentID, Outcome, Detail and PrevHash, each of them preceded by
// its length as 8 bytes big-endian.
type AuditEntry struct {
	Seq        uint64    `json:"seq"`
	Time       time.Time `json:"time"`
	Actor      string    `json:"actor"` // a Slack user id, or SystemActor
	Action     string    `json:"action"`
	IncidentID string    `json:"incident_id"`
	Outcome    string    `json:"outcome"`
	Detail     string    `json:"detail"`
	PrevHash   string    `json:"prev_hash"`
	Hash       string    `json:"hash"`
}

// computeHash returns the hash the entry should carry.
func (e AuditEntry) computeHash() string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], e.Seq)
	field([]byte("mfabot-audit-v1"))
	field(seq[:])
	field([]byte(e.Time.UTC().Format(time.RFC3339Nano)))
	for _, s := range []string{e.Actor, e.Action, e.IncidentID, e.Outcome, e.Detail, e.PrevHash} {
		field([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

// auditKey is the key of entry seq.
func auditKey(seq uint64) []byte {
	k := make([]byte, 8)
	binary.BigEndian.PutUint64(k, seq)
	return k
}

// AppendAudit appends e to the audit log and returns it as stored: with the
// next Seq, PrevHash linking it to the previous entry, its Hash, and Time in
// UTC (now when e.Time is zero). Actor and Action are required.
func (tx *Tx) AppendAudit(e AuditEntry) (AuditEntry, error) {
	if e.Actor == "" || e.Action == "" {
		return AuditEntry{}, fmt.Errorf("append audit: actor and action are required (got %q, %q)", e.Actor, e.Action)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	if y := e.Time.Year(); y < 0 || y > 9999 {
		return AuditEntry{}, fmt.Errorf("append audit: time %s is out of range", e.Time)
	}
	b, err := tx.bucket(bucketAudit)
	if err != nil {
		return AuditEntry{}, err
	}
	e.PrevHash = ""
	if k, v := b.Cursor().Last(); k != nil {
		prev, err := decodeAudit(k, v)
		if err != nil {
			return AuditEntry{}, fmt.Errorf("append audit: %w", err)
		}
		e.PrevHash = prev.Hash
	}
	last := b.Sequence()
	if e.Seq, err = b.NextSequence(); err != nil {
		return AuditEntry{}, fmt.Errorf("append audit: next seq: %w", err)
	}
	e.Hash = e.computeHash()
	err = func() error {
		key := auditKey(e.Seq)
		if b.Get(key) != nil {
			return fmt.Errorf("entry %d already exists", e.Seq)
		}
		data, err := json.Marshal(&e)
		if err != nil {
			return fmt.Errorf("encode entry %d: %w", e.Seq, err)
		}
		if err := b.Put(key, data); err != nil {
			return err
		}
		if e.IncidentID == "" {
			return nil
		}
		idx, err := tx.bucket(bucketAuditByIncident)
		if err != nil {
			return err
		}
		return idx.Put(auditIndexKey(e.IncidentID, e.Seq), nil)
	}()
	if err != nil {
		// Give the seq back so that a caller who commits anyway leaves
		// no gap in the chain.
		_ = b.SetSequence(last)
		return AuditEntry{}, fmt.Errorf("append audit: %w", err)
	}
	return e, nil
}

// AuditEntries returns the audit entries about incidentID in log order, or
// every entry when incidentID is empty.
func (tx *Tx) AuditEntries(incidentID string) ([]AuditEntry, error) {
	b, err := tx.bucket(bucketAudit)
	if err != nil {
		return nil, err
	}
	var out []AuditEntry
	if incidentID != "" {
		idx, err := tx.bucket(bucketAuditByIncident)
		if err != nil {
			return nil, err
		}
		prefix := append([]byte(incidentID), 0)
		c := idx.Cursor()
		for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+8 && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
			key := k[len(prefix):]
			e, err := decodeAudit(key, b.Get(key))
			if err != nil {
				return nil, fmt.Errorf("audit entries: %w", err)
			}
			out = append(out, e)
		}
		return out, nil
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		e, err := decodeAudit(k, v)
		if err != nil {
			return nil, fmt.Errorf("audit entries: %w", err)
		}
		if incidentID == "" || e.IncidentID == incidentID {
			out = append(out, e)
		}
	}
	return out, nil
}

// decodeAudit decodes the entry stored under key.
func decodeAudit(key, data []byte) (AuditEntry, error) {
	var e AuditEntry
	if err := json.Unmarshal(data, &e); err != nil {
		return AuditEntry{}, fmt.Errorf("decode audit entry %x: %w", key, err)
	}
	return e, nil
}

// AuditError names the first audit entry that failed verification. It
// wraps ErrAuditTampered.
type AuditError struct {
	Seq    uint64 // the entry that is wrong or missing
	Reason string
}

// Error describes the failure.
func (e *AuditError) Error() string {
	return fmt.Sprintf("audit entry %d: %s: %s", e.Seq, e.Reason, ErrAuditTampered)
}

// Unwrap returns ErrAuditTampered.
func (e *AuditError) Unwrap() error { return ErrAuditTampered }

// VerifyAudit walks the audit chain and returns the number of entries that
// verified. When an entry was altered, removed or moved it returns an
// *AuditError (wrapping ErrAuditTampered) naming the first bad seq.
func (s *Store) VerifyAudit(ctx context.Context) (int, error) {
	n := 0
	err := s.View(ctx, func(tx *Tx) error {
		b, err := tx.bucket(bucketAudit)
		if err != nil {
			return err
		}
		prevHash := ""
		want := uint64(1)
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 {
				return &AuditError{Seq: want, Reason: fmt.Sprintf("malformed key %x", k)}
			}
			seq := binary.BigEndian.Uint64(k)
			if seq != want {
				return &AuditError{Seq: want, Reason: fmt.Sprintf("missing (next entry is %d)", seq)}
			}
			e, err := decodeAudit(k, v)
			if err != nil {
				return &AuditError{Seq: seq, Reason: err.Error()}
			}
			switch {
			case e.Seq != seq:
				return &AuditError{Seq: seq, Reason: fmt.Sprintf("stored under %d but records seq %d", seq, e.Seq)}
			case e.PrevHash != prevHash:
				return &AuditError{Seq: seq, Reason: "does not link to the entry before it"}
			case e.computeHash() != e.Hash:
				return &AuditError{Seq: seq, Reason: "hash does not match its contents"}
			}
			prevHash = e.Hash
			want++
			n++
		}
		if last := b.Sequence(); last >= want {
			return &AuditError{Seq: want, Reason: fmt.Sprintf("missing (log ends before %d, last seq handed out is %d)", want, last)}
		}
		return nil
	})
	return n, err
}

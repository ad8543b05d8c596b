package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
)

var _ detect.State = (*Tx)(nil)

// MarkSeen records the dedupe key (account, eventID) and reports whether it
// was new. A key seen before is left untouched. The key is kept for the
// retention period from the event's time, or from the time given to
// SetSeenAt when that is later, so that old records replayed again after a
// restart are still recognised.
func (tx *Tx) MarkSeen(account, eventID string, eventTime time.Time) (bool, error) {
	if eventID == "" {
		return false, errors.New("mark seen: empty event id")
	}
	key, err := joinKey(account, eventID)
	if err != nil {
		return false, fmt.Errorf("mark seen: %w", err)
	}
	dedupe, err := tx.bucket(bucketDedupe)
	if err != nil {
		return false, err
	}
	byTime, err := tx.bucket(bucketDedupeByTime)
	if err != nil {
		return false, err
	}
	if dedupe.Get(key) != nil {
		return false, nil
	}
	keep := eventTime
	if tx.seenAt.After(keep) {
		keep = tx.seenAt
	}
	t := encodeTime(keep)
	if err := dedupe.Put(key, t); err != nil {
		return false, fmt.Errorf("mark seen %q: %w", key, err)
	}
	if err := byTime.Put(append(bytes.Clone(t), key...), nil); err != nil {
		return false, fmt.Errorf("mark seen %q: time index: %w", key, err)
	}
	return true, nil
}

// AddMFASuccess records a successful MFA sign-in of the subject.
func (tx *Tx) AddMFASuccess(subjectKey string, at time.Time) error {
	if subjectKey == "" {
		return errors.New("add mfa success: empty subject key")
	}
	logins, err := tx.bucket(bucketMFALogins)
	if err != nil {
		return err
	}
	b, err := logins.CreateBucketIfNotExists([]byte(subjectKey))
	if err != nil {
		return fmt.Errorf("add mfa success of %s: %w", subjectKey, err)
	}
	if err := b.Put(encodeTime(at), nil); err != nil {
		return fmt.Errorf("add mfa success of %s: %w", subjectKey, err)
	}
	return nil
}

// LastMFASuccess returns the latest recorded success of the subject in the
// closed interval [from, to], and whether there is one. It seeks to to and
// steps back at most once.
func (tx *Tx) LastMFASuccess(subjectKey string, from, to time.Time) (time.Time, bool, error) {
	logins, err := tx.bucket(bucketMFALogins)
	if err != nil {
		return time.Time{}, false, err
	}
	if subjectKey == "" || to.Before(from) {
		return time.Time{}, false, nil
	}
	b := logins.Bucket([]byte(subjectKey))
	if b == nil {
		return time.Time{}, false, nil
	}
	hi, lo := encodeTime(to), encodeTime(from)
	c := b.Cursor()
	k, _ := c.Seek(hi)
	if k == nil || !bytes.Equal(k, hi) {
		// Seek landed after to (or past the end): step back.
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
	}
	if k == nil || bytes.Compare(k, lo) < 0 {
		return time.Time{}, false, nil
	}
	t, err := decodeTime(k)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("mfa success of %s, key %x: %w", subjectKey, k, err)
	}
	return t, true, nil
}

// TouchIPTarget counts one failure from ip against target and returns the
// target's tally. A tally last touched before since (or none) starts afresh
// at at; then the count, the first and last times and the MFA counter for
// the stage are updated.
func (tx *Tx) TouchIPTarget(account, ip, target string, at, since time.Time, mfa incident.Stage) (detect.IPTarget, error) {
	if target == "" {
		return detect.IPTarget{}, errors.New("touch ip target: empty target")
	}
	key, err := joinKey(account, ip, target)
	if err != nil {
		return detect.IPTarget{}, fmt.Errorf("touch ip target: %w", err)
	}
	b, err := tx.bucket(bucketIPTargets)
	if err != nil {
		return detect.IPTarget{}, err
	}
	var t detect.IPTarget
	if data := b.Get(key); data != nil {
		if t, err = decodeIPTarget(key, data); err != nil {
			return detect.IPTarget{}, fmt.Errorf("touch ip target: %w", err)
		}
	}
	t = t.Touch(target, at, since, mfa)
	data, err := json.Marshal(&t)
	if err != nil {
		return detect.IPTarget{}, fmt.Errorf("touch ip target %q: encode: %w", key, err)
	}
	if err := b.Put(key, data); err != nil {
		return detect.IPTarget{}, fmt.Errorf("touch ip target %q: %w", key, err)
	}
	return t, nil
}

// IPTargets lists the targets of a source address last touched at or after
// since, sorted by target.
func (tx *Tx) IPTargets(account, ip string, since time.Time) ([]detect.IPTarget, error) {
	prefix, err := joinKey(account, ip, "")
	if err != nil {
		return nil, fmt.Errorf("ip targets: %w", err)
	}
	b, err := tx.bucket(bucketIPTargets)
	if err != nil {
		return nil, err
	}
	var out []detect.IPTarget
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		t, err := decodeIPTarget(k, v)
		if err != nil {
			return nil, fmt.Errorf("ip targets: %w", err)
		}
		if !t.Last.Before(since) {
			out = append(out, t)
		}
	}
	return out, nil
}

// decodeIPTarget decodes the tally stored under key.
func decodeIPTarget(key, data []byte) (detect.IPTarget, error) {
	var t detect.IPTarget
	if err := json.Unmarshal(data, &t); err != nil {
		return detect.IPTarget{}, fmt.Errorf("decode ip target %q: %w", key, err)
	}
	return t, nil
}

// SetSeenAt sets the time from which dedupe keys recorded in this
// transaction are kept (see MarkSeen): normally the wall-clock time.
func (tx *Tx) SetSeenAt(t time.Time) { tx.seenAt = t }

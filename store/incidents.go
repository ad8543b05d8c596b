package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/mfabot/mfabot/internal/incident"
)

// idPrefix starts every id the store assigns.
const idPrefix = "INC-"

// formatID returns the id of incident number n.
func formatID(n uint64) string { return idPrefix + strconv.FormatUint(n, 10) }

// parseID returns the number of an id the store could have assigned.
func parseID(id string) (uint64, bool) {
	rest, ok := strings.CutPrefix(id, idPrefix)
	if !ok || rest == "" || rest[0] == '0' {
		return 0, false
	}
	n, err := strconv.ParseUint(rest, 10, 64)
	return n, err == nil
}

// firstSeenKey is an incident's key in incidents_by_first_seen.
func firstSeenKey(inc *incident.Incident) []byte {
	return append(encodeTime(inc.FirstSeen), inc.ID...)
}

// PutIncident creates or replaces an incident. An incident with an empty ID
// is new: it gets the next id ("INC-<n>"), written back to inc.ID, and
// becomes its subject's latest incident. An incident with an ID replaces the
// stored one, whose subject must not change; an unknown ID is stored as
// given and becomes its subject's latest incident only if the subject has
// none. The first-seen index follows FirstSeen either way.
func (tx *Tx) PutIncident(inc *incident.Incident) error {
	if inc == nil {
		return errors.New("put incident: nil incident")
	}
	if inc.Subject.Account == "" {
		return fmt.Errorf("put incident %q: subject %s has no account", inc.ID, inc.Subject.Key())
	}
	incs, err := tx.bucket(bucketIncidents)
	if err != nil {
		return err
	}
	index, err := tx.bucket(bucketIncidentsFirst)
	if err != nil {
		return err
	}
	subjects, err := tx.bucket(bucketSubjects)
	if err != nil {
		return err
	}
	subjectKey := []byte(inc.Subject.Key())

	rec := *inc
	setSubject := false
	if rec.ID == "" {
		n, err := incs.NextSequence()
		if err != nil {
			return fmt.Errorf("put incident: next id: %w", err)
		}
		rec.ID = formatID(n)
		if incs.Get([]byte(rec.ID)) != nil {
			return fmt.Errorf("put incident: next id %s is already taken", rec.ID)
		}
		setSubject = true
	} else if data := incs.Get([]byte(rec.ID)); data != nil {
		old, err := decodeIncident(rec.ID, data)
		if err != nil {
			return fmt.Errorf("put incident: %w", err)
		}
		if oldKey := old.Subject.Key(); oldKey != string(subjectKey) {
			return fmt.Errorf("put incident %s: subject cannot change from %s to %s", rec.ID, oldKey, subjectKey)
		}
		if oldIdx := firstSeenKey(old); !bytes.Equal(oldIdx, firstSeenKey(&rec)) {
			if err := index.Delete(oldIdx); err != nil {
				return fmt.Errorf("put incident %s: drop old first-seen key: %w", rec.ID, err)
			}
		}
	} else {
		// A new incident with an id chosen elsewhere (an import): keep
		// the sequence ahead of it so that no later id collides.
		if n, ok := parseID(rec.ID); ok && n > incs.Sequence() {
			if err := incs.SetSequence(n); err != nil {
				return fmt.Errorf("put incident %s: advance id sequence: %w", rec.ID, err)
			}
		}
		setSubject = subjects.Get(subjectKey) == nil
	}

	data, err := json.Marshal(&rec)
	if err != nil {
		return fmt.Errorf("put incident %s: encode: %w", rec.ID, err)
	}
	if err := incs.Put([]byte(rec.ID), data); err != nil {
		return fmt.Errorf("put incident %s: %w", rec.ID, err)
	}
	if err := index.Put(firstSeenKey(&rec), nil); err != nil {
		return fmt.Errorf("put incident %s: first-seen key: %w", rec.ID, err)
	}
	if setSubject {
		if err := subjects.Put(subjectKey, []byte(rec.ID)); err != nil {
			return fmt.Errorf("put incident %s: subject %s: %w", rec.ID, subjectKey, err)
		}
	}
	inc.ID = rec.ID
	return nil
}

// Incident returns the incident with the id, or an error wrapping
// incident.ErrNotFound.
func (tx *Tx) Incident(id string) (*incident.Incident, error) {
	incs, err := tx.bucket(bucketIncidents)
	if err != nil {
		return nil, err
	}
	var data []byte
	if id != "" {
		data = incs.Get([]byte(id))
	}
	if data == nil {
		return nil, fmt.Errorf("incident %s: %w", id, incident.ErrNotFound)
	}
	return decodeIncident(id, data)
}

// LatestIncident returns the subject's most recently created incident,
// whatever its status, or nil when the subject has none.
func (tx *Tx) LatestIncident(subjectKey string) (*incident.Incident, error) {
	subjects, err := tx.bucket(bucketSubjects)
	if err != nil {
		return nil, err
	}
	if subjectKey == "" {
		return nil, nil
	}
	id := subjects.Get([]byte(subjectKey))
	if id == nil {
		return nil, nil
	}
	inc, err := tx.Incident(string(id))
	if err != nil {
		return nil, fmt.Errorf("latest incident of %s: %w", subjectKey, err)
	}
	return inc, nil
}

// Incidents returns every incident sorted by FirstSeen, then by ID compared
// bytewise (as detect.MemState does, so INC-10 comes before INC-2), which is
// the order of the first-seen index.
func (tx *Tx) Incidents() ([]*incident.Incident, error) {
	index, err := tx.bucket(bucketIncidentsFirst)
	if err != nil {
		return nil, err
	}
	var out []*incident.Incident
	c := index.Cursor()
	for k, _ := c.First(); k != nil; k, _ = c.Next() {
		if len(k) <= timeLen {
			return nil, fmt.Errorf("%s key %x is too short", bucketIncidentsFirst, k)
		}
		inc, err := tx.Incident(string(k[timeLen:]))
		if err != nil {
			return nil, fmt.Errorf("%s key %x: %w", bucketIncidentsFirst, k, err)
		}
		out = append(out, inc)
	}
	return out, nil
}

// decodeIncident decodes the stored incident under key id.
func decodeIncident(id string, data []byte) (*incident.Incident, error) {
	var inc incident.Incident
	if err := json.Unmarshal(data, &inc); err != nil {
		return nil, fmt.Errorf("decode incident %s: %w", id, err)
	}
	if inc.ID != id {
		return nil, fmt.Errorf("decode incident %s: record names id %q", id, inc.ID)
	}
	return &inc, nil
}

package detect

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfabot/mfabot/internal/incident"
)

// MemState is State in memory, for tests and one-off runs. Incidents are
// copied in and out, as a store would, so callers cannot change them behind
// its back.
type MemState struct {
	seen      map[string]bool
	incidents map[string]*incident.Incident
	latest    map[string]string
	successes map[string][]time.Time
	targets   map[string]map[string]IPTarget
	seq       int
}

// NewMemState returns an empty MemState.
func NewMemState() *MemState {
	return &MemState{
		seen:      map[string]bool{},
		incidents: map[string]*incident.Incident{},
		latest:    map[string]string{},
		successes: map[string][]time.Time{},
		targets:   map[string]map[string]IPTarget{},
	}
}

var _ State = (*MemState)(nil)

// MarkSeen implements State.
func (m *MemState) MarkSeen(account, eventID string, _ time.Time) (bool, error) {
	k := account + "\x00" + eventID
	if m.seen[k] {
		return false, nil
	}
	m.seen[k] = true
	return true, nil
}

// LatestIncident implements State.
func (m *MemState) LatestIncident(subjectKey string) (*incident.Incident, error) {
	id, ok := m.latest[subjectKey]
	if !ok {
		return nil, nil
	}
	return m.Incident(id)
}

// Incident implements State.
func (m *MemState) Incident(id string) (*incident.Incident, error) {
	inc, ok := m.incidents[id]
	if !ok {
		return nil, fmt.Errorf("incident %s: %w", id, incident.ErrNotFound)
	}
	return clone(inc), nil
}

// PutIncident implements State.
func (m *MemState) PutIncident(inc *incident.Incident) error {
	if inc.ID == "" {
		m.seq++
		inc.ID = "INC-" + strconv.Itoa(m.seq)
		m.latest[inc.Subject.Key()] = inc.ID
	}
	m.incidents[inc.ID] = clone(inc)
	return nil
}

// Incidents returns every incident sorted by first failure, then id.
func (m *MemState) Incidents() []*incident.Incident {
	var out []*incident.Incident
	for _, inc := range m.incidents {
		out = append(out, clone(inc))
	}
	slices.SortFunc(out, func(a, b *incident.Incident) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// AddMFASuccess implements State.
func (m *MemState) AddMFASuccess(subjectKey string, at time.Time) error {
	m.successes[subjectKey] = append(m.successes[subjectKey], at)
	return nil
}

// LastMFASuccess implements State.
func (m *MemState) LastMFASuccess(subjectKey string, from, to time.Time) (time.Time, bool, error) {
	var best time.Time
	found := false
	for _, t := range m.successes[subjectKey] {
		if !t.Before(from) && !t.After(to) && (!found || t.After(best)) {
			best, found = t, true
		}
	}
	return best, found, nil
}

// TouchIPTarget implements State.
func (m *MemState) TouchIPTarget(account, ip, target string, at, since time.Time, mfa incident.Stage) (IPTarget, error) {
	k := account + "\x00" + ip
	if m.targets[k] == nil {
		m.targets[k] = map[string]IPTarget{}
	}
	t := m.targets[k][target].Touch(target, at, since, mfa)
	m.targets[k][target] = t
	return t, nil
}

// IPTargets implements State.
func (m *MemState) IPTargets(account, ip string, since time.Time) ([]IPTarget, error) {
	var out []IPTarget
	for _, t := range m.targets[account+"\x00"+ip] {
		if !t.Last.Before(since) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b IPTarget) int { return strings.Compare(a.Target, b.Target) })
	return out, nil
}

// clone deep-copies an incident.
func clone(inc *incident.Incident) *incident.Incident {
	c := *inc
	c.SourceIPs = slices.Clone(inc.SourceIPs)
	c.UserAgents = slices.Clone(inc.UserAgents)
	c.Regions = slices.Clone(inc.Regions)
	c.Targets = slices.Clone(inc.Targets)
	c.Recent = slices.Clone(inc.Recent)
	if inc.PriorMFASuccess != nil {
		t := *inc.PriorMFASuccess
		c.PriorMFASuccess = &t
	}
	if inc.RecoveredAt != nil {
		t := *inc.RecoveredAt
		c.RecoveredAt = &t
	}
	if inc.ResolvedAt != nil {
		t := *inc.ResolvedAt
		c.ResolvedAt = &t
	}
	return &c
}

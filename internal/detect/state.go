package detect

import (
	"time"

	"github.com/mfabot/mfabot/internal/incident"
)

// State is the engine's memory: everything detection must remember between
// events, so that a restart neither loses nor repeats anything. The store
// implements it inside one bbolt transaction; MemState implements it in
// memory. Times are event times.
type State interface {
	// MarkSeen records the dedupe key (account, eventID) and reports
	// whether it was new.
	MarkSeen(account, eventID string, eventTime time.Time) (bool, error)

	// LatestIncident returns the most recent incident of the subject
	// (by Subject.Key), whatever its status, or nil when there is none.
	LatestIncident(subjectKey string) (*incident.Incident, error)
	// Incident returns the incident with the id, or an error wrapping
	// incident.ErrNotFound.
	Incident(id string) (*incident.Incident, error)
	// PutIncident creates or replaces an incident. An incident with an
	// empty ID is new: it gets the next ID and becomes its subject's
	// latest incident.
	PutIncident(inc *incident.Incident) error

	// AddMFASuccess records a successful MFA sign-in of the subject.
	AddMFASuccess(subjectKey string, at time.Time) error
	// LastMFASuccess returns the latest recorded success of the subject
	// in [from, to], and whether there is one.
	LastMFASuccess(subjectKey string, from, to time.Time) (time.Time, bool, error)

	// TouchIPTarget counts one failure from a source address against a
	// target (a subject key, or a placeholder unique to one failure whose
	// name CloudTrail hid) and returns the target's tally. A target last
	// touched before since starts afresh.
	TouchIPTarget(account, ip, target string, at, since time.Time, mfa incident.Stage) (IPTarget, error)
	// IPTargets lists the targets of a source address touched at or after
	// since.
	IPTargets(account, ip string, since time.Time) ([]IPTarget, error)
}

// IPTarget tallies the failures from one source address against one
// target.
type IPTarget struct {
	Target string    `json:"target"`
	First  time.Time `json:"first"`
	Last   time.Time `json:"last"`
	Count  int       `json:"count"`
	// MFAYes, MFANo and MFAUnknown count those failures by MFAUsed.
	MFAYes     int `json:"mfa_yes"`
	MFANo      int `json:"mfa_no"`
	MFAUnknown int `json:"mfa_unknown"`
}

// HiddenTargetPrefix starts the placeholder target of a failure whose user
// name CloudTrail hid; the event id follows it.
const HiddenTargetPrefix = "?"

// Touch returns the tally after one more failure at at. A tally last
// touched before since, or an empty one, starts afresh for target.
func (t IPTarget) Touch(target string, at, since time.Time, mfa incident.Stage) IPTarget {
	if t.Target == "" || t.Last.Before(since) {
		t = IPTarget{Target: target, First: at, Last: at}
	}
	t.Count++
	if at.Before(t.First) {
		t.First = at
	}
	if at.After(t.Last) {
		t.Last = at
	}
	switch mfa {
	case incident.StageMFA:
		t.MFAYes++
	case incident.StagePassword:
		t.MFANo++
	default:
		t.MFAUnknown++
	}
	return t
}

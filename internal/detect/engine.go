package detect

import (
	"fmt"
	"strings"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
)

// Engine applies sign-in events to State. It keeps no memory of its own, so
// it is safe for concurrent use as long as each State is used by one
// goroutine at a time.
type Engine struct {
	cfg Config
}

// New returns an engine with the given thresholds.
func New(cfg Config) (*Engine, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Engine{cfg: cfg}, nil
}

// Config returns the engine's thresholds.
func (e *Engine) Config() Config { return e.cfg }

// Effect says what an event did.
type Effect string

// Effects of an event.
const (
	// Duplicate: the (account, eventID) was seen before; nothing changed.
	Duplicate Effect = "duplicate"
	// Ignored: the event says nothing about MFA trouble (a success
	// without MFA, a federated sign-in, another Identity Center factor).
	Ignored Effect = "ignored"
	// Failed: a failed sign-in, counted.
	Failed Effect = "failure"
	// Succeeded: a successful MFA sign-in, remembered.
	Succeeded Effect = "success"
)

// Result is what one event did: its effect and the incidents it created or
// changed, each in its new state.
type Result struct {
	Effect  Effect
	Changed []*incident.Incident
}

// Apply records one sign-in event.
func (e *Engine) Apply(st State, ev cloudtrail.SignIn) (Result, error) {
	isNew, err := st.MarkSeen(ev.Account, ev.EventID, ev.Time)
	if err != nil {
		return Result{}, fmt.Errorf("dedupe: %w", err)
	}
	if !isNew {
		return Result{Effect: Duplicate}, nil
	}
	switch {
	case isFailure(ev):
		changed, err := e.failure(st, ev)
		return Result{Effect: Failed, Changed: changed}, err
	case isMFASuccess(ev):
		changed, err := e.success(st, ev)
		return Result{Effect: Succeeded, Changed: changed}, err
	}
	return Result{Effect: Ignored}, nil
}

// mfaCredential reports whether an Identity Center credential type is an
// MFA factor.
func mfaCredential(t string) bool {
	for _, f := range strings.Split(t, ",") {
		switch strings.TrimSpace(f) {
		case "TOTP", "RESYNC_TOTP", "WEBAUTHN":
			return true
		}
	}
	return false
}

// isFailure reports whether the event is a failed sign-in mfabot counts:
// an IAM user's or root's ConsoleLogin failure (a hidden user name
// included), or an Identity Center MFA factor that failed. Federated
// sign-ins are the IdP's business.
func isFailure(ev cloudtrail.SignIn) bool {
	if ev.Outcome != cloudtrail.Failure {
		return false
	}
	switch ev.Name {
	case cloudtrail.EventConsoleLogin:
		return ev.IdentityType == cloudtrail.IdentityIAMUser || ev.IdentityType == cloudtrail.IdentityRoot || ev.Hidden
	case cloudtrail.EventCredentialVerification:
		return mfaCredential(ev.CredentialType)
	}
	return false
}

// isMFASuccess reports whether the event is a sign-in that passed an MFA
// check. SAML and Identity Center console logins always say MFAUsed "No",
// and say nothing about the IdP's MFA, so they never count.
func isMFASuccess(ev cloudtrail.SignIn) bool {
	if ev.Outcome != cloudtrail.Success {
		return false
	}
	switch ev.Name {
	case cloudtrail.EventConsoleLogin:
		return ev.MFAUsed == cloudtrail.MFAYes && !ev.SAML &&
			(ev.IdentityType == cloudtrail.IdentityIAMUser || ev.IdentityType == cloudtrail.IdentityRoot)
	case cloudtrail.EventCredentialVerification, cloudtrail.EventUserAuthentication:
		return mfaCredential(ev.CredentialType)
	}
	return false
}

// subjectOf names the person an event is about, if it names one: never a
// hidden user name, never an empty field.
func subjectOf(ev cloudtrail.SignIn) (incident.Subject, bool) {
	if ev.Hidden {
		return incident.Subject{}, false
	}
	if ev.Name == cloudtrail.EventConsoleLogin {
		switch ev.IdentityType {
		case cloudtrail.IdentityRoot:
			return incident.Subject{Kind: incident.KindRoot, Account: ev.Account}, true
		case cloudtrail.IdentityIAMUser:
			if ev.UserName == "" {
				return incident.Subject{}, false
			}
			return incident.Subject{Kind: incident.KindUser, Account: ev.Account, User: ev.UserName}, true
		}
		return incident.Subject{}, false
	}
	user := ev.UserName
	if user == "" {
		user = ev.IdentityCenterUserID
	}
	if user == "" {
		return incident.Subject{}, false
	}
	return incident.Subject{Kind: incident.KindIdentityCenterUser, Account: ev.Account, User: user}, true
}

// stageOf says how far a failure got.
func stageOf(ev cloudtrail.SignIn) incident.Stage {
	if ev.Name != cloudtrail.EventConsoleLogin {
		return incident.StageMFA // an Identity Center MFA factor failed
	}
	switch ev.MFAUsed {
	case cloudtrail.MFAYes:
		return incident.StageMFA
	case cloudtrail.MFANo:
		return incident.StagePassword
	}
	return incident.StageUnknown
}

// failure counts a failed sign-in: toward its source address's spray tally,
// and toward its subject's incident.
func (e *Engine) failure(st State, ev cloudtrail.SignIn) ([]*incident.Incident, error) {
	subject, ok := subjectOf(ev)
	if ev.SourceIP != "" {
		changed, handled, err := e.spray(st, ev, subject, ok)
		if err != nil || handled {
			return changed, err
		}
	}
	if !ok {
		// A lone failure for a name that does not exist opens nothing.
		return nil, nil
	}
	inc, err := st.LatestIncident(subject.Key())
	if err != nil {
		return nil, fmt.Errorf("latest incident of %s: %w", subject.Key(), err)
	}
	if inc == nil || !e.accepts(inc, ev.Time) {
		inc = &incident.Incident{Subject: subject, Status: incident.StatusOpen}
	}
	before := inc.FirstSeen
	e.addFailure(inc, ev)
	if inc.FirstSeen != before {
		if err := e.priorSuccess(st, inc); err != nil {
			return nil, err
		}
	}
	e.classify(inc)
	if err := st.PutIncident(inc); err != nil {
		return nil, fmt.Errorf("put incident: %w", err)
	}
	return []*incident.Incident{inc}, nil
}

// accepts reports whether an incident takes a failure at t: it is open and
// t is within the group gap of its failures.
func (e *Engine) accepts(inc *incident.Incident, t time.Time) bool {
	return inc.Status.Active() &&
		!t.Before(inc.FirstSeen.Add(-e.cfg.GroupGap)) &&
		!t.After(inc.LastSeen.Add(e.cfg.GroupGap))
}

// priorSuccess looks for a successful MFA sign-in shortly before the
// incident's first failure.
func (e *Engine) priorSuccess(st State, inc *incident.Incident) error {
	t, ok, err := st.LastMFASuccess(inc.Subject.Key(), inc.FirstSeen.Add(-e.cfg.TokenExpiryWindow), inc.FirstSeen)
	if err != nil {
		return fmt.Errorf("prior success of %s: %w", inc.Subject.Key(), err)
	}
	if ok {
		inc.PriorMFASuccess = &t
	}
	return nil
}

// success remembers a successful MFA sign-in. It recovers the subject's open
// incident when it comes after the failures, and corroborates token expiry
// when it arrives late but happened shortly before them.
func (e *Engine) success(st State, ev cloudtrail.SignIn) ([]*incident.Incident, error) {
	subject, ok := subjectOf(ev)
	if !ok {
		return nil, nil
	}
	key := subject.Key()
	if err := st.AddMFASuccess(key, ev.Time); err != nil {
		return nil, fmt.Errorf("add success of %s: %w", key, err)
	}
	inc, err := st.LatestIncident(key)
	if err != nil {
		return nil, fmt.Errorf("latest incident of %s: %w", key, err)
	}
	if inc == nil || !inc.Status.Active() {
		return nil, nil
	}
	switch {
	case ev.Time.After(inc.LastSeen):
		if inc.Classification == incident.BruteForce {
			return nil, nil
		}
		if err := inc.Move(incident.StatusRecovered, ev.Time); err != nil {
			return nil, err
		}
	case !ev.Time.After(inc.FirstSeen) && !ev.Time.Before(inc.FirstSeen.Add(-e.cfg.TokenExpiryWindow)):
		if inc.PriorMFASuccess != nil && !ev.Time.After(*inc.PriorMFASuccess) {
			return nil, nil
		}
		t := ev.Time
		inc.PriorMFASuccess = &t
		e.classify(inc)
	default:
		return nil, nil
	}
	if err := st.PutIncident(inc); err != nil {
		return nil, fmt.Errorf("put incident: %w", err)
	}
	return []*incident.Incident{inc}, nil
}

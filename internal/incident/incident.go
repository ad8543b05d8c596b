// Package incident holds mfabot's domain model: the subject of a failed
// console sign-in, the incident that groups its failures, and the states an
// incident moves through. Detection, the store and the Slack side all speak
// in these types; none of them depends on Slack or AWS.
package incident

import (
	"fmt"
	"time"
)

// Kind says what a subject is.
type Kind string

// Subject kinds. A user is an IAM user keyed by (account, user name); root is
// an account's root user; source_ip is the origin of a password spray; an
// identity_center_user is an IAM Identity Center user.
const (
	KindUser               Kind = "user"
	KindRoot               Kind = "root"
	KindSourceIP           Kind = "source_ip"
	KindIdentityCenterUser Kind = "identity_center_user"
)

// Subject is who (or where) an incident is about. Only the fields that belong
// to the kind are set: User for users and Identity Center users, SourceIP for
// sprays, neither for root.
type Subject struct {
	Kind     Kind   `json:"kind"`
	Account  string `json:"account"`
	User     string `json:"user,omitempty"`
	SourceIP string `json:"source_ip,omitempty"`
}

// Key is the subject's stable identity, used to find its incidents.
func (s Subject) Key() string {
	switch s.Kind {
	case KindSourceIP:
		return string(s.Kind) + "|" + s.Account + "|" + s.SourceIP
	case KindRoot:
		return string(s.Kind) + "|" + s.Account
	default:
		return string(s.Kind) + "|" + s.Account + "|" + s.User
	}
}

// String names the subject for people.
func (s Subject) String() string {
	switch s.Kind {
	case KindRoot:
		return "root of " + s.Account
	case KindSourceIP:
		return s.SourceIP + " in " + s.Account
	default:
		return s.User + " in " + s.Account
	}
}

// IsPerson reports whether the subject is a person the bot may help by DM or
// whose MFA may be reset: an IAM user. Root, sprays and Identity Center users
// are handled elsewhere (the account owner, the network team, the IdP).
func (s Subject) IsPerson() bool { return s.Kind == KindUser }

// Classification is what the evidence points to.
type Classification string

// Classifications, from the most to the least serious (see Rank).
const (
	PasswordSpray     Classification = "password_spray"
	BruteForce        Classification = "brute_force"
	TokenExpiryLikely Classification = "token_expiry_likely"
	RepeatedFailures  Classification = "repeated_failures"
	IsolatedFailure   Classification = "isolated_failure"
)

// Rank orders classifications by precedence; a higher rank wins.
func (c Classification) Rank() int {
	switch c {
	case PasswordSpray:
		return 5
	case BruteForce:
		return 4
	case TokenExpiryLikely:
		return 3
	case RepeatedFailures:
		return 2
	case IsolatedFailure:
		return 1
	}
	return 0
}

// Severity is how urgently a responder should look.
type Severity string

// Severities.
const (
	Low    Severity = "low"
	Medium Severity = "medium"
	High   Severity = "high"
)

// Rank orders severities; a higher rank is more severe.
func (s Severity) Rank() int {
	switch s {
	case Low:
		return 1
	case Medium:
		return 2
	case High:
		return 3
	}
	return 0
}

// Stage is how far the failing sign-ins got, as far as the evidence shows.
type Stage string

// Stages: the MFA step was reached (MFAUsed "Yes"), it was not (MFAUsed
// "No"), or the records do not say.
const (
	StageMFA      Stage = "mfa"
	StagePassword Stage = "password"
	StageUnknown  Stage = "unknown"
)

// Status is where an incident is in its life.
type Status string

// Statuses. An incident opens; it may recover on its own (a later successful
// MFA sign-in), be resolved by a responder, or be merged into a password-spray
// incident that explains it.
const (
	StatusOpen      Status = "open"
	StatusRecovered Status = "recovered"
	StatusResolved  Status = "resolved"
	StatusMerged    Status = "merged"
)

// transitions lists the allowed status changes.
var transitions = map[Status][]Status{
	StatusOpen:      {StatusRecovered, StatusResolved, StatusMerged},
	StatusRecovered: {StatusResolved},
}

// CanMove reports whether an incident may go from one status to another.
func CanMove(from, to Status) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// Active reports whether the incident still accepts failures.
func (s Status) Active() bool { return s == StatusOpen }

// Failure is one failed sign-in kept in an incident's recent window.
type Failure struct {
	Time     time.Time `json:"time"`
	SourceIP string    `json:"source_ip"`
}

// Limits on the lists an incident carries; counts stay exact beyond them.
const (
	MaxSourceIPs  = 50
	MaxUserAgents = 10
	MaxTargets    = 100
	MaxRegions    = 20
)

// Incident groups the failed sign-ins of one subject that belong together.
type Incident struct {
	ID             string         `json:"id"`
	Subject        Subject        `json:"subject"`
	Classification Classification `json:"classification"`
	Reason         string         `json:"reason"`
	Severity       Severity       `json:"severity"`
	Stage          Stage          `json:"stage"`
	Status         Status         `json:"status"`
	Failures       int            `json:"failures"`
	FirstSeen      time.Time      `json:"first_seen"`
	LastSeen       time.Time      `json:"last_seen"`

	// SourceIPs lists distinct source addresses, sorted, at most
	// MaxSourceIPs; MoreSourceIPs says that others were left out.
	SourceIPs     []string `json:"source_ips"`
	MoreSourceIPs bool     `json:"more_source_ips,omitempty"`
	UserAgents    []string `json:"user_agents,omitempty"`
	Regions       []string `json:"regions,omitempty"`

	// PriorMFASuccess is the successful MFA sign-in shortly before the
	// first failure that makes token expiry likely.
	PriorMFASuccess *time.Time `json:"prior_mfa_success"`

	// Targets lists the user names a spray tried (at most MaxTargets);
	// TargetCount counts the distinct known names, UnknownTargets the
	// failures whose name CloudTrail hid.
	Targets        []string `json:"targets,omitempty"`
	TargetCount    int      `json:"target_count,omitempty"`
	UnknownTargets int      `json:"unknown_targets,omitempty"`

	// MFAYes, MFANo and MFAUnknown count failures by MFAUsed.
	MFAYes     int `json:"mfa_yes"`
	MFANo      int `json:"mfa_no"`
	MFAUnknown int `json:"mfa_unknown"`

	// Recent holds the latest failures, as many as the windowed
	// thresholds need, oldest first.
	Recent []Failure `json:"recent,omitempty"`

	// FirstEventID and LastEventID with LastRegion let the alert link to
	// the records in the CloudTrail console.
	FirstEventID string `json:"first_event_id,omitempty"`
	LastEventID  string `json:"last_event_id,omitempty"`
	LastRegion   string `json:"last_region,omitempty"`

	MergedInto  string     `json:"merged_into,omitempty"`
	RecoveredAt *time.Time `json:"recovered_at,omitempty"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Move changes the incident's status, refusing a change the state machine
// does not allow.
func (inc *Incident) Move(to Status, at time.Time) error {
	if !CanMove(inc.Status, to) {
		return fmt.Errorf("incident %s: %w: %s to %s", inc.ID, ErrBadTransition, inc.Status, to)
	}
	inc.Status = to
	switch to {
	case StatusRecovered:
		inc.RecoveredAt = &at
	case StatusResolved:
		inc.ResolvedAt = &at
	}
	inc.UpdatedAt = at
	return nil
}

// DeriveStage derives the stage from the MFAUsed counts: any failure that reached
// the MFA step makes it mfa.
func (inc *Incident) DeriveStage() Stage {
	switch {
	case inc.MFAYes > 0:
		return StageMFA
	case inc.MFANo > 0:
		return StagePassword
	default:
		return StageUnknown
	}
}

// Package investigate runs the runbook's investigation steps for an
// incident (recent failures and MFA sign-ins from CloudWatch Logs Insights,
// the user's MFA devices from IAM) and says what the evidence points to.
package investigate

import "time"

// Login is one console sign-in found by Logs Insights.
type Login struct {
	Time      time.Time
	Outcome   string // "Success" or "Failure"
	MFAUsed   string // as CloudTrail wrote it: "Yes", "No", or "" when absent
	SourceIP  string
	UserAgent string
	Region    string
	Error     string // errorMessage on failures
}

// Device is one of the user's MFA devices.
type Device struct {
	Serial  string
	Enabled time.Time
}

// Step is the outcome of one investigation step. Err is set, in words fit
// for a Slack thread, when the step could not run (AWS error or timeout);
// the other steps still run.
type Step struct {
	Name string
	Err  string
	// Skipped is set, with Err saying why, when the step does not apply
	// to the subject (root, a password spray, an Identity Center user, or
	// a user name CloudTrail hid).
	Skipped bool
}

// OK reports whether the step ran and succeeded.
func (s Step) OK() bool { return s.Err == "" && !s.Skipped }

// Finding is what the evidence points to.
type Finding string

// Findings, as the runbook names them.
const (
	TokenExpiryConsistent Finding = "token_expiry_consistent"
	NoMFADevice           Finding = "no_mfa_device"
	PersistentFailures    Finding = "persistent_failures"
	SomeoneElse           Finding = "looks_like_someone_else"
	Inconclusive          Finding = "inconclusive"
)

// Report is the result of an investigation.
type Report struct {
	IncidentID string
	User       string
	Account    string
	// Window is how far back the failures were searched (one hour).
	Window time.Duration
	// Failures are the user's failed console sign-ins in Window, newest
	// first (at most 100); nil when that step failed.
	Failures []Login
	// Logins are the user's last successful console sign-ins, newest
	// first (at most 10): the baseline of their usual addresses and
	// browsers. Nil when that step failed.
	Logins []Login
	// Devices is nil when the IAM step failed; empty when the user has none.
	Devices []Device
	Steps   []Step
	Finding Finding
	// Why explains the finding in one or two sentences.
	Why string
	// Next is what the responder should do now.
	Next string
}

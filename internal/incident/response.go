package incident

import "time"

// Entry is one line of an incident's timeline: who did what, when, and how
// it turned out. Actor is a Slack user ID, or "system" for mfabot itself.
type Entry struct {
	Time    time.Time `json:"time"`
	Actor   string    `json:"actor"`
	Action  string    `json:"action"`
	Outcome string    `json:"outcome"`
	Detail  string    `json:"detail,omitempty"`
}

// SystemActor is the actor of entries mfabot writes on its own.
const SystemActor = "system"

// ResetStatus is where an MFA reset request stands.
type ResetStatus string

// Reset statuses. A request waits for a second person; an approval leads to
// the deactivation (or, when mfabot may not act, to the command an admin
// runs), which completes or fails.
const (
	ResetPending   ResetStatus = "pending"
	ResetDenied    ResetStatus = "denied"
	ResetApproved  ResetStatus = "approved"
	ResetCompleted ResetStatus = "completed"
	ResetFailed    ResetStatus = "failed"
)

// Reset is a request to deactivate an IAM user's MFA devices so that they
// can enrol again. It is never automatic: someone other than the requester
// approves it after verifying the person's identity.
type Reset struct {
	IncidentID  string      `json:"incident_id"`
	Status      ResetStatus `json:"status"`
	RequestedBy string      `json:"requested_by"`
	RequestedAt time.Time   `json:"requested_at"`
	// ViaUser is set when the affected user asked through the DM.
	ViaUser   bool      `json:"via_user,omitempty"`
	DecidedBy string    `json:"decided_by,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
	// Verification says how the approver verified the person's identity.
	Verification string `json:"verification,omitempty"`
	// Reason is the approver's note, or why the request was denied.
	Reason string `json:"reason,omitempty"`
	// Devices are the serial numbers deactivated, or to deactivate.
	Devices []string `json:"devices,omitempty"`
	// Command is the admin CLI command posted when mfabot may not act.
	Command string `json:"command,omitempty"`
	Error   string `json:"error,omitempty"`
	// MessageTS is the approval prompt's message in the alert's thread.
	MessageTS string `json:"message_ts,omitempty"`
}

// Answer is what the affected user said in the DM.
type Answer string

// Answers to the DM.
const (
	AnswerRecovered     Answer = "recovered"
	AnswerStillFailing  Answer = "still_failing"
	AnswerNotMe         Answer = "not_me"
	AnswerNone          Answer = ""
	AnswerNotReachable  Answer = "not_reachable"
	AnswerAwaitingReply Answer = "awaiting_reply"
)

package incident

import (
	"encoding/json"
	"time"
)

// Alert is the Slack side of an incident: where its messages are, what they
// last showed, and what people did. Rev counts the changes that affect a
// message; each message remembers the Rev it shows, so that a syncer can
// bring every message up to date after a restart or a Slack outage.
type Alert struct {
	IncidentID string `json:"incident_id"`
	Rev        int64  `json:"rev"`
	// DueAt is when the alert may first be posted: new incidents wait a
	// short group window so that correlated events shape them.
	DueAt time.Time `json:"due_at"`

	// Channel and TS locate the alert message once posted; PostedRev is
	// the Rev it shows.
	Channel   string `json:"channel,omitempty"`
	TS        string `json:"ts,omitempty"`
	PostedRev int64  `json:"posted_rev,omitempty"`
	// Posting records when a first post of the alert, the reset prompt or
	// the DM was attempted, by message; after a crash the syncer looks
	// for a message posted since then before posting again.
	Posting map[string]time.Time `json:"posting,omitempty"`

	// SlackUser is the affected person's Slack user ID, once found.
	SlackUser  string    `json:"slack_user,omitempty"`
	NotifiedBy string    `json:"notified_by,omitempty"`
	NotifiedAt time.Time `json:"notified_at,omitzero"`
	// DMChannel and DMTS locate the DM once sent; DMRev is the Rev it
	// shows. A DM is wanted once SlackUser is set.
	DMChannel string `json:"dm_channel,omitempty"`
	DMTS      string `json:"dm_ts,omitempty"`
	DMRev     int64  `json:"dm_rev,omitempty"`
	Answer    Answer `json:"answer,omitempty"`

	// Reset is the latest reset request; its prompt in the thread shows
	// PromptRev.
	Reset     *Reset `json:"reset,omitempty"`
	PromptRev int64  `json:"prompt_rev,omitempty"`
	// ReEnrolSent records that the user was told to enrol again.
	ReEnrolSent bool `json:"re_enrol_sent,omitempty"`

	InvestigatedBy string    `json:"investigated_by,omitempty"`
	InvestigatedAt time.Time `json:"investigated_at,omitzero"`
	// Investigating is set while an investigation's report is due.
	Investigating bool `json:"investigating,omitempty"`

	ResolvedBy string `json:"resolved_by,omitempty"`
	Resolution string `json:"resolution,omitempty"`

	// Last is what the timeline last said about the incident's detection
	// state, so that a change (a new classification, a recovery) gets its
	// own line.
	Last Snapshot `json:"last"`
}

// Snapshot is the part of an incident whose changes the timeline reports.
type Snapshot struct {
	Classification Classification `json:"classification,omitempty"`
	Severity       Severity       `json:"severity,omitempty"`
	Status         Status         `json:"status,omitempty"`
}

// SnapshotOf returns the incident's snapshot.
func SnapshotOf(inc *Incident) Snapshot {
	return Snapshot{inc.Classification, inc.Severity, inc.Status}
}

// Synced reports whether every message shows the current Rev.
func (a *Alert) Synced() bool {
	if a.TS == "" || a.PostedRev < a.Rev {
		return false
	}
	if a.SlackUser != "" && (a.DMTS == "" || a.DMRev < a.Rev) {
		return false
	}
	if a.Reset != nil && (a.Reset.MessageTS == "" || a.PromptRev < a.Rev) {
		return false
	}
	return true
}

// ThreadMessage is a message queued for an alert's thread: a timeline line
// or a report. Blocks holds Block Kit JSON, or nothing for plain text.
type ThreadMessage struct {
	Text      string          `json:"text"`
	Blocks    json.RawMessage `json:"blocks,omitempty"`
	Broadcast bool            `json:"broadcast,omitempty"`
}

// Package handlers holds what mfabot does when an incident changes, a
// responder clicks a button, an affected user answers the DM, or someone
// types /mfa, and the pure functions that render each Slack message.
package handlers

// Action IDs of the buttons mfabot posts. A button's value is the incident
// ID.
const (
	ActionInvestigate      = "investigate"
	ActionNotifyUser       = "notify_user"
	ActionRequestReset     = "request_reset"
	ActionResolve          = "resolve"
	ActionUserRecovered    = "user_recovered"
	ActionUserStillFailing = "user_still_failing"
	ActionUserNotMe        = "user_not_me"
	ActionApproveReset     = "approve_reset"
	ActionDenyReset        = "deny_reset"
)

// Callback IDs of the modals, and the block and action IDs of their inputs.
// A modal's private metadata is the incident ID.
const (
	CallbackApproveReset = "approve_reset_modal"
	CallbackDenyReset    = "deny_reset_modal"

	BlockVerification  = "verification"
	ActionVerification = "verification_method"
	BlockNote          = "note"
	ActionNote         = "note_text"
	BlockDenyReason    = "deny_reason"
	ActionDenyReason   = "deny_reason_text"
)

// SlashCommand is the one slash command mfabot answers.
const SlashCommand = "/mfa"

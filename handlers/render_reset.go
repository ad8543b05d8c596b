package handlers

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
)

// VerificationMethods are the ways an approver may have verified the
// person's identity, offered in the approval modal. Each option's value is
// its text, so the submission's selected value can be stored as is.
var VerificationMethods = []string{
	"Video call with camera on",
	"In person",
	"Call back on a number from the HR directory",
	"Confirmed by their manager",
}

// maxModalInput bounds what a modal's text inputs accept.
const maxModalInput = 1000

// ResetPrompt renders the approval prompt posted in the alert's thread.
// While the request is pending it carries Approve and Deny buttons; once
// decided it shows the decision and what came of it, without buttons.
func ResetPrompt(r incident.Reset, inc *incident.Incident) Message {
	if inc == nil {
		inc = &incident.Incident{}
	}
	id := cmp.Or(r.IncidentID, inc.ID)
	user, acct := clip(inc.Subject.User, 128), code(inc.Subject.Account, 40)
	by := mentionOf(r.RequestedBy)
	if r.ViaUser {
		by = "the user (via DM)"
	}
	blocks := []slack.Block{
		sectionBlock("reset_request", fmt.Sprintf(":key: *MFA reset requested* for IAM user *%s* in account %s by %s at %s.",
			user, acct, by, utcAndLocal(r.RequestedAt))),
	}
	if r.Status == incident.ResetPending {
		blocks = append(blocks,
			sectionBlock("reset_caution", ":warning: Deactivating MFA removes a security control. Before approving, *verify the person's identity*: "+
				"a video call with camera on, in person, or a call back on a number you already know (e.g. the HR directory) — "+
				"never via the channel that reported the problem.\nOnly an approver other than the requester can approve."),
			slack.NewActionBlock("reset_actions",
				button(ActionApproveReset, "Approve", id, slack.StylePrimary),
				button(ActionDenyReset, "Deny", id, slack.StyleDanger)))
	} else {
		blocks = append(blocks, sectionBlock("reset_decision", resetDecision(r)))
	}
	text := fmt.Sprintf("MFA reset for %s: %s (%s)", user, resetStatusWords(r.Status), clip(id, 40))
	return newMessage(text, blocks...)
}

// resetStatusWords names a reset status for the fallback text.
func resetStatusWords(s incident.ResetStatus) string {
	switch s {
	case incident.ResetPending:
		return "pending approval"
	case incident.ResetApproved:
		return "approved"
	case incident.ResetCompleted:
		return "done"
	case incident.ResetFailed:
		return "failed"
	case incident.ResetDenied:
		return "denied"
	}
	return clip(string(s), 40)
}

// resetDecision describes a decided request and its outcome.
func resetDecision(r incident.Reset) string {
	who := mentionOf(r.DecidedBy)
	at := ""
	if !r.DecidedAt.IsZero() {
		at = " at " + utc(r.DecidedAt)
	}
	if r.Status == incident.ResetDenied {
		reason := clipLines(r.Reason, 1000)
		if reason == "" {
			reason = "(no reason given)"
		}
		return fmt.Sprintf(":no_entry: *Denied* by %s%s: %s", who, at, reason)
	}
	verification := clip(r.Verification, 200)
	if verification == "" {
		verification = "(not recorded)"
	}
	lines := []string{fmt.Sprintf(":white_check_mark: *Approved* by %s%s. Identity verified: %s.", who, at, verification)}
	if r.Reason != "" {
		lines = append(lines, "*Note:* "+clipLines(r.Reason, 800))
	}
	switch {
	case r.Status == incident.ResetFailed:
		lines = append(lines, ":x: *Deactivation failed:* "+orNone(clipLines(r.Error, 800)))
	case r.Status == incident.ResetCompleted && len(r.Devices) > 0 && r.Command == "":
		lines = append(lines, "*Deactivated:* "+list(r.Devices, 5, 200, 0, code)+". The user was asked to enrol a new device.")
	case r.Status == incident.ResetCompleted && r.Command == "":
		lines = append(lines, "Done: no MFA device needed deactivating.")
	case r.Command == "":
		lines = append(lines, ":hourglass_flowing_sand: Deactivating the devices…")
	}
	if r.Command != "" {
		lines = append(lines, "mfabot may not deactivate devices itself. *An admin must run:*\n```"+
			strings.ReplaceAll(clipLines(r.Command, 1000), "```", "'''")+"```")
	}
	return strings.Join(lines, "\n")
}

// ApproveModal renders the modal an approver fills in: how the person's
// identity was verified (required) and an optional note.
func ApproveModal(incidentID, user string) slack.ModalViewRequest {
	options := make([]*slack.OptionBlockObject, len(VerificationMethods))
	for i, m := range VerificationMethods {
		options[i] = slack.NewOptionBlockObject(m, plain(m, 75), nil)
	}
	sel := slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose a method", 150), ActionVerification, options...)
	note := slack.NewPlainTextInputBlockElement(plain("Anything the next responder should know", 150), ActionNote).
		WithMultiline(true).WithMaxLength(maxModalInput)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Approve MFA reset", maxViewText),
		Submit:          plain("Approve reset", maxViewText),
		Close:           plain("Cancel", maxViewText),
		CallbackID:      CallbackApproveReset,
		PrivateMetadata: incidentID,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			sectionBlock("approve_intro", fmt.Sprintf(":warning: Approving deactivates the MFA devices of IAM user *%s* (%s), "+
				"removing a security control until they enrol a new one. Approve only after verifying their identity "+
				"outside the channel that reported the problem.", clip(user, 128), clip(incidentID, 40))),
			slack.NewInputBlock(BlockVerification, plain("How did you verify their identity?", 2000), nil, sel),
			slack.NewInputBlock(BlockNote, plain("Note", 2000), nil, note).WithOptional(true),
		}},
	}
}

// DenyModal renders the modal that asks why a reset is denied.
func DenyModal(incidentID string) slack.ModalViewRequest {
	reason := slack.NewPlainTextInputBlockElement(plain("Why is the reset denied?", 150), ActionDenyReason).
		WithMultiline(true).WithMaxLength(maxModalInput)
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		Title:           plain("Deny MFA reset", maxViewText),
		Submit:          plain("Deny reset", maxViewText),
		Close:           plain("Cancel", maxViewText),
		CallbackID:      CallbackDenyReset,
		PrivateMetadata: incidentID,
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			sectionBlock("deny_intro", "The requester and the incident's thread will see your reason ("+clip(incidentID, 40)+")."),
			slack.NewInputBlock(BlockDenyReason, plain("Reason", 2000), nil, reason),
		}},
	}
}

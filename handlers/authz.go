package handlers

import (
	"context"
	"fmt"
	"slices"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// Refusal is a user-facing "no": the person sees Msg as an ephemeral
// message, nothing changes, and the attempt is audited.
type Refusal struct {
	Msg string
}

func (r *Refusal) Error() string { return r.Msg }

func refuse(format string, args ...any) *Refusal { return &Refusal{fmt.Sprintf(format, args...)} }

// isResponder and isApprover authorise by Slack user ID, never by name.
func (a *App) isResponder(user string) bool { return slices.Contains(a.Cfg.Responders, user) }
func (a *App) isApprover(user string) bool  { return slices.Contains(a.Cfg.Approvers, user) }

// channelAction checks a click on an alert's button: a responder, in the
// alert channel, on that incident's own alert message.
func (a *App) channelAction(c Click, al *incident.Alert) error {
	if !a.isResponder(c.User) {
		return refuse("Only responders can do that. Ask someone on the security rotation.")
	}
	if c.Channel != a.Cfg.AlertChannel || c.Channel != al.Channel || c.MessageTS != al.TS {
		return refuse("That button does not belong to %s's alert; use the alert in <#%s>.", al.IncidentID, a.Cfg.AlertChannel)
	}
	return nil
}

// userAction checks a click in the DM: only the affected person, in their
// own DM.
func (a *App) userAction(c Click, al *incident.Alert) error {
	if al.SlackUser == "" || c.User != al.SlackUser || c.Channel != al.DMChannel || c.MessageTS != al.DMTS {
		return refuse("Only the person this message was sent to can answer it.")
	}
	return nil
}

// approverAction checks a click on the reset prompt: an approver, on the
// prompt of a pending request, and never the requester when approving.
func (a *App) approverAction(c Click, al *incident.Alert, approving bool) error {
	if !a.isApprover(c.User) {
		return refuse("Only approvers can decide an MFA reset.")
	}
	r := al.Reset
	if r == nil || c.Channel != al.Channel || c.MessageTS != r.MessageTS {
		return refuse("That button does not belong to a reset request of %s.", al.IncidentID)
	}
	if r.Status != incident.ResetPending {
		return refuse("This reset request was already %s.", r.Status)
	}
	if approving && c.User == r.RequestedBy {
		return refuse("You requested this reset, so someone else must approve it.")
	}
	return nil
}

// audit records an attempt that was refused or failed, with the reason.
func (a *App) auditRefusal(ctx context.Context, user, action, id string, why error) {
	err := a.update(ctx, func(tx *store.Tx) error {
		_, err := tx.AppendAudit(store.AuditEntry{Time: a.now(), Actor: user, Action: action,
			IncidentID: id, Outcome: "refused", Detail: why.Error()})
		return err
	})
	if err != nil {
		a.log().Error("audit refusal", "user", user, "action", action, "incident", id, "err", err)
	}
}

package handlers

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// requestReset opens a reset request; it never resets anything by itself.
func (a *App) requestReset(ctx context.Context, c Click) error {
	var user string
	if err := a.view(ctx, c.Value, func(inc *incident.Incident, al *incident.Alert) error {
		if err := a.channelAction(c, al); err != nil {
			return err
		}
		user = inc.Subject.User
		return resettable(inc, al)
	}); err != nil {
		return err
	}
	// Find the person now, so that they can be told to enrol again.
	slackID, _ := a.findSlackUser(ctx, user)
	return a.change(ctx, c.Value, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if err := resettable(inc, al); err != nil {
			return err
		}
		if al.SlackUser == "" && slackID != "" {
			al.SlackUser, al.Answer = slackID, incident.AnswerNone
		}
		return a.openReset(tx, inc, al, c.User, false)
	})
}

// resettable refuses a reset request where none may be opened.
func resettable(inc *incident.Incident, al *incident.Alert) error {
	if err := personOnly(inc); err != nil {
		return err
	}
	if err := notActive(inc); err != nil {
		return err
	}
	if al.Answer == incident.AnswerNotMe {
		return refuse("%s said this wasn't them: treat it as a possible compromise; do not reset MFA.", Escape(inc.Subject.User))
	}
	if r := al.Reset; r != nil && (r.Status == incident.ResetPending || r.Status == incident.ResetApproved || r.Status == incident.ResetCompleted) {
		return refuse("A reset for %s is already %s.", inc.ID, r.Status)
	}
	return nil
}

// openReset records a pending reset request; the syncer posts its prompt.
func (a *App) openReset(tx *store.Tx, inc *incident.Incident, al *incident.Alert, by string, viaUser bool) error {
	al.Reset = &incident.Reset{IncidentID: inc.ID, Status: incident.ResetPending, RequestedBy: by, RequestedAt: a.now(), ViaUser: viaUser}
	al.PromptRev = 0
	return a.timeline(tx, inc.ID, a.entry(by, "request reset", "waiting for an approver", "identity must be verified before MFA is deactivated"))
}

// openDecision opens the approval or denial modal for an approver.
func (a *App) openDecision(ctx context.Context, c Click) error {
	approving := c.ActionID == ActionApproveReset
	var user string
	if err := a.view(ctx, c.Value, func(inc *incident.Incident, al *incident.Alert) error {
		user = inc.Subject.User
		return a.approverAction(c, al, approving)
	}); err != nil {
		return err
	}
	view := DenyModal(c.Value)
	if approving {
		view = ApproveModal(c.Value, user)
	}
	if _, err := a.Slack.OpenViewContext(ctx, c.TriggerID, view); err != nil {
		return fmt.Errorf("open modal: %w", err)
	}
	return nil
}

// Submission is a modal submitted by a person: its callback, private
// metadata (the incident ID) and input values by block and action ID.
type Submission struct {
	User       string
	CallbackID string
	Metadata   string
	Values     map[string]map[string]string
}

// HandleSubmission acts on an approval or denial. The checks run again:
// the request may have been decided while the modal was open.
func (a *App) HandleSubmission(ctx context.Context, s Submission) {
	var err error
	switch s.CallbackID {
	case CallbackApproveReset:
		err = a.approve(ctx, s)
	case CallbackDenyReset:
		err = a.deny(ctx, s)
	default:
		err = refuse("mfabot does not know that form.")
	}
	if err != nil {
		a.auditRefusal(ctx, s.User, "submit "+s.CallbackID, idOrEmpty(s.Metadata), err)
		a.log().Warn("submission refused", "callback", s.CallbackID, "user", s.User, "err", err)
		a.dmUser(ctx, s.User, err)
	}
}

func idOrEmpty(id string) string {
	if validID.MatchString(id) {
		return id
	}
	return ""
}

// dmUser tells a person why their submission did nothing.
func (a *App) dmUser(ctx context.Context, user string, err error) {
	msg := "Something went wrong; it has been logged."
	var r *Refusal
	if errors.As(err, &r) {
		msg = r.Msg
	}
	ch, _, _, oerr := a.Slack.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{user}})
	if oerr != nil {
		a.log().Warn("could not tell the user", "user", user, "err", oerr)
		return
	}
	if _, _, perr := a.Slack.PostMessageContext(ctx, ch.ID, NotAllowed(msg).Options()...); perr != nil {
		a.log().Warn("could not tell the user", "user", user, "err", perr)
	}
}

// decisionCheck is approverAction for a submission, which has no message.
func (a *App) decisionCheck(user string, al *incident.Alert, approving bool) error {
	c := Click{User: user, Channel: al.Channel}
	if al.Reset != nil {
		c.MessageTS = al.Reset.MessageTS
	}
	return a.approverAction(c, al, approving)
}

// approve records the approval, then deactivates the user's MFA devices or,
// when mfabot may not, posts the command for an admin.
func (a *App) approve(ctx context.Context, s Submission) error {
	if !validID.MatchString(s.Metadata) {
		return refuse("That form does not name an incident.")
	}
	method := strings.TrimSpace(s.Values[BlockVerification][ActionVerification])
	note := strings.TrimSpace(s.Values[BlockNote][ActionNote])
	if method == "" {
		return refuse("Say how you verified the person's identity before approving.")
	}
	var user string
	err := a.change(ctx, s.Metadata, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if err := a.decisionCheck(s.User, al, true); err != nil {
			return err
		}
		r := al.Reset
		r.Status, r.DecidedBy, r.DecidedAt, r.Verification, r.Reason = incident.ResetApproved, s.User, a.now(), method, note
		user = inc.Subject.User
		return a.timeline(tx, inc.ID, a.entry(s.User, "approve reset", "approved", "identity verified: "+method))
	})
	if err != nil {
		return err
	}
	var devices []string
	listed, lerr := a.MFA.MFADevices(ctx, user)
	for _, d := range listed {
		devices = append(devices, d.Serial)
	}
	if !a.Cfg.DeactivateMFA {
		return a.finishReset(ctx, s, devices, awsops.DeactivateCommand(user, devices), lerr)
	}
	if lerr != nil {
		return a.finishReset(ctx, s, nil, "", lerr)
	}
	done, derr := a.MFA.DeactivateMFADevices(ctx, user, devices)
	return a.finishReset(ctx, s, done, "", derr)
}

// finishReset records how the approved reset ended.
func (a *App) finishReset(ctx context.Context, s Submission, devices []string, command string, failure error) error {
	return a.change(ctx, s.Metadata, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		r := al.Reset
		r.Devices, r.Command = devices, command
		switch {
		case command != "":
			detail := "mfabot may not deactivate MFA (remediation.deactivate_mfa is off): an admin runs the command in the prompt"
			if failure != nil {
				detail += "; listing the devices failed: " + failure.Error()
			}
			return a.timeline(tx, inc.ID, a.entry(incident.SystemActor, "reset", "command posted", detail))
		case failure != nil:
			r.Status, r.Error = incident.ResetFailed, failure.Error()
			return a.timeline(tx, inc.ID, a.entry(incident.SystemActor, "reset", "failed", failure.Error()))
		default:
			r.Status = incident.ResetCompleted
			return a.timeline(tx, inc.ID, a.entry(incident.SystemActor, "reset", "MFA deactivated",
				fmt.Sprintf("%d device(s): %s; the user must enrol a new one", len(devices), strings.Join(devices, ", "))))
		}
	})
}

// deny records a denied reset request and its reason.
func (a *App) deny(ctx context.Context, s Submission) error {
	if !validID.MatchString(s.Metadata) {
		return refuse("That form does not name an incident.")
	}
	reason := strings.TrimSpace(s.Values[BlockDenyReason][ActionDenyReason])
	if reason == "" {
		return refuse("Give a reason for denying the reset.")
	}
	return a.change(ctx, s.Metadata, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if err := a.decisionCheck(s.User, al, false); err != nil {
			return err
		}
		r := al.Reset
		r.Status, r.DecidedBy, r.DecidedAt, r.Reason = incident.ResetDenied, s.User, a.now(), reason
		return a.timeline(tx, inc.ID, a.entry(s.User, "deny reset", "denied", reason))
	})
}

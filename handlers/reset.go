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
		if err := a.ownAccount(inc); err != nil {
			return err
		}
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
	err := a.change(ctx, s.Metadata, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if err := a.decisionCheck(s.User, al, true); err != nil {
			return err
		}
		r := al.Reset
		r.Status, r.DecidedBy, r.DecidedAt, r.Verification, r.Reason = incident.ResetApproved, s.User, a.now(), method, note
		return a.timeline(tx, inc.ID, a.entry(s.User, "approve reset", "approved", "identity verified: "+method))
	})
	if err != nil {
		return err
	}
	return a.carryOut(ctx, s.Metadata)
}

// unfinished reports whether an approved reset still has to be carried out.
func unfinished(al *incident.Alert) bool {
	return al.Reset != nil && al.Reset.Status == incident.ResetApproved && al.Reset.Command == ""
}

// carryOut acts on an approved reset: it re-lists the user's MFA devices
// and deactivates them or, when mfabot may not, posts the command for an
// admin. It is also how a reset approved just before a crash is finished.
func (a *App) carryOut(ctx context.Context, id string) error {
	var user string
	if err := a.view(ctx, id, func(inc *incident.Incident, al *incident.Alert) error {
		if !unfinished(al) {
			return errDone
		}
		user = inc.Subject.User
		return nil
	}); err != nil {
		if errors.Is(err, errDone) {
			return nil
		}
		return err
	}
	s := Submission{Metadata: id}
	var devices []string
	listed, lerr := a.MFA.MFADevices(ctx, user)
	for _, d := range listed {
		devices = append(devices, d.Serial)
	}
	if !a.Cfg.DeactivateMFA {
		cmd := awsops.DeactivateCommand(user, devices)
		if cmd == "" {
			cmd = "aws iam list-mfa-devices --user-name " + awsops.ShellQuote(user) + "   # then deactivate-mfa-device for each serial number"
		}
		return a.finishReset(ctx, s, devices, cmd, lerr)
	}
	if lerr != nil {
		return a.finishReset(ctx, s, nil, "", lerr)
	}
	done, derr := a.MFA.DeactivateMFADevices(ctx, user, devices)
	return a.finishReset(ctx, s, done, "", derr)
}

// errDone stops work that an earlier attempt already finished.
var errDone = errors.New("already done")

// finishReset records how the approved reset ended.
func (a *App) finishReset(ctx context.Context, s Submission, devices []string, command string, failure error) error {
	return a.change(ctx, s.Metadata, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if !unfinished(al) {
			return nil
		}
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

// Resume finishes work that a crash cut short: investigations whose report
// was never queued, and approved resets never carried out. The bot's
// journal replays the clicks themselves; this covers what happens after
// the click's first transaction.
func (a *App) Resume(ctx context.Context) {
	var alerts []*incident.Alert
	if err := a.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		alerts, err = tx.Alerts()
		return err
	}); err != nil {
		a.log().Error("resume: list alerts", "err", err)
		return
	}
	for _, al := range alerts {
		if al.Investigating {
			var inc *incident.Incident
			err := a.view(ctx, al.IncidentID, func(i *incident.Incident, _ *incident.Alert) error { inc = i; return nil })
			if err == nil {
				a.log().Info("resuming an investigation cut short", "incident", al.IncidentID)
				err = a.report(ctx, inc, al.InvestigatedBy)
			}
			if err != nil {
				a.log().Error("resume investigation", "incident", al.IncidentID, "err", err)
			}
		}
		if unfinished(al) {
			a.log().Info("resuming an approved reset", "incident", al.IncidentID)
			if err := a.carryOut(ctx, al.IncidentID); err != nil {
				a.log().Error("resume reset", "incident", al.IncidentID, "err", err)
			}
		}
	}
}

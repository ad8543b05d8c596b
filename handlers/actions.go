package handlers

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// Click is a button press as the bot received it. Every field comes from
// Slack's payload and is untrusted until checked.
type Click struct {
	User      string
	Channel   string
	MessageTS string
	ActionID  string
	Value     string
	TriggerID string
}

// validID matches incident IDs as the store writes them.
var validID = regexp.MustCompile(`^INC-[1-9][0-9]{0,17}$`)

// reinvestigateAfter stops double clicks from running two investigations.
const reinvestigateAfter = 2 * time.Minute

// HandleClick does what a button asks, after checking who clicked it, where,
// and on what. A refused click gets an ephemeral answer and an audit entry,
// and changes nothing.
func (a *App) HandleClick(ctx context.Context, c Click) {
	if !validID.MatchString(c.Value) {
		a.refuseClick(ctx, c, "", refuse("That button does not name an incident mfabot knows."))
		return
	}
	var err error
	switch c.ActionID {
	case ActionInvestigate:
		err = a.investigate(ctx, c)
	case ActionNotifyUser:
		err = a.notifyUser(ctx, c)
	case ActionRequestReset:
		err = a.requestReset(ctx, c)
	case ActionResolve:
		err = a.resolve(ctx, c)
	case ActionUserRecovered, ActionUserStillFailing, ActionUserNotMe:
		err = a.userAnswer(ctx, c)
	case ActionApproveReset, ActionDenyReset:
		err = a.openDecision(ctx, c)
	default:
		err = refuse("mfabot does not know that button.")
	}
	var r *Refusal
	switch {
	case errors.As(err, &r):
		a.refuseClick(ctx, c, c.Value, r)
	case err != nil:
		a.log().Error("click failed", "action", c.ActionID, "incident", c.Value, "user", c.User, "err", err)
		a.ephemeral(ctx, c.Channel, c.User, "Something went wrong handling that; it has been logged. Try again in a moment.")
	}
}

// refuseClick answers a refused click and audits it.
func (a *App) refuseClick(ctx context.Context, c Click, id string, r *Refusal) {
	a.auditRefusal(ctx, c.User, "click "+c.ActionID, id, r)
	a.ephemeral(ctx, c.Channel, c.User, r.Msg)
}

// ephemeral shows one person a message; failures are only logged.
func (a *App) ephemeral(ctx context.Context, channel, user, text string) {
	if channel == "" || user == "" {
		return
	}
	m := NotAllowed(text)
	if _, err := a.Slack.PostEphemeralContext(ctx, channel, user, m.Options()...); err != nil {
		a.log().Warn("ephemeral answer failed", "user", user, "channel", channel, "err", err)
	}
}

// load reads an incident and its alert, refusing ids the store does not
// know or that were never alerted.
func load(tx *store.Tx, id string) (*incident.Incident, *incident.Alert, error) {
	inc, err := tx.Incident(id)
	if errors.Is(err, incident.ErrNotFound) {
		return nil, nil, refuse("There is no incident %s.", id)
	}
	if err != nil {
		return nil, nil, err
	}
	al, err := tx.Alert(id)
	if err != nil {
		return nil, nil, err
	}
	if al == nil || al.TS == "" {
		return nil, nil, refuse("Incident %s has not been alerted yet.", id)
	}
	return inc, al, nil
}

// change runs fn on an incident and its alert in one transaction (the check
// and the write together, so double clicks change state once), then bumps
// the alert's revision, saves both and wakes the syncer.
func (a *App) change(ctx context.Context, id string, fn func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error) error {
	err := a.update(ctx, func(tx *store.Tx) error {
		inc, al, err := load(tx, id)
		if err != nil {
			return err
		}
		if err := fn(tx, inc, al); err != nil {
			return err
		}
		al.Rev++
		if err := tx.PutIncident(inc); err != nil {
			return err
		}
		if err := tx.PutAlert(al); err != nil {
			return err
		}
		return tx.MarkDirty(id, a.now())
	})
	if err == nil {
		a.wake()
	}
	return err
}

// entry is a timeline entry by a person now.
func (a *App) entry(actor, action, outcome, detail string) incident.Entry {
	return incident.Entry{Time: a.now(), Actor: actor, Action: action, Outcome: outcome, Detail: detail}
}

// notActive refuses actions on incidents that are over.
func notActive(inc *incident.Incident) error {
	switch inc.Status {
	case incident.StatusResolved:
		return refuse("%s is already resolved.", inc.ID)
	case incident.StatusMerged:
		return refuse("%s was merged into %s; act there.", inc.ID, inc.MergedInto)
	}
	return nil
}

// personOnly refuses person actions on incidents about no person.
func personOnly(inc *incident.Incident) error {
	if inc.Subject.IsPerson() {
		return nil
	}
	return refuse("%s is about %s, not an IAM user: %s", inc.ID, inc.Subject, guidance(inc.Subject.Kind))
}

// ownAccount refuses IAM actions on an incident in another AWS account: a
// user of the same name in mfabot's own account is somebody else.
func (a *App) ownAccount(inc *incident.Incident) error {
	if a.Cfg.Account == "" || inc.Subject.Account == a.Cfg.Account {
		return nil
	}
	return refuse("%s is in AWS account %s, but mfabot acts on IAM users of account %s only: handle it in that account.",
		inc.ID, inc.Subject.Account, a.Cfg.Account)
}

// iamPerson combines the checks for actions on a person's IAM user.
func (a *App) iamPerson(inc *incident.Incident) error {
	if err := personOnly(inc); err != nil {
		return err
	}
	return a.ownAccount(inc)
}

// investigate runs the runbook's investigation and posts it in the thread.
func (a *App) investigate(ctx context.Context, c Click) error {
	var inc *incident.Incident
	err := a.change(ctx, c.Value, func(tx *store.Tx, i *incident.Incident, al *incident.Alert) error {
		if err := a.channelAction(c, al); err != nil {
			return err
		}
		if err := a.iamPerson(i); err != nil {
			return err
		}
		if err := notActive(i); err != nil {
			return err
		}
		if !al.InvestigatedAt.IsZero() && a.now().Sub(al.InvestigatedAt) < reinvestigateAfter {
			return refuse("%s was investigated by %s moments ago; the results are in the thread.", i.ID, mentionOf(al.InvestigatedBy))
		}
		al.InvestigatedBy, al.InvestigatedAt, al.Investigating = c.User, a.now(), true
		inc = i
		return a.timeline(tx, i.ID, a.entry(c.User, "investigate", "started", "querying CloudTrail logs and IAM"))
	})
	if err != nil {
		return err
	}
	return a.report(ctx, inc, c.User)
}

// report runs the investigation and queues its report for the thread. It is
// also how an investigation cut short by a crash is finished.
func (a *App) report(ctx context.Context, inc *incident.Incident, actor string) error {
	report := a.Investigator.Run(ctx, inc)
	msg := InvestigationMessage(report)
	blocks, err := marshalBlocks(msg)
	if err != nil {
		return err
	}
	return a.change(ctx, inc.ID, func(tx *store.Tx, _ *incident.Incident, al *incident.Alert) error {
		if !al.Investigating {
			return nil // finished by an earlier attempt
		}
		al.Investigating = false
		if err := tx.QueueThread(inc.ID, incident.ThreadMessage{Text: msg.Text, Blocks: blocks}); err != nil {
			return err
		}
		_, err := tx.AppendAudit(store.AuditEntry{Time: a.now(), Actor: actor, Action: "investigate",
			IncidentID: inc.ID, Outcome: string(report.Finding), Detail: report.Why})
		return err
	})
}

// resolve closes an incident and records how long it took.
func (a *App) resolve(ctx context.Context, c Click) error {
	return a.change(ctx, c.Value, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if err := a.channelAction(c, al); err != nil {
			return err
		}
		if err := notActive(inc); err != nil {
			return err
		}
		now := a.now()
		if err := inc.Move(incident.StatusResolved, now); err != nil {
			return err
		}
		al.ResolvedBy = c.User
		n, err := recentCount(tx, inc, now)
		if err != nil {
			return err
		}
		detail := fmt.Sprintf("resolution time %s; %s incident of %s in 90 days", humanDuration(now.Sub(inc.FirstSeen)), ordinal(n), inc.Subject)
		return a.timeline(tx, inc.ID, a.entry(c.User, "resolve", "resolved", detail))
	})
}

// recentCount counts the subject's incidents that started in the 90 days
// before now, this one included.
func recentCount(tx *store.Tx, inc *incident.Incident, now time.Time) (int, error) {
	all, err := tx.Incidents()
	if err != nil {
		return 0, err
	}
	n, since, key := 0, now.Add(-90*24*time.Hour), inc.Subject.Key()
	for _, o := range all {
		if o.Subject.Key() == key && !o.FirstSeen.Before(since) && o.Status != incident.StatusMerged {
			n++
		}
	}
	return n, nil
}

// marshalBlocks encodes a message's blocks for the thread outbox.
func marshalBlocks(m Message) ([]byte, error) {
	if len(m.Blocks) == 0 {
		return nil, nil
	}
	b, err := slack.Blocks{BlockSet: m.Blocks}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode blocks: %w", err)
	}
	return b, nil
}

package handlers

import (
	"context"
	"fmt"
	"regexp"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// slackUserID matches Slack user IDs; a mapping to anything else is ignored.
var slackUserID = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)

// findSlackUser finds the affected person's Slack user: users.slack_ids,
// else the IAM user's tag, else users.lookupByEmail. It says what it tried.
func (a *App) findSlackUser(ctx context.Context, user string) (string, []string) {
	var tried []string
	if id, ok := a.Cfg.SlackIDs[user]; ok && slackUserID.MatchString(id) {
		return id, nil
	}
	tried = append(tried, "users.slack_ids has no entry")
	if a.IAM != nil && a.Cfg.IAMTag != "" {
		v, ok, err := a.IAM.UserTag(ctx, user, a.Cfg.IAMTag)
		switch {
		case err != nil:
			tried = append(tried, fmt.Sprintf("reading the IAM tag %s failed (%v)", a.Cfg.IAMTag, err))
		case ok && slackUserID.MatchString(v):
			return v, nil
		case ok:
			tried = append(tried, fmt.Sprintf("the IAM tag %s does not hold a Slack user ID", a.Cfg.IAMTag))
		default:
			tried = append(tried, fmt.Sprintf("the IAM user has no tag %s", a.Cfg.IAMTag))
		}
	}
	if a.Cfg.EmailDomain != "" {
		email := user + "@" + a.Cfg.EmailDomain
		u, err := a.Slack.GetUserByEmailContext(ctx, email)
		if err == nil && u != nil && slackUserID.MatchString(u.ID) {
			return u.ID, nil
		}
		tried = append(tried, fmt.Sprintf("no Slack user has the e-mail %s", email))
	}
	return "", tried
}

// notifyUser DMs the affected person the self-service guidance.
func (a *App) notifyUser(ctx context.Context, c Click) error {
	var inc *incident.Incident
	if err := a.view(ctx, c.Value, func(i *incident.Incident, al *incident.Alert) error {
		if err := a.channelAction(c, al); err != nil {
			return err
		}
		if err := a.iamPerson(i); err != nil {
			return err
		}
		if err := notActive(i); err != nil {
			return err
		}
		if al.SlackUser != "" {
			return refuse("%s was already notified by %s.", mentionOf(al.SlackUser), mentionOf(al.NotifiedBy))
		}
		inc = i
		return nil
	}); err != nil {
		return err
	}
	slackID, tried := a.findSlackUser(ctx, inc.Subject.User)
	return a.change(ctx, inc.ID, func(tx *store.Tx, _ *incident.Incident, al *incident.Alert) error {
		if slackID == "" {
			return a.timeline(tx, inc.ID, a.entry(c.User, "notify user", "not found", NoSlackUser(inc.Subject.User, tried)))
		}
		if al.SlackUser != "" {
			return refuse("%s was already notified by %s.", mentionOf(al.SlackUser), mentionOf(al.NotifiedBy))
		}
		al.SlackUser, al.NotifiedBy, al.NotifiedAt, al.Answer = slackID, c.User, a.now(), incident.AnswerAwaitingReply
		return a.timeline(tx, inc.ID, a.entry(c.User, "notify user", "DM sent to "+mentionOf(slackID), "self-service guidance"))
	})
}

// view reads an incident and its alert for checks that precede I/O.
func (a *App) view(ctx context.Context, id string, fn func(*incident.Incident, *incident.Alert) error) error {
	return a.Store.View(ctx, func(tx *store.Tx) error {
		inc, al, err := load(tx, id)
		if err != nil {
			return err
		}
		return fn(inc, al)
	})
}

// userAnswer records the affected person's answer to the DM.
func (a *App) userAnswer(ctx context.Context, c Click) error {
	return a.change(ctx, c.Value, func(tx *store.Tx, inc *incident.Incident, al *incident.Alert) error {
		if err := a.userAction(c, al); err != nil {
			return err
		}
		if al.Answer != incident.AnswerAwaitingReply {
			return refuse("You already answered; thanks. A responder will follow up if needed.")
		}
		switch c.ActionID {
		case ActionUserRecovered:
			al.Answer = incident.AnswerRecovered
			if inc.Status == incident.StatusOpen {
				if err := inc.Move(incident.StatusRecovered, a.now()); err != nil {
					return err
				}
			}
			return a.timeline(tx, inc.ID, a.entry(c.User, "user answered", "signed in now", ""))
		case ActionUserStillFailing:
			al.Answer = incident.AnswerStillFailing
			if err := a.timeline(tx, inc.ID, a.entry(c.User, "user answered", "still failing", "opening a reset request")); err != nil {
				return err
			}
			return a.openReset(tx, inc, al, c.User, true)
		default:
			al.Answer = incident.AnswerNotMe
			inc.Severity = incident.High
			e := a.entry(c.User, "user answered", "this wasn't me", "severity raised to high: treat as a possible compromise")
			if _, err := tx.AppendAudit(store.AuditEntry{Time: e.Time, Actor: e.Actor, Action: e.Action,
				IncidentID: inc.ID, Outcome: e.Outcome, Detail: e.Detail}); err != nil {
				return err
			}
			return tx.QueueThread(inc.ID, incident.ThreadMessage{Broadcast: true,
				Text: fmt.Sprintf("<!here> %s (IAM user %s) says they did not make these sign-ins (%s). Severity raised to high: treat it as a possible compromise, and do not reset MFA.",
					mentionOf(c.User), Escape(inc.Subject.User), plural(inc.Failures, "failed sign-in", "failed sign-ins"))})
		}
	})
}

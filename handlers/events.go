package handlers

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// slackEvents is the dedupe namespace of Slack event IDs in the store.
const slackEvents = "slack-events"

// MessageEvent is a message posted in a channel the bot is in.
type MessageEvent struct {
	EventID  string
	User     string
	BotID    string
	Subtype  string
	Channel  string
	ThreadTS string
	TS       string
	Text     string
}

// HandleMessage records what a responder writes in an alert's thread as a
// note on the incident's timeline. Slack delivers events at least once, so
// each event ID is recorded once.
func (a *App) HandleMessage(ctx context.Context, m MessageEvent) {
	if m.BotID != "" || m.Subtype != "" || m.User == "" || m.ThreadTS == "" || m.ThreadTS == m.TS ||
		m.Channel != a.Cfg.AlertChannel || !a.isResponder(m.User) {
		return
	}
	err := a.update(ctx, func(tx *store.Tx) error {
		id, err := tx.AlertByTS(m.Channel, m.ThreadTS)
		if err != nil || id == "" {
			return err
		}
		key := m.EventID
		if key == "" {
			key = m.Channel + "/" + m.TS
		}
		isNew, err := tx.MarkSeen(slackEvents, key, a.now())
		if err != nil || !isNew {
			return err
		}
		_, err = tx.AppendAudit(store.AuditEntry{Time: a.now(), Actor: m.User, Action: "note", IncidentID: id,
			Outcome: "thread reply", Detail: Truncate(m.Text, 3000)})
		return err
	})
	if err != nil {
		a.log().Error("record thread reply", "event", m.EventID, "err", err)
	}
}

// SlashRequest is a slash command as the bot received it.
type SlashRequest struct {
	User        string
	Channel     string
	Text        string
	ResponseURL string
}

// HandleCommand answers /mfa. Only responders may use it: it shows
// incident details. The answer goes to the caller alone.
func (a *App) HandleCommand(ctx context.Context, c SlashRequest) {
	m, err := a.command(ctx, c)
	var r *Refusal
	var ue *UserError
	switch {
	case errors.As(err, &r):
		a.auditRefusal(ctx, c.User, "command", "", r)
		m = NotAllowed(r.Msg)
	case errors.As(err, &ue):
		m = NotAllowed(ue.Msg + "\n" + HelpMessage().Text)
	case err != nil:
		a.log().Error("slash command failed", "user", c.User, "err", err)
		m = NotAllowed("Something went wrong; it has been logged.")
	}
	a.respond(ctx, c, m)
}

// respond answers a slash command through its response URL.
func (a *App) respond(ctx context.Context, c SlashRequest, m Message) {
	opts := append(m.Options(), slack.MsgOptionResponseURL(c.ResponseURL, slack.ResponseTypeEphemeral))
	if _, _, err := a.Slack.PostMessageContext(ctx, c.Channel, opts...); err != nil {
		a.log().Warn("slash command answer failed", "user", c.User, "err", err)
	}
}

func (a *App) command(ctx context.Context, c SlashRequest) (Message, error) {
	inv, err := ParseSlash(c.Text)
	if err != nil {
		return Message{}, err
	}
	if inv.Command == "help" {
		return HelpMessage(), nil
	}
	if !a.isResponder(c.User) {
		return Message{}, refuse("Only responders can use /mfa %s.", inv.Command)
	}
	var m Message
	err = a.Store.View(ctx, func(tx *store.Tx) error {
		switch inv.Command {
		case "list":
			incs, err := tx.Incidents()
			if err != nil {
				return err
			}
			incs = slices.DeleteFunc(incs, func(i *incident.Incident) bool { return i.Status == incident.StatusMerged })
			m = ListMessage(incs)
		case "stats":
			s, err := stats(tx, a.now())
			if err != nil {
				return err
			}
			m = StatsMessage(s)
		case "show":
			inc, err := tx.Incident(inv.ID)
			if errors.Is(err, incident.ErrNotFound) {
				return refuse("There is no incident %s.", inv.ID)
			}
			if err != nil {
				return err
			}
			al, err := tx.Alert(inv.ID)
			if err != nil {
				return err
			}
			if al == nil {
				al = &incident.Alert{IncidentID: inv.ID}
			}
			v, err := a.alertView(tx, inc, al)
			if err != nil {
				return err
			}
			es, err := tx.AuditEntries(inv.ID)
			if err != nil {
				return err
			}
			m = ShowMessage(v, entries(es))
		}
		return nil
	})
	if err != nil || inv.Command != "note" {
		return m, err
	}
	err = a.update(ctx, func(tx *store.Tx) error {
		if _, err := tx.Incident(inv.ID); errors.Is(err, incident.ErrNotFound) {
			return refuse("There is no incident %s.", inv.ID)
		} else if err != nil {
			return err
		}
		e := a.entry(c.User, "note", "added", inv.Text)
		if al, err := tx.Alert(inv.ID); err != nil || al == nil || al.TS == "" {
			_, err := tx.AppendAudit(store.AuditEntry{Time: e.Time, Actor: e.Actor, Action: e.Action, IncidentID: inv.ID, Outcome: e.Outcome, Detail: e.Detail})
			return err
		}
		if err := a.timeline(tx, inv.ID, e); err != nil {
			return err
		}
		return tx.MarkDirty(inv.ID, a.now())
	})
	if err != nil {
		return Message{}, err
	}
	a.wake()
	return NotAllowed(fmt.Sprintf("Noted on %s.", inv.ID)), nil
}

// entries turns audit entries into timeline entries.
func entries(es []store.AuditEntry) []incident.Entry {
	out := make([]incident.Entry, len(es))
	for i, e := range es {
		out[i] = incident.Entry{Time: e.Time, Actor: e.Actor, Action: e.Action, Outcome: e.Outcome, Detail: e.Detail}
	}
	return out
}

// stats summarises the store for /mfa stats.
func stats(tx *store.Tx, now time.Time) (Stats, error) {
	incs, err := tx.Incidents()
	if err != nil {
		return Stats{}, err
	}
	s := Stats{ByClassification: map[incident.Classification]int{}}
	var res []time.Duration
	for _, inc := range incs {
		switch inc.Status {
		case incident.StatusMerged:
			continue
		case incident.StatusOpen:
			s.Open++
		case incident.StatusRecovered:
			s.Recovered++
		case incident.StatusResolved:
			s.Resolved++
			if inc.ResolvedAt != nil {
				res = append(res, inc.ResolvedAt.Sub(inc.FirstSeen))
			}
		}
		s.ByClassification[inc.Classification]++
		if !inc.FirstSeen.Before(now.Add(-90 * 24 * time.Hour)) {
			s.Last90d++
		}
	}
	if len(res) > 0 {
		slices.Sort(res)
		s.MedianResolution = res[len(res)/2]
	}
	return s, nil
}

// alertView gathers what the alert shows.
func (a *App) alertView(tx *store.Tx, inc *incident.Incident, al *incident.Alert) (AlertView, error) {
	n, err := recentCount(tx, inc, a.now())
	if err != nil {
		return AlertView{}, err
	}
	v := AlertView{Incident: inc, Links: a.links(inc), Reset: al.Reset, Answer: al.Answer,
		NotifiedUser: al.SlackUser, Recent90d: n, ResolvedBy: al.ResolvedBy, Resolution: al.Resolution}
	return v, nil
}

// links builds the alert's console links.
func (a *App) links(inc *incident.Incident) Links {
	var l Links
	region := inc.LastRegion
	if region == "" {
		region = a.Cfg.Region
	}
	if region != "" && inc.LastEventID != "" {
		l.CloudTrailEvent = awsops.CloudTrailEventURL(region, inc.LastEventID)
	}
	if a.Cfg.LogGroup != "" && a.Cfg.Region != "" && inc.Subject.IsPerson() {
		if q, err := awsops.FailedLoginsQuery(inc.Subject.User); err == nil {
			l.LogsInsights = awsops.InsightsURLRange(a.Cfg.Region, a.Cfg.LogGroup, q, inc.FirstSeen.Add(-time.Hour), inc.LastSeen.Add(time.Hour))
		}
	}
	l.Runbook = a.Cfg.RunbookURL
	return l
}

package main

import (
	"context"
	"fmt"
	"time"

	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// driver plays the people of the local workspace: it clicks, submits and
// waits for what the bot does, for `mfabot demo` and the end-to-end tests.
type driver struct {
	w       *localWorld
	st      *store.Store
	timeout time.Duration
}

// wait polls cond until it holds or the driver's timeout passes.
func (d *driver) wait(ctx context.Context, what string, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	if err := d.w.slack.WaitFor(ctx, cond); err != nil {
		return fmt.Errorf("waiting for %s: %w", what, err)
	}
	return nil
}

// posted is an incident whose alert is in the channel.
type posted struct {
	inc *incident.Incident
	al  *incident.Alert
}

// find returns the current state of the incident whose subject matches.
func (d *driver) find(ctx context.Context, match func(*incident.Incident) bool) (posted, bool) {
	var p posted
	_ = d.st.View(ctx, func(tx *store.Tx) error {
		incs, err := tx.Incidents()
		if err != nil {
			return err
		}
		for _, inc := range incs {
			if !match(inc) {
				continue
			}
			al, err := tx.Alert(inc.ID)
			if err != nil || al == nil {
				return err
			}
			p = posted{inc, al}
		}
		return nil
	})
	return p, p.inc != nil
}

// alert waits until the matching incident's alert is posted.
func (d *driver) alert(ctx context.Context, what string, match func(*incident.Incident) bool) (posted, error) {
	var p posted
	err := d.wait(ctx, "the alert of "+what, func() bool {
		var ok bool
		p, ok = d.find(ctx, match)
		return ok && p.al.TS != ""
	})
	return p, err
}

// refresh reloads an incident and its alert.
func (d *driver) refresh(ctx context.Context, p posted) posted {
	q, _ := d.find(ctx, func(i *incident.Incident) bool { return i.ID == p.inc.ID })
	return q
}

func forUser(user string) func(*incident.Incident) bool {
	return func(i *incident.Incident) bool { return i.Subject.Kind == incident.KindUser && i.Subject.User == user }
}

func isSpray(i *incident.Incident) bool { return i.Subject.Kind == incident.KindSourceIP }

// click presses a button as user and waits for the bot's ack.
func (d *driver) click(ctx context.Context, user, channel, ts, action, value string) error {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	env, err := d.w.slack.ClickButton(ctx, user, channel, ts, action, value)
	if err != nil {
		return fmt.Errorf("%s clicks %s: %w", user, action, err)
	}
	if _, err := d.w.slack.WaitAck(ctx, env); err != nil {
		return fmt.Errorf("ack of %s's %s: %w", user, action, err)
	}
	return nil
}

// submit fills in and submits the modal with the callback that user has
// open, waiting for it to open first.
func (d *driver) submit(ctx context.Context, user, callback string, values map[string]map[string]string) error {
	var view slackfake.View
	if err := d.wait(ctx, "the "+callback+" modal", func() bool {
		for _, v := range d.w.slack.Views() {
			if v.UserID == user && v.CallbackID == callback && !v.Closed {
				view = v
				return true
			}
		}
		return false
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	env, err := d.w.slack.SubmitView(ctx, user, view.ID, values)
	if err != nil {
		return fmt.Errorf("%s submits %s: %w", user, callback, err)
	}
	_, err = d.w.slack.WaitAck(ctx, env)
	return err
}

// ephemeralFor waits for a new ephemeral message to user and returns it.
func (d *driver) ephemeralFor(ctx context.Context, user string, before int) (slackfake.Ephemeral, error) {
	var e slackfake.Ephemeral
	err := d.wait(ctx, "an answer to "+user, func() bool {
		es := d.w.slack.Ephemerals()
		for _, x := range es[min(before, len(es)):] {
			if x.User == user {
				e = x
				return true
			}
		}
		return false
	})
	return e, err
}

// threadSince waits until the alert's thread holds more than n replies and
// returns the new ones.
func (d *driver) threadSince(ctx context.Context, p posted, n int, what string, done func([]slackfake.Message) bool) ([]slackfake.Message, error) {
	var out []slackfake.Message
	err := d.wait(ctx, what, func() bool {
		th := replies(d.w.slack.Thread(localChannel, p.al.TS), p.al.TS)
		if len(th) <= n {
			return false
		}
		out = th[n:]
		return done(out)
	})
	return out, err
}

// replies drops the parent from a thread listing.
func replies(th []slackfake.Message, parent string) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range th {
		if m.TS != parent {
			out = append(out, m)
		}
	}
	return out
}

// threadLen counts the replies in an alert's thread.
func (d *driver) threadLen(p posted) int {
	return len(replies(d.w.slack.Thread(localChannel, p.al.TS), p.al.TS))
}

// until waits until cond holds for the incident's current state and
// returns that state.
func (d *driver) until(ctx context.Context, what string, p posted, cond func(posted) bool) (posted, error) {
	var cur posted
	err := d.wait(ctx, what, func() bool {
		cur = d.refresh(ctx, p)
		return cur.inc != nil && cond(cur)
	})
	return cur, err
}

func promptPosted(p posted) bool { return p.al.Reset != nil && p.al.Reset.MessageTS != "" }

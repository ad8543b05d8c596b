package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// Syncer keeps every incident's Slack messages (the alert, its thread, the
// reset prompt, the DM) in step with the store. All Slack output goes
// through it: handlers only record what should be shown, so nothing is lost
// when Slack is down or mfabot restarts, and an incident's messages go out
// in order.
type Syncer struct {
	App *App
	// retry holds, per incident, when to try again after a failure.
	retry map[string]backoff
	// pausedUntil is the end of Slack's last Retry-After: nothing is
	// sent before it, however often the syncer is woken.
	pausedUntil time.Time
}

type backoff struct {
	at       time.Time
	attempts int
}

// maxBackoff caps the wait after repeated failures for one incident.
const maxBackoff = 5 * time.Minute

// Run syncs until ctx ends, waking early when wake receives.
func (s *Syncer) Run(ctx context.Context, wake <-chan struct{}) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		wait := s.Sync(ctx)
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(wait)
	}
}

// Sync does the Slack work that is due and says how long to wait before
// the next is.
func (s *Syncer) Sync(ctx context.Context) time.Duration {
	a := s.App
	if s.retry == nil {
		s.retry = map[string]backoff{}
	}
	if wait := s.pausedUntil.Sub(a.now()); wait > 0 {
		return wait
	}
	var due []store.Due
	if err := a.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		due, err = tx.Dirty()
		return err
	}); err != nil {
		a.log().Error("list slack work", "err", err)
		return time.Second
	}
	next := time.Minute
	for _, d := range due {
		if ctx.Err() != nil {
			return 0
		}
		now := a.now()
		at := d.At
		if b, ok := s.retry[d.IncidentID]; ok && b.at.After(at) {
			at = b.at
		}
		if at.After(now) {
			next = min(next, at.Sub(now))
			continue
		}
		err := s.syncIncident(ctx, d.IncidentID)
		var rl *slack.RateLimitedError
		switch {
		case err == nil:
			delete(s.retry, d.IncidentID)
		case errors.As(err, &rl):
			// Slack asked us to slow down: everything waits.
			a.log().Warn("slack rate limit", "incident", d.IncidentID, "retry_after", rl.RetryAfter)
			wait := max(rl.RetryAfter, time.Second)
			s.pausedUntil = a.now().Add(wait)
			return wait
		case errors.Is(err, errNotDue):
			delete(s.retry, d.IncidentID)
		default:
			b := s.retry[d.IncidentID]
			b.attempts++
			wait := min(time.Second<<min(b.attempts-1, 9), maxBackoff)
			b.at = now.Add(wait)
			s.retry[d.IncidentID] = b
			next = min(next, wait)
			a.log().Error("slack work failed; will retry", "incident", d.IncidentID, "attempt", b.attempts, "in", wait, "err", err)
		}
	}
	// Anything synced may have become dirty again meanwhile.
	return max(min(next, time.Minute), 10*time.Millisecond)
}

// errNotDue says an alert's first post is still in its group window.
var errNotDue = errors.New("not due")

// syncIncident brings one incident's messages up to date.
func (s *Syncer) syncIncident(ctx context.Context, id string) error {
	a := s.App
	var (
		inc *incident.Incident
		al  *incident.Alert
		v   AlertView
	)
	err := a.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		if inc, err = tx.Incident(id); err != nil {
			return err
		}
		if al, err = tx.Alert(id); err != nil || al == nil {
			return err
		}
		v, err = a.alertView(tx, inc, al)
		return err
	})
	if errors.Is(err, incident.ErrNotFound) || err == nil && al == nil {
		return a.update(ctx, func(tx *store.Tx) error { return tx.ClearDirty(id) })
	}
	if err != nil {
		return err
	}
	if al.TS == "" {
		if inc.Status == incident.StatusMerged {
			// Explained by a spray before anyone saw it: never post.
			return a.update(ctx, func(tx *store.Tx) error { return dropWork(tx, id) })
		}
		if a.now().Before(al.DueAt) {
			return errNotDue
		}
	}
	if err := s.syncAlert(ctx, al, v); err != nil {
		return err
	}
	if err := s.syncThread(ctx, al); err != nil {
		return err
	}
	if al.Reset != nil && (al.Reset.MessageTS == "" || al.PromptRev < al.Rev) {
		if err := s.syncPrompt(ctx, al, inc); err != nil {
			return err
		}
	}
	if al.SlackUser != "" {
		if err := s.syncDM(ctx, al, inc); err != nil {
			return err
		}
	}
	return a.update(ctx, func(tx *store.Tx) error {
		cur, err := tx.Alert(id)
		if err != nil || cur == nil {
			return err
		}
		q, err := tx.ThreadQueue(id)
		if err != nil {
			return err
		}
		if cur.Synced() && len(q) == 0 && !wantsReEnrol(cur) {
			return tx.ClearDirty(id)
		}
		return nil
	})
}

// dropWork forgets an unposted incident's Slack work.
func dropWork(tx *store.Tx, id string) error {
	q, err := tx.ThreadQueue(id)
	if err != nil {
		return err
	}
	for _, m := range q {
		if err := tx.DropThread(id, m.Seq); err != nil {
			return err
		}
	}
	return tx.ClearDirty(id)
}

// update runs fn in a store transaction.
func (a *App) update(ctx context.Context, fn func(*store.Tx) error) error {
	return a.Store.Update(ctx, fn)
}

// withAlert reloads the alert in a transaction and saves what fn changes.
// The syncer records what Slack did with a context that shutdown does not
// cancel: a message that was posted must be remembered, or it would be
// posted again after the restart.
func (a *App) withAlert(ctx context.Context, id string, fn func(*incident.Alert) error) error {
	return a.update(ctx, func(tx *store.Tx) error {
		cur, err := tx.Alert(id)
		if err != nil {
			return err
		}
		if cur == nil {
			return fmt.Errorf("alert %s: %w", id, incident.ErrNotFound)
		}
		if err := fn(cur); err != nil {
			return err
		}
		return tx.PutAlert(cur)
	})
}

// msgOptions turns a rendered message into Slack options.
func msgOptions(m Message) []slack.MsgOption { return m.Options() }

// syncAlert posts the alert or updates it to the current revision.
func (s *Syncer) syncAlert(ctx context.Context, al *incident.Alert, v AlertView) error {
	a := s.App
	rev := al.Rev
	if al.TS != "" && al.PostedRev >= rev {
		return nil
	}
	m := AlertMessage(v)
	if al.TS == "" {
		if ts, err := a.adopt(ctx, al, postAlert, a.Cfg.AlertChannel, ""); err != nil {
			return err
		} else if ts != "" {
			// Found; the update below brings it to the current state.
			al.Channel, al.TS = a.Cfg.AlertChannel, ts
			if err := a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
				cur.Channel, cur.TS = al.Channel, ts
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if al.TS == "" {
		if err := a.beginPost(ctx, al.IncidentID, postAlert); err != nil {
			return err
		}
		ch, ts, err := a.Slack.PostMessageContext(ctx, a.Cfg.AlertChannel, msgOptions(m)...)
		if err != nil {
			return fmt.Errorf("post alert: %w", err)
		}
		al.Channel, al.TS, al.PostedRev = ch, ts, rev
		return a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
			cur.Channel, cur.TS, cur.PostedRev = ch, ts, max(cur.PostedRev, rev)
			return nil
		})
	}
	if _, _, _, err := a.Slack.UpdateMessageContext(ctx, al.Channel, al.TS, msgOptions(m)...); err != nil {
		return fmt.Errorf("update alert: %w", err)
	}
	al.PostedRev = rev
	return a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
		cur.PostedRev = max(cur.PostedRev, rev)
		return nil
	})
}

// syncThread posts the queued thread lines in order.
func (s *Syncer) syncThread(ctx context.Context, al *incident.Alert) error {
	a := s.App
	var q []store.Queued
	if err := a.Store.View(ctx, func(tx *store.Tx) error {
		var err error
		q, err = tx.ThreadQueue(al.IncidentID)
		return err
	}); err != nil {
		return err
	}
	for _, m := range q {
		kind := "thread:" + strconv.FormatUint(m.Seq, 10)
		ts, err := a.find(ctx, al, kind, al.Channel, al.TS, func(x slack.Message) bool { return x.Text == m.Msg.Text })
		if err != nil {
			return err
		}
		if ts == "" {
			if err := a.beginPost(ctx, al.IncidentID, kind); err != nil {
				return err
			}
			if err := s.postThread(ctx, al, m.Msg); err != nil {
				return err
			}
		}
		if err := a.update(context.WithoutCancel(ctx), func(tx *store.Tx) error {
			if err := tx.DropThread(al.IncidentID, m.Seq); err != nil {
				return err
			}
			cur, err := tx.Alert(al.IncidentID)
			if err != nil || cur == nil {
				return err
			}
			delete(cur.Posting, kind)
			return tx.PutAlert(cur)
		}); err != nil {
			return err
		}
	}
	return nil
}

// postThread posts one queued message in the alert's thread.
func (s *Syncer) postThread(ctx context.Context, al *incident.Alert, m incident.ThreadMessage) error {
	opts := []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionTS(al.TS)}
	if len(m.Blocks) > 0 {
		var blocks slack.Blocks
		if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
			return fmt.Errorf("queued blocks of %s: %w", al.IncidentID, err)
		}
		opts = append(opts, slack.MsgOptionBlocks(blocks.BlockSet...))
	}
	if m.Broadcast {
		opts = append(opts, slack.MsgOptionBroadcast())
	}
	if _, _, err := s.App.Slack.PostMessageContext(ctx, al.Channel, opts...); err != nil {
		return fmt.Errorf("post thread line: %w", err)
	}
	return nil
}

// syncPrompt posts or updates the reset approval prompt in the thread.
func (s *Syncer) syncPrompt(ctx context.Context, al *incident.Alert, inc *incident.Incident) error {
	a := s.App
	rev := al.Rev
	m := ResetPrompt(*al.Reset, inc)
	if al.Reset.MessageTS == "" {
		ts, err := a.adopt(ctx, al, postPrompt, al.Channel, al.TS)
		if err != nil {
			return err
		}
		if ts != "" {
			al.Reset.MessageTS = ts
			if err := a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
				if cur.Reset != nil {
					cur.Reset.MessageTS = ts
				}
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if al.Reset.MessageTS == "" {
		if err := a.beginPost(ctx, al.IncidentID, postPrompt); err != nil {
			return err
		}
		opts := append(msgOptions(m), slack.MsgOptionTS(al.TS))
		_, ts, err := a.Slack.PostMessageContext(ctx, al.Channel, opts...)
		if err != nil {
			return fmt.Errorf("post reset prompt: %w", err)
		}
		return a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
			if cur.Reset != nil {
				cur.Reset.MessageTS = ts
			}
			cur.PromptRev = max(cur.PromptRev, rev)
			return nil
		})
	}
	if _, _, _, err := a.Slack.UpdateMessageContext(ctx, al.Channel, al.Reset.MessageTS, msgOptions(m)...); err != nil {
		return fmt.Errorf("update reset prompt: %w", err)
	}
	return a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
		cur.PromptRev = max(cur.PromptRev, rev)
		return nil
	})
}

// wantsReEnrol reports whether the user still has to be told to enrol a new
// device: after mfabot deactivated it, or after an approval that left the
// deactivation to an admin.
func wantsReEnrol(al *incident.Alert) bool {
	if al.Reset == nil || al.SlackUser == "" || al.ReEnrolSent {
		return false
	}
	r := al.Reset
	return r.Status == incident.ResetCompleted || r.Status == incident.ResetApproved && r.Command != ""
}

// syncDM opens the DM, posts or updates the guidance, and sends the
// re-enrolment note after a reset.
func (s *Syncer) syncDM(ctx context.Context, al *incident.Alert, inc *incident.Incident) error {
	a := s.App
	rev := al.Rev
	if al.DMChannel == "" {
		ch, _, _, err := a.Slack.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{al.SlackUser}})
		if err != nil {
			return fmt.Errorf("open DM: %w", err)
		}
		al.DMChannel = ch.ID
		if err := a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
			cur.DMChannel = ch.ID
			return nil
		}); err != nil {
			return err
		}
	}
	if al.DMTS == "" {
		ts, err := a.adopt(ctx, al, postDM, al.DMChannel, "")
		if err != nil {
			return err
		}
		if ts != "" {
			al.DMTS = ts
			if err := a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
				cur.DMTS = ts
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if al.DMTS == "" || al.DMRev < rev {
		m := UserDM(inc, al.Answer)
		if al.DMTS == "" {
			if err := a.beginPost(ctx, al.IncidentID, postDM); err != nil {
				return err
			}
			_, ts, err := a.Slack.PostMessageContext(ctx, al.DMChannel, msgOptions(m)...)
			if err != nil {
				return fmt.Errorf("post DM: %w", err)
			}
			if err := a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
				cur.DMTS, cur.DMRev = ts, max(cur.DMRev, rev)
				return nil
			}); err != nil {
				return err
			}
		} else {
			if _, _, _, err := a.Slack.UpdateMessageContext(ctx, al.DMChannel, al.DMTS, msgOptions(m)...); err != nil {
				return fmt.Errorf("update DM: %w", err)
			}
			if err := a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
				cur.DMRev = max(cur.DMRev, rev)
				return nil
			}); err != nil {
				return err
			}
		}
	}
	if wantsReEnrol(al) {
		m := ReEnrolDM(inc, al.Reset.Devices, al.Reset.Command)
		if _, _, err := a.Slack.PostMessageContext(ctx, al.DMChannel, msgOptions(m)...); err != nil {
			return fmt.Errorf("post re-enrolment DM: %w", err)
		}
		return a.withAlert(context.WithoutCancel(ctx), al.IncidentID, func(cur *incident.Alert) error {
			cur.ReEnrolSent = true
			return nil
		})
	}
	return nil
}

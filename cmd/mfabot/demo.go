package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// demoScenarios are the simulated incidents the demo walks through.
var demoScenarios = []string{"clock-drift", "wrong-code", "brute-force", "password-spray"}

func cmdDemo(ctx context.Context, args []string, s streams) error {
	fs := newFlagSet("demo", s)
	verbose := fs.Bool("v", false, "show the bot's own log too")
	fs.Usage = func() {
		fmt.Fprintln(s.stderr, "usage: mfabot demo [-v]")
		fmt.Fprintln(s.stderr, "\nRuns the real bot against a local Slack and local AWS (the fakes the tests use), feeds it")
		fmt.Fprintln(s.stderr, "simulated CloudTrail sign-in failures through SQS, presses every button as the people of a")
		fmt.Fprintln(s.stderr, "small workspace would, and prints what each of them sees. Nothing leaves this machine.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "mfabot-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	w, err := newLocalWorld(dir, demoScenarios, time.Now().Add(-5*time.Hour).Truncate(time.Hour))
	if err != nil {
		return err
	}
	defer w.close()

	logOut := io.Discard
	if *verbose {
		logOut = s.stderr
	}
	log := slog.New(slog.NewTextHandler(logOut, nil))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ready := make(chan *handlers.App, 1)
	served := make(chan error, 1)
	go func() { served <- serve(ctx, w.cfg, w.out, log, func(a *handlers.App) { ready <- a }) }()
	var app *handlers.App
	select {
	case app = <-ready:
	case err := <-served:
		return fmt.Errorf("bot did not start: %w", err)
	}
	d := &driver{w: w, st: app.Store, timeout: 30 * time.Second}
	t := &transcript{w: s.stdout, names: w.names()}
	err = walkThrough(ctx, d, t)
	cancel()
	if serr := <-served; serr != nil && !errors.Is(serr, context.Canceled) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(s.stdout, "\nEverything above went through the real Slack and AWS clients, Socket Mode and bbolt;\n"+
		"only the far ends were local fakes. Run `mfabot demo -v` to see the bot's log as well.\n")
	return nil
}

// names maps the workspace's Slack IDs to names for the transcript.
func (w *localWorld) names() map[string]string {
	n := map[string]string{localResponder: "sam (responder)", localApprover: "ana (approver)",
		localApprover2: "lee (approver)", localOutsider: "max (not a responder)"}
	for user, id := range w.affected {
		n[id] = user
	}
	return n
}

// walkThrough is the demo's script.
func walkThrough(ctx context.Context, d *driver, t *transcript) error {
	w := d.w
	drift, wrong, brute := w.failing[0], w.failing[1], w.failing[2]

	t.heading("EventBridge delivers %d CloudTrail sign-in events to SQS (scenarios: %s)", len(w.bodies), strings.Join(demoScenarios, ", "))
	w.sendAll()
	a, err := d.alert(ctx, drift, forUser(drift))
	if err != nil {
		return err
	}
	spray, err := d.alert(ctx, "the password spray", isSpray)
	if err != nil {
		return err
	}
	t.note("Alerts are held %s so that related failures land in one message, then posted once and kept current.", w.cfg.Slack.GroupWait)
	t.heading("The alert for %s in #sec-mfa-alerts", drift)
	t.message("mfabot", mustMessage(w, a.al.TS))
	t.heading("The password spray needs no DM and no reset; its alert says what to do instead")
	t.message("mfabot", mustMessage(w, spray.al.TS))

	t.heading("max, who is not on the rotation, clicks Investigate")
	before := len(w.slack.Ephemerals())
	if err := d.click(ctx, localOutsider, localChannel, a.al.TS, handlers.ActionInvestigate, a.inc.ID); err != nil {
		return err
	}
	e, err := d.ephemeralFor(ctx, localOutsider, before)
	if err != nil {
		return err
	}
	t.note("only max sees: %s", t.clean(e.Text))

	t.heading("sam (responder) clicks Investigate: Logs Insights and IAM, reported in the thread")
	n := d.threadLen(a)
	if err := d.click(ctx, localResponder, localChannel, a.al.TS, handlers.ActionInvestigate, a.inc.ID); err != nil {
		return err
	}
	msgs, err := d.threadSince(ctx, a, n, "the investigation report", func(m []slackfake.Message) bool { return len(m) >= 2 })
	if err != nil {
		return err
	}
	printAll(t, msgs)

	t.heading("sam clicks Notify user: %s gets a DM", drift)
	if err := d.click(ctx, localResponder, localChannel, a.al.TS, handlers.ActionNotifyUser, a.inc.ID); err != nil {
		return err
	}
	dm, err := d.dm(ctx, w.affected[drift], 1)
	if err != nil {
		return err
	}
	t.message("mfabot → "+drift+" (DM)", dm[0])

	t.heading("%s answers \"Still failing\": a reset request opens, waiting for an approver", drift)
	a = d.refresh(ctx, a)
	n = d.threadLen(a)
	if err := d.click(ctx, w.affected[drift], a.al.DMChannel, a.al.DMTS, handlers.ActionUserStillFailing, a.inc.ID); err != nil {
		return err
	}
	msgs, err = d.threadSince(ctx, a, n, "the reset prompt", func(m []slackfake.Message) bool { return hasButton(m, handlers.ActionApproveReset) })
	if err != nil {
		return err
	}
	printAll(t, msgs)

	if a, err = d.until(ctx, "the prompt's place", a, promptPosted); err != nil {
		return err
	}
	t.heading("sam clicks Approve, but only approvers may decide")
	before = len(w.slack.Ephemerals())
	if err := d.click(ctx, localResponder, localChannel, a.al.Reset.MessageTS, handlers.ActionApproveReset, a.inc.ID); err != nil {
		return err
	}
	if e, err = d.ephemeralFor(ctx, localResponder, before); err != nil {
		return err
	}
	t.note("only sam sees: %s", t.clean(e.Text))

	t.heading("ana (approver) verifies %s on a video call, then approves", drift)
	n = d.threadLen(a)
	if err := d.click(ctx, localApprover, localChannel, a.al.Reset.MessageTS, handlers.ActionApproveReset, a.inc.ID); err != nil {
		return err
	}
	t.note("a modal asks ana how identity was verified")
	if err := d.submit(ctx, localApprover, handlers.CallbackApproveReset, map[string]map[string]string{
		handlers.BlockVerification: {handlers.ActionVerification: "Video call with camera on"},
		handlers.BlockNote:         {handlers.ActionNote: "Confirmed face and employee ID on camera."},
	}); err != nil {
		return err
	}
	msgs, err = d.threadSince(ctx, a, n, "the deactivation", func(m []slackfake.Message) bool { return containsText(m, "deactivated") })
	if err != nil {
		return err
	}
	printAll(t, msgs)
	t.note("IAM now lists %d MFA device(s) for %s (DeactivateMFADevice was called)", len(w.iam.Devices(drift)), drift)
	dm, err = d.dm(ctx, w.affected[drift], 2)
	if err != nil {
		return err
	}
	t.message("mfabot → "+drift+" (DM)", dm[len(dm)-1])

	t.heading("sam resolves the incident; the alert shows the outcome and the resolution time")
	if err := d.click(ctx, localResponder, localChannel, a.al.TS, handlers.ActionResolve, a.inc.ID); err != nil {
		return err
	}
	if err := d.wait(ctx, "the resolved alert", func() bool {
		p := d.refresh(ctx, a)
		return p.inc.Status == incident.StatusResolved && p.al.PostedRev >= p.al.Rev
	}); err != nil {
		return err
	}
	t.message("mfabot (updated in place)", mustMessage(w, a.al.TS))

	if err := otherAnswers(ctx, d, t, wrong, brute); err != nil {
		return err
	}

	t.heading("The whole thread of %s's alert: the incident's timeline", drift)
	printAll(t, replies(w.slack.Thread(localChannel, a.al.TS), a.al.TS))
	return nil
}

// otherAnswers shows the remaining buttons: "I'm in now", a denied reset,
// and "This wasn't me".
func otherAnswers(ctx context.Context, d *driver, t *transcript, wrong, brute string) error {
	w := d.w
	b, err := d.alert(ctx, wrong, forUser(wrong))
	if err != nil {
		return err
	}
	t.heading("%s mistyped a code and got in 40 s later; sam notifies them anyway, and they answer \"I'm in now\"", wrong)
	if err := d.click(ctx, localResponder, localChannel, b.al.TS, handlers.ActionNotifyUser, b.inc.ID); err != nil {
		return err
	}
	if _, err := d.dm(ctx, w.affected[wrong], 1); err != nil {
		return err
	}
	b = d.refresh(ctx, b)
	if err := d.click(ctx, w.affected[wrong], b.al.DMChannel, b.al.DMTS, handlers.ActionUserRecovered, b.inc.ID); err != nil {
		return err
	}
	if err := d.wait(ctx, "the answer on the alert", func() bool { return d.refresh(ctx, b).al.Answer == incident.AnswerRecovered }); err != nil {
		return err
	}
	t.note("the DM and the alert now say %s is back in", wrong)

	t.heading("sam requests a reset for %s anyway; lee (approver) denies it with a reason", wrong)
	n := d.threadLen(b)
	if err := d.click(ctx, localResponder, localChannel, b.al.TS, handlers.ActionRequestReset, b.inc.ID); err != nil {
		return err
	}
	if _, err := d.threadSince(ctx, b, n, "the reset prompt", func(m []slackfake.Message) bool { return hasButton(m, handlers.ActionDenyReset) }); err != nil {
		return err
	}
	if b, err = d.until(ctx, "the prompt's place", b, promptPosted); err != nil {
		return err
	}
	if err := d.click(ctx, localApprover2, localChannel, b.al.Reset.MessageTS, handlers.ActionDenyReset, b.inc.ID); err != nil {
		return err
	}
	if err := d.submit(ctx, localApprover2, handlers.CallbackDenyReset, map[string]map[string]string{
		handlers.BlockDenyReason: {handlers.ActionDenyReason: "They are signed in again; no reset needed."},
	}); err != nil {
		return err
	}
	if err := d.wait(ctx, "the denial", func() bool {
		p := d.refresh(ctx, b)
		return p.al.Reset.Status == incident.ResetDenied && p.al.PromptRev >= p.al.Rev
	}); err != nil {
		return err
	}
	b = d.refresh(ctx, b)
	t.message("mfabot (the prompt, updated)", mustMessage(w, b.al.Reset.MessageTS))

	c, err := d.alert(ctx, brute, forUser(brute))
	if err != nil {
		return err
	}
	t.heading("%s's account is under brute force; sam notifies them and they answer \"This wasn't me\"", brute)
	if err := d.click(ctx, localResponder, localChannel, c.al.TS, handlers.ActionNotifyUser, c.inc.ID); err != nil {
		return err
	}
	if _, err := d.dm(ctx, w.affected[brute], 1); err != nil {
		return err
	}
	c = d.refresh(ctx, c)
	n = d.threadLen(c)
	if err := d.click(ctx, w.affected[brute], c.al.DMChannel, c.al.DMTS, handlers.ActionUserNotMe, c.inc.ID); err != nil {
		return err
	}
	msgs, err := d.threadSince(ctx, c, n, "the escalation", func(m []slackfake.Message) bool { return containsText(m, "<!here>") })
	if err != nil {
		return err
	}
	printAll(t, msgs)
	t.heading("sam then clicks Request reset on %s: refused, since it may be a compromise", brute)
	before := len(w.slack.Ephemerals())
	if err := d.click(ctx, localResponder, localChannel, c.al.TS, handlers.ActionRequestReset, c.inc.ID); err != nil {
		return err
	}
	e, err := d.ephemeralFor(ctx, localResponder, before)
	if err != nil {
		return err
	}
	t.note("only sam sees: %s", t.clean(e.Text))
	return nil
}

// dm waits until user has at least n DMs from the bot, and the store knows
// where the first one is, and returns them.
func (d *driver) dm(ctx context.Context, user string, n int) ([]slackfake.Message, error) {
	var out []slackfake.Message
	err := d.wait(ctx, fmt.Sprintf("DM %d to %s", n, user), func() bool {
		out = d.w.slack.DMs(user)
		if len(out) < n {
			return false
		}
		return d.dmRecorded(ctx, user)
	})
	return out, err
}

// dmRecorded reports whether some alert records a DM to user.
func (d *driver) dmRecorded(ctx context.Context, user string) bool {
	found := false
	_ = d.st.View(ctx, func(tx *store.Tx) error {
		als, err := tx.Alerts()
		for _, al := range als {
			if al.SlackUser == user && al.DMTS != "" {
				found = true
			}
		}
		return err
	})
	return found
}

func mustMessage(w *localWorld, ts string) slackfake.Message {
	m, _ := w.slack.Message(localChannel, ts)
	return m
}

func printAll(t *transcript, msgs []slackfake.Message) {
	for _, m := range msgs {
		t.message("mfabot (thread)", m)
	}
}

func hasButton(msgs []slackfake.Message, action string) bool {
	for _, m := range msgs {
		if strings.Contains(string(m.Blocks), `"action_id":"`+action+`"`) {
			return true
		}
	}
	return false
}

func containsText(msgs []slackfake.Message, s string) bool {
	for _, m := range msgs {
		if strings.Contains(m.Text, s) || strings.Contains(string(m.Blocks), s) {
			return true
		}
	}
	return false
}

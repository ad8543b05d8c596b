package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// syncBuffer is a log sink safe for the bot's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tail returns the last n bytes of the log.
func (s *syncBuffer) tail(n int) string {
	out := s.String()
	if len(out) > n {
		out = "…" + out[len(out)-n:]
	}
	return out
}

// running is a bot served in the background on a local world.
type running struct {
	app  *handlers.App
	stop func() error
}

func start(t *testing.T, w *localWorld, logs *syncBuffer) running {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *handlers.App, 1)
	done := make(chan error, 1)
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { done <- serve(ctx, w.cfg, w.out, log, func(a *handlers.App) { ready <- a }) }()
	select {
	case app := <-ready:
		return running{app, func() error { cancel(); return <-done }}
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return running{}
}

// topLevel lists the channel's messages that are not thread replies.
func topLevel(w *localWorld) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.slack.Messages(localChannel) {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			out = append(out, m)
		}
	}
	return out
}

func TestEndToEnd(t *testing.T) {
	ctx := context.Background()
	w, err := newLocalWorld(t.TempDir(), []string{"clock-drift"}, time.Now().Add(-2*time.Hour).Truncate(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	w.cfg.Slack.GroupWait = 500 * time.Millisecond
	logs := &syncBuffer{}
	bot := start(t, w, logs)
	d := &driver{w: w, st: bot.app.Store, timeout: 20 * time.Second}
	user := w.failing[0]
	affected := w.affected[user]

	// An event on SQS becomes one alert with the four buttons.
	w.sendAll()
	a, err := d.alert(ctx, user, forUser(user))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.wait(ctx, "the queue to drain", func() bool { return len(w.sqs.Deleted()) == len(w.bodies) }); err != nil {
		t.Fatal(err)
	}
	if n := len(topLevel(w)); n != 1 {
		t.Fatalf("alerts in the channel: got %d, want 1", n)
	}
	alert := mustMessage(w, a.al.TS)
	for _, action := range []string{handlers.ActionInvestigate, handlers.ActionNotifyUser, handlers.ActionRequestReset, handlers.ActionResolve} {
		if !strings.Contains(string(alert.Blocks), `"action_id":"`+action+`"`) || !strings.Contains(string(alert.Blocks), `"value":"`+a.inc.ID+`"`) {
			t.Fatalf("alert lacks the %s button for %s:\n%s", action, a.inc.ID, alert.Blocks)
		}
	}
	if a.inc.Failures != 4 || a.inc.Classification != incident.RepeatedFailures {
		t.Fatalf("incident: got %d failures, %s; want 4, repeated_failures", a.inc.Failures, a.inc.Classification)
	}

	// Every channel button, pressed by someone not on the rotation: an
	// ephemeral no, an audit entry, and nothing else.
	for _, action := range []string{handlers.ActionInvestigate, handlers.ActionNotifyUser, handlers.ActionRequestReset, handlers.ActionResolve} {
		before := len(w.slack.Ephemerals())
		if err := d.click(ctx, localOutsider, localChannel, a.al.TS, action, a.inc.ID); err != nil {
			t.Fatal(err)
		}
		e, err := d.ephemeralFor(ctx, localOutsider, before)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.Text, "Only responders") {
			t.Errorf("%s by an outsider: answer %q", action, e.Text)
		}
	}
	// A forged value naming another incident, and a click from the wrong
	// message, are refused too.
	for _, c := range []struct{ ts, value, want string }{
		{a.al.TS, "INC-999", "There is no incident INC-999"},
		{a.al.TS, "INC-1; drop", "does not name an incident"},
	} {
		before := len(w.slack.Ephemerals())
		if err := d.click(ctx, localResponder, localChannel, c.ts, handlers.ActionResolve, c.value); err != nil {
			t.Fatal(err)
		}
		e, err := d.ephemeralFor(ctx, localResponder, before)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.Text, c.want) {
			t.Errorf("forged click %q: answer %q, want %q", c.value, e.Text, c.want)
		}
	}
	refused := countAudit(t, bot.app.Store, "refused")
	if refused != 6 {
		t.Errorf("refused clicks audited: got %d, want 6", refused)
	}
	if p := d.refresh(ctx, a); p.inc.Status != incident.StatusOpen || p.al.SlackUser != "" || p.al.Reset != nil {
		t.Fatalf("refused clicks changed state: %+v %+v", p.inc.Status, p.al)
	}

	// Investigate: Logs Insights and IAM, reported in the thread.
	n := d.threadLen(a)
	if err := d.click(ctx, localResponder, localChannel, a.al.TS, handlers.ActionInvestigate, a.inc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.threadSince(ctx, a, n, "the investigation", func(m []slackfake.Message) bool { return containsText(m, "Investigation") }); err != nil {
		t.Fatal(err)
	}
	if q := w.logs.Queries(); len(q) != 2 || q[0].LogGroupName != localLogGroup {
		t.Errorf("Logs Insights queries: got %d, want 2 on %s", len(q), localLogGroup)
	}
	if c := w.iam.CallsTo("ListMFADevices"); len(c) == 0 {
		t.Error("investigation did not list the MFA devices")
	}

	// Notify user: the DM, whose buttons only the affected person may use.
	if err := d.click(ctx, localResponder, localChannel, a.al.TS, handlers.ActionNotifyUser, a.inc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.dm(ctx, affected, 1); err != nil {
		t.Fatal(err)
	}
	a = d.refresh(ctx, a)
	// Slack lets no one else click in the person's DM; a payload forged
	// to look like one is refused all the same.
	bot.app.HandleClick(ctx, handlers.Click{User: localResponder, Channel: a.al.DMChannel, MessageTS: a.al.DMTS,
		ActionID: handlers.ActionUserStillFailing, Value: a.inc.ID})
	if got := countAudit(t, bot.app.Store, "refused"); got != refused+1 {
		t.Fatalf("forged DM answer: %d refusals audited, want %d", got, refused+1)
	}
	if p := d.refresh(ctx, a); p.al.Answer != incident.AnswerAwaitingReply || p.al.Reset != nil {
		t.Fatalf("forged DM answer changed state: %+v", p.al)
	}
	if err := d.click(ctx, affected, a.al.DMChannel, a.al.DMTS, handlers.ActionUserStillFailing, a.inc.ID); err != nil {
		t.Fatal(err)
	}
	if a, err = d.until(ctx, "the reset prompt", a, promptPosted); err != nil {
		t.Fatal(err)
	}

	// The reset: the requester and non-approvers may not approve; an
	// approver may, after saying how identity was verified.
	for _, who := range []string{affected, localResponder} {
		before := len(w.slack.Ephemerals())
		if who == affected {
			// The requester is not in the channel: Slack would not
			// deliver the click, so it is handed to the bot directly.
			bot.app.HandleClick(ctx, handlers.Click{User: who, Channel: localChannel, MessageTS: a.al.Reset.MessageTS,
				ActionID: handlers.ActionApproveReset, Value: a.inc.ID})
			continue
		}
		if err := d.click(ctx, who, localChannel, a.al.Reset.MessageTS, handlers.ActionApproveReset, a.inc.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ephemeralFor(ctx, who, before); err != nil {
			t.Fatal(err)
		}
	}
	if len(w.iam.CallsTo("DeactivateMFADevice")) != 0 {
		t.Fatal("MFA was deactivated without an approval")
	}
	if err := d.click(ctx, localApprover, localChannel, a.al.Reset.MessageTS, handlers.ActionApproveReset, a.inc.ID); err != nil {
		t.Fatal(err)
	}
	if err := d.submit(ctx, localApprover, handlers.CallbackApproveReset, map[string]map[string]string{
		handlers.BlockVerification: {handlers.ActionVerification: "In person"},
	}); err != nil {
		t.Fatal(err)
	}
	if a, err = d.until(ctx, "the completed reset", a, func(p posted) bool { return p.al.Reset.Status == incident.ResetCompleted }); err != nil {
		t.Fatal(err)
	}
	if got := len(w.iam.Devices(user)); got != 0 {
		t.Errorf("MFA devices after the reset: got %d, want 0", got)
	}
	if c := w.iam.CallsTo("DeactivateMFADevice"); len(c) != 1 {
		t.Errorf("DeactivateMFADevice calls: got %d, want 1", len(c))
	}
	if a.al.Reset.DecidedBy != localApprover || a.al.Reset.RequestedBy != affected || a.al.Reset.Verification != "In person" {
		t.Errorf("reset record: %+v", a.al.Reset)
	}
	if _, err := d.dm(ctx, affected, 2); err != nil {
		t.Fatal(err)
	}

	// A responder's reply in the thread becomes a note on the timeline;
	// /mfa answers responders only.
	if _, err := w.slack.PostUserMessage(ctx, localResponder, localChannel, a.al.TS, "Called the user; phone clock was 4 minutes off."); err != nil {
		t.Fatal(err)
	}
	if err := d.wait(ctx, "the note", func() bool { return countAudit(t, bot.app.Store, "thread reply") == 1 }); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, want string }{
		{localResponder, a.inc.ID},
		{localOutsider, "Only responders"},
	} {
		before := len(w.slack.Ephemerals())
		env, err := w.slack.SlashCommand(ctx, c.user, localChannel, "/mfa", "list")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.slack.WaitAck(ctx, env); err != nil {
			t.Fatal(err)
		}
		e, err := d.ephemeralFor(ctx, c.user, before)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(e.Text+string(e.Blocks), c.want) {
			t.Errorf("/mfa list by %s: %q, want it to mention %q", c.user, e.Text, c.want)
		}
	}

	// Restart on the same store; the same events arrive again.
	if err := bot.stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}
	bot = start(t, w, logs)
	d.st = bot.app.Store
	w.sendAll()
	if err := d.wait(ctx, "the queue to drain again", func() bool { return len(w.sqs.Deleted()) == 2*len(w.bodies) }); err != nil {
		t.Fatal(err)
	}
	if n := len(topLevel(w)); n != 1 {
		t.Fatalf("alerts after the restart and redelivery: got %d, want 1", n)
	}
	if p := d.refresh(ctx, a); p.inc.Failures != 4 {
		t.Fatalf("failures after redelivery: got %d, want 4", p.inc.Failures)
	}

	// The buttons of the old message still work.
	edits := mustMessage(w, a.al.TS).EditCount
	if err := d.click(ctx, localResponder, localChannel, a.al.TS, handlers.ActionResolve, a.inc.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.until(ctx, "the resolution", a, func(p posted) bool {
		return p.inc.Status == incident.StatusResolved && p.al.PostedRev == p.al.Rev
	}); err != nil {
		t.Fatal(err)
	}
	if got := mustMessage(w, a.al.TS); got.EditCount <= edits || !strings.Contains(got.Text+string(got.Blocks), "esolved") {
		t.Errorf("alert after resolve: %d edits (was %d): %s", got.EditCount, edits, got.Text)
	}
	// The resolved alert has no buttons left; forged clicks on it are
	// refused, audited, and change nothing.
	refusedBefore := countAudit(t, bot.app.Store, "refused")
	for _, action := range []string{handlers.ActionInvestigate, handlers.ActionResolve, handlers.ActionRequestReset} {
		bot.app.HandleClick(ctx, handlers.Click{User: localResponder, Channel: localChannel, MessageTS: a.al.TS, ActionID: action, Value: a.inc.ID})
	}
	if got := countAudit(t, bot.app.Store, "refused"); got != refusedBefore+3 {
		t.Errorf("clicks on a resolved incident: %d refusals audited, want %d", got, refusedBefore+3)
	}
	if err := bot.stop(); err != nil && !errors.Is(err, context.Canceled) {
		t.Fatalf("stop: %v", err)
	}

	// No token in a log line or a Slack message.
	for _, secret := range []string{w.out.botToken, w.out.appToken, "secret"} {
		if strings.Contains(w.slack.AllRecordedText(), secret) {
			t.Errorf("a Slack message contains %q", secret)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log contains %q", secret)
		}
	}
	st, err := store.Open(w.cfg.Store.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Check(); err != nil {
		t.Fatalf("store check: %v", err)
	}
	if _, err := st.VerifyAudit(ctx); err != nil {
		t.Fatalf("audit: %v", err)
	}
}

func countAudit(t *testing.T, st *store.Store, outcome string) int {
	t.Helper()
	n := 0
	err := st.View(context.Background(), func(tx *store.Tx) error {
		es, err := tx.AuditEntries("")
		for _, e := range es {
			if e.Outcome == outcome {
				n++
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDemo runs README's first command and checks that every step of the
// walk-through happened.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about 20 seconds")
	}
	code, out, errOut := runCmd(t, "", "demo")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	for _, want := range []string{"Only responders can do that", "Investigation", "Wait for a fresh code", "Only approvers can decide",
		"MFA deactivated", "IAM now lists 0 MFA device(s)", "Resolved by", "Denied by", "<!here>", "do not reset MFA"} {
		if !strings.Contains(out, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
}

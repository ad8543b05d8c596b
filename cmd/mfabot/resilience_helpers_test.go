package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/store"
)

// This file holds the helpers of resilience_test.go. They are written for
// that file alone (rather than reusing e2e_test.go's) so that the two can
// change independently.

// resLog is the bot's log, kept for the tail shown when a test fails.
type resLog = syncBuffer

// newResWorld starts a local world (Slack and AWS fakes) for the
// scenarios, closed when the test ends. When tune is set, the Slack fake is
// replaced by one with the same workspace and the options tune sets (ping
// interval, rate limit).
func newResWorld(t *testing.T, scenarios []string, tune func(*slackfake.Options)) (*localWorld, *resLog) {
	t.Helper()
	w, err := newLocalWorld(t.TempDir(), scenarios, time.Now().Add(-8*time.Hour).Truncate(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.close)
	if tune != nil {
		opts := w.slackOptions()
		tune(&opts)
		w.slack.Close()
		w.slack = slackfake.New(opts)
		w.out.appToken, w.out.botToken, w.out.slackAPIURL = w.slack.AppToken(), w.slack.BotToken(), w.slack.APIURL()
	}
	w.cfg.Slack.GroupWait = 300 * time.Millisecond
	logs := &resLog{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("bot log (tail):\n%s", logs.tail(12000))
		}
	})
	return w, logs
}

// prodAWS is the AWS configuration `mfabot run` builds
// (config.LoadDefaultConfig: the SDK's standard retryer, three attempts),
// with the fakes' static credentials and no shared files.
func prodAWS(t *testing.T) aws.Config {
	t.Helper()
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(),
		awsconfig.WithRegion(awsfake.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider(awsfake.AccessKeyID, awsfake.SecretAccessKey, "")),
		awsconfig.WithSharedConfigFiles([]string{}), awsconfig.WithSharedCredentialsFiles([]string{}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// resBot is the real bot served in-process on a local world.
type resBot struct {
	app    *handlers.App
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

// startBot serves the bot on w until the test ends or stop is called.
func startBot(t *testing.T, w *localWorld, logs *resLog) *resBot {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan *handlers.App, 1)
	b := &resBot{cancel: cancel, done: make(chan error, 1)}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { b.done <- serve(ctx, w.cfg, w.out, log, func(a *handlers.App) { ready <- a }) }()
	select {
	case b.app = <-ready:
	case err := <-b.done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(20 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	t.Cleanup(func() { b.stop(t) })
	return b
}

// stop ends serve and checks that it returned cleanly and in time.
func (b *resBot) stop(t *testing.T) {
	t.Helper()
	b.once.Do(func() {
		b.cancel()
		select {
		case err := <-b.done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("serve returned %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not return within 30 s of being stopped")
		}
	})
}

// running reports whether serve is still running.
func (b *resBot) running() bool {
	select {
	case err := <-b.done:
		b.done <- err
		return false
	default:
		return true
	}
}

// bodiesFor returns the simulated SQS bodies about an IAM user, in order.
func bodiesFor(t *testing.T, w *localWorld, user string) []string {
	t.Helper()
	var out []string
	for _, b := range w.bodies {
		var ev struct {
			Detail struct {
				UserIdentity struct {
					UserName string `json:"userName"`
				} `json:"userIdentity"`
			} `json:"detail"`
		}
		if err := json.Unmarshal([]byte(b), &ev); err != nil {
			t.Fatalf("simulated body: %v", err)
		}
		if ev.Detail.UserIdentity.UserName == user {
			out = append(out, b)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no simulated event for %s", user)
	}
	return out
}

func sendBodies(w *localWorld, bodies []string) {
	for _, b := range bodies {
		w.sqs.Send(b)
	}
}

// mustWait fails the test unless cond holds within d's timeout.
func mustWait(t *testing.T, d *driver, what string, cond func() bool) {
	t.Helper()
	if err := d.wait(context.Background(), what, cond); err != nil {
		t.Fatal(err)
	}
}

// mustAlert waits for the alert of the user's incident.
func mustAlert(t *testing.T, d *driver, user string) posted {
	t.Helper()
	p, err := d.alert(context.Background(), user, forUser(user))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustClick clicks and waits for the bot's ack.
func mustClick(t *testing.T, d *driver, user, channel, ts, action, value string) {
	t.Helper()
	if err := d.click(context.Background(), user, channel, ts, action, value); err != nil {
		t.Fatal(err)
	}
}

// incidentOf returns the user's latest incident in the store, alerted or not.
func incidentOf(st *store.Store, user string) *incident.Incident {
	var found *incident.Incident
	_ = st.View(context.Background(), func(tx *store.Tx) error {
		incs, err := tx.Incidents()
		for _, inc := range incs {
			if forUser(user)(inc) {
				found = inc
			}
		}
		return err
	})
	return found
}

// settled reports whether the store has no Slack work left: nothing dirty,
// no queued thread line, every alert posted and showing its last revision.
func settled(st *store.Store) bool {
	ok := true
	err := st.View(context.Background(), func(tx *store.Tx) error {
		due, err := tx.Dirty()
		if err != nil {
			return err
		}
		if len(due) > 0 {
			ok = false
			return nil
		}
		als, err := tx.Alerts()
		if err != nil {
			return err
		}
		for _, al := range als {
			q, err := tx.ThreadQueue(al.IncidentID)
			if err != nil {
				return err
			}
			if len(q) > 0 || !al.Synced() {
				ok = false
			}
		}
		return nil
	})
	return ok && err == nil
}

// auditOf returns the incident's audit entries in log order.
func auditOf(t *testing.T, st *store.Store, id string) []store.AuditEntry {
	t.Helper()
	var out []store.AuditEntry
	if err := st.View(context.Background(), func(tx *store.Tx) error {
		var err error
		out, err = tx.AuditEntries(id)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// checkThreadOrder compares the replies in an alert's thread with the
// incident's audit log: every timeline entry and every investigation report
// must be in the thread exactly once, in the order the audit log recorded
// them. The reset prompt, which is a message of its own kept up to date, is
// left out.
func checkThreadOrder(t *testing.T, w *localWorld, st *store.Store, p posted) {
	t.Helper()
	type line struct {
		exact, prefix string
	}
	var want []line
	for _, e := range auditOf(t, st, p.inc.ID) {
		switch {
		case e.Action == "detected", e.Outcome == "refused":
			// Not in the thread.
		case e.Action == "investigate" && e.Outcome != "started":
			want = append(want, line{prefix: "Investigation of " + p.inc.ID + " "})
		default:
			want = append(want, line{exact: handlers.TimelineLine(incident.Entry{Time: e.Time, Actor: e.Actor,
				Action: e.Action, Outcome: e.Outcome, Detail: e.Detail})})
		}
	}
	var got []string
	for _, m := range replies(w.slack.Thread(localChannel, p.al.TS), p.al.TS) {
		if p.al.Reset != nil && m.TS == p.al.Reset.MessageTS {
			continue
		}
		got = append(got, m.Text)
	}
	match := len(got) == len(want)
	for i := 0; match && i < len(want); i++ {
		if want[i].exact != "" {
			match = got[i] == want[i].exact
		} else {
			match = strings.HasPrefix(got[i], want[i].prefix)
		}
	}
	if !match {
		var b strings.Builder
		for _, l := range want {
			fmt.Fprintf(&b, "  want %q%q\n", l.exact, l.prefix)
		}
		for _, g := range got {
			fmt.Fprintf(&b, "  got  %q\n", g)
		}
		t.Errorf("thread of %s does not match its audit log (%d lines wanted, %d posted):\n%s", p.inc.ID, len(want), len(got), b.String())
	}
}

// writeMethod reports whether a Web API method is one of the writes the
// syncer makes (reads such as conversations.history are left out).
func writeMethod(m string) bool {
	return strings.HasPrefix(m, "chat.") || m == "conversations.open"
}

// retryAfterViolations lists the chat.* and conversations.open calls that
// reached Slack after a 429 and before its Retry-After (retryAfter) had
// passed.
func retryAfterViolations(calls []slackfake.Call, retryAfter time.Duration) []string {
	var out []string
	for _, c := range calls {
		if c.Status != 429 || !writeMethod(c.Method) {
			continue
		}
		deadline := c.At.Add(retryAfter)
		for _, d := range calls {
			if writeMethod(d.Method) && d.At.After(c.At) && d.At.Before(deadline) {
				out = append(out, fmt.Sprintf("%s %v after the 429 of %s (Retry-After %v)", d.Method, d.At.Sub(c.At).Round(time.Millisecond), c.Method, retryAfter))
			}
		}
	}
	return out
}

// callsSince returns the calls that arrived at or after from and match keep.
func callsSince(w *localWorld, from time.Time, keep func(slackfake.Call) bool) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range w.slack.Calls() {
		if !c.At.Before(from) && keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// channelAlerts lists the alert channel's top-level messages.
func channelAlerts(w *localWorld) []slackfake.Message {
	var out []slackfake.Message
	for _, m := range w.slack.Messages(localChannel) {
		if m.ThreadTS == "" || m.ThreadTS == m.TS {
			out = append(out, m)
		}
	}
	return out
}

// investigateAndWait clicks Investigate on the alert and returns the report
// posted in its thread.
func investigateAndWait(t *testing.T, d *driver, p posted) slackfake.Message {
	t.Helper()
	n := d.threadLen(p)
	mustClick(t, d, localResponder, localChannel, p.al.TS, handlers.ActionInvestigate, p.inc.ID)
	var report slackfake.Message
	if _, err := d.threadSince(context.Background(), p, n, "the investigation of "+p.inc.ID, func(ms []slackfake.Message) bool {
		for _, m := range ms {
			if strings.HasPrefix(m.Text, "Investigation of "+p.inc.ID+" ") {
				report = m
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatal(err)
	}
	return report
}

// requestAndApproveReset requests an MFA reset as the responder and
// approves it as an approver, through the prompt and its modal.
func requestAndApproveReset(t *testing.T, d *driver, p posted) posted {
	t.Helper()
	ctx := context.Background()
	mustClick(t, d, localResponder, localChannel, p.al.TS, handlers.ActionRequestReset, p.inc.ID)
	p, err := d.until(ctx, "the reset prompt of "+p.inc.ID, p, promptPosted)
	if err != nil {
		t.Fatal(err)
	}
	mustClick(t, d, localApprover, localChannel, p.al.Reset.MessageTS, handlers.ActionApproveReset, p.inc.ID)
	if err := d.submit(ctx, localApprover, handlers.CallbackApproveReset, map[string]map[string]string{
		handlers.BlockVerification: {handlers.ActionVerification: "Video call, photo ID checked"},
	}); err != nil {
		t.Fatal(err)
	}
	return p
}

// reportSays checks that a message's blocks say every one of wants.
func reportSays(t *testing.T, what string, m slackfake.Message, wants ...string) {
	t.Helper()
	var missing []string
	for _, want := range wants {
		if !strings.Contains(string(m.Blocks), want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		t.Errorf("%s lacks %q:\n%s", what, missing, m.Blocks)
	}
}

// clickSurely clicks a button in the alert channel and waits for the ack. An
// interactive envelope written to a connection that dies at that moment is
// lost for good (Slack redelivers only events_api envelopes), which a loaded
// machine can cause right after a reconnect; so an unacknowledged click is
// tried again, twice at most, and the retries are logged.
func clickSurely(t *testing.T, w *localWorld, user, ts, action, value string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Second)
		env, err := w.slack.ClickButton(ctx, user, localChannel, ts, action, value)
		if err == nil {
			_, err = w.slack.WaitAck(ctx, env)
		}
		cancel()
		if err == nil {
			return
		}
		if attempt == 3 {
			t.Fatalf("%s's click on %s was never acknowledged: %v", user, action, err)
		}
		t.Logf("%s's click on %s not acknowledged (%v); clicking again", user, action, err)
	}
}

package main

// Resilience tests: the real bot (serve, Socket Mode and all) against the
// local Slack and AWS fakes while they misbehave, and the real binary under
// SIGTERM. Each test checks a property that would fail without the
// mechanism that provides it; the comment of each says which.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/investigate"
	"github.com/mfabot/mfabot/store"
)

// TestResilienceSlackOutage runs the bot through a Slack Web API outage: 500s
// on every write, then (after a restart of the bot) ok:false errors on posts
// while updates work again (slack-go's client has no HTTP timeout, see
// below), then 429s with Retry-After.
// Meanwhile events arrive and people click. It proves that:
//   - events are recorded and their SQS messages deleted while Slack is down
//     (a source that waited on Slack would leave them on the queue);
//   - nothing reaches Slack during the outage, and everything does after it:
//     every alert exactly once (a syncer that re-posted on retry would make
//     two), updated to the final state, every thread line once and in the
//     order of the incident's audit log (a syncer that dropped failed work,
//     or posted out of order, fails this);
//   - the Slack work pending at the restart is delivered by the new process
//     (work held only in memory would be lost);
//   - no chat.* or conversations.open call reaches Slack between a 429 and
//     the end of its Retry-After (a syncer that ignored Retry-After and used its own
//     1 s backoff would call after 1 s).
//
// slack-go's default http.Client has no Timeout, and serve sets none, so a
// "timeout" phase cannot be played with latency: a slow answer is simply
// waited for. TestResilienceSlackCallThatNeverAnswers covers that.
func TestResilienceSlackOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, logs := newResWorld(t, []string{"token-expiry", "clock-drift", "wrong-code"}, func(o *slackfake.Options) {
		o.DisableRateLimit = true // the only 429s are the injected ones, with a known Retry-After
	})
	if len(w.failing) != 3 {
		t.Fatalf("simulated users with failures: %v", w.failing)
	}
	nadia, tomas, ines := w.failing[0], w.failing[1], w.failing[2]
	a, b, c := bodiesFor(t, w, nadia), bodiesFor(t, w, tomas), bodiesFor(t, w, ines)
	if len(a) != 4 || len(b) != 4 || len(c) < 2 {
		t.Fatalf("simulated events: %d, %d, %d", len(a), len(b), len(c))
	}
	bot := startBot(t, w, logs)
	d := &driver{w: w, st: bot.app.Store, timeout: 20 * time.Second}

	// Slack is up: two alerts, in sync.
	sendBodies(w, a[:3])
	sendBodies(w, b[:2])
	sent := 5
	alertA, alertB := mustAlert(t, d, nadia), mustAlert(t, d, tomas)
	mustWait(t, d, "the first alerts to settle", func() bool { return settled(d.st) })

	// Phase 1: every Slack write answers 500.
	outage := time.Now()
	writes := []string{"chat.postMessage", "chat.update", "conversations.open"}
	for _, m := range writes {
		w.slack.FailNext(m, 100000, 500, "")
	}
	status := func(code int, from time.Time) func() int {
		return func() int {
			return len(callsSince(w, from, func(c slackfake.Call) bool { return c.Status == code && writeMethod(c.Method) }))
		}
	}
	mustClick(t, d, localResponder, localChannel, alertB.al.TS, handlers.ActionInvestigate, alertB.inc.ID)
	sendBodies(w, b[2:]) // two more failures: B becomes repeated_failures
	sendBodies(w, c)     // a new incident, C
	sent += len(b[2:]) + len(c)
	http500 := status(500, outage)
	mustWait(t, d, "events recorded and deleted from SQS while Slack answers 500", func() bool {
		inc := incidentOf(d.st, ines)
		return len(w.sqs.Deleted()) == sent && inc != nil && countAuditAction(d.st, alertB.inc.ID, "investigate", false) == 1 && http500() >= 4
	})
	if inc := incidentOf(d.st, tomas); inc.Failures != 4 || inc.Classification != incident.RepeatedFailures {
		t.Errorf("B during the outage: %d failures, %s; want 4, repeated_failures", inc.Failures, inc.Classification)
	}

	// Restart in the middle of the outage. Slack now answers ok:false to
	// posts, while updates work again: alerts can be brought up to date,
	// but no thread line, prompt or DM can be posted.
	bot.stop(t)
	w.slack.ClearFaults()
	for _, m := range []string{"chat.postMessage", "conversations.open"} {
		w.slack.FailNext(m, 100000, 200, "internal_error")
	}
	phase2 := time.Now()
	bot = startBot(t, w, logs)
	d.st = bot.app.Store
	sendBodies(w, a[3:]) // A's user signs in: recovered
	sent += len(a[3:])
	mustClick(t, d, localResponder, localChannel, alertB.al.TS, handlers.ActionRequestReset, alertB.inc.ID)
	mustWait(t, d, "A recovered", func() bool { return incidentOf(d.st, nadia).Status == incident.StatusRecovered })
	mustClick(t, d, localResponder, localChannel, alertA.al.TS, handlers.ActionResolve, alertA.inc.ID)
	okFalse := func() int {
		return len(callsSince(w, phase2, func(c slackfake.Call) bool { return c.Error == "internal_error" && writeMethod(c.Method) }))
	}
	mustWait(t, d, "the clicks to be recorded while Slack answers ok:false", func() bool {
		pa, pb := d.refresh(ctx, alertA), d.refresh(ctx, alertB)
		return len(w.sqs.Deleted()) == sent && pa.inc.Status == incident.StatusResolved && pb.al.Reset != nil && okFalse() >= 6
	})
	if got := callsSince(w, outage, func(c slackfake.Call) bool {
		return writeMethod(c.Method) && c.Status == 200 && c.Error == "" && (c.Method != "chat.update" || c.At.Before(phase2))
	}); len(got) > 0 {
		t.Fatalf("%d Slack writes succeeded during the outage, first %s", len(got), got[0].Method)
	}
	if n := len(channelAlerts(w)); n != 2 {
		t.Fatalf("alerts in the channel during the outage: %d, want 2", n)
	}

	// Phase 3: 429 with Retry-After: 2.
	const retryAfter = 2 * time.Second
	w.slack.ClearFaults()
	for _, m := range writes {
		w.slack.RateLimit(m, 100000, int(retryAfter/time.Second))
	}
	phase3 := time.Now()
	limited := status(429, phase3)
	mustWait(t, d, "two 429s", func() bool { return limited() >= 2 })
	w.slack.ClearFaults()

	// Slack is back: everything arrives.
	d.timeout = 30 * time.Second
	mustWait(t, d, "Slack to be brought up to date", func() bool { return settled(d.st) })
	t.Logf("outage: %d×500, %d×ok:false, %d×429; settled %v after Slack came back",
		http500(), okFalse(), limited(), time.Since(outage).Round(time.Millisecond))

	// Every alert exactly once, showing its final state.
	alerts := channelAlerts(w)
	posts := callsSince(w, time.Time{}, func(c slackfake.Call) bool {
		return c.Method == "chat.postMessage" && c.Params["channel"] == localChannel && c.Params["thread_ts"] == "" && c.Error == ""
	})
	if len(alerts) != 3 || len(posts) != 3 {
		t.Errorf("alerts: %d in the channel, %d posted; want 3 and 3", len(alerts), len(posts))
	}
	wantStatus := map[string]incident.Status{nadia: incident.StatusResolved, tomas: incident.StatusOpen, ines: incident.StatusRecovered}
	for _, user := range []string{nadia, tomas, ines} {
		p, ok := d.find(ctx, forUser(user))
		if !ok {
			t.Fatalf("no alert for %s", user)
		}
		if p.inc.Status != wantStatus[user] {
			t.Errorf("%s: status %s, want %s", p.inc.ID, p.inc.Status, wantStatus[user])
		}
		m, ok := w.slack.Message(localChannel, p.al.TS)
		if !ok {
			t.Errorf("%s: alert %s not in the channel", p.inc.ID, p.al.TS)
			continue
		}
		wantText := fmt.Sprintf("%s · ", strings.ToUpper(string(p.inc.Severity)))
		wantTail := fmt.Sprintf(" · %s (%s)", p.inc.Status, p.inc.ID)
		if !strings.HasPrefix(m.Text, wantText) || !strings.HasSuffix(m.Text, wantTail) || p.al.PostedRev != p.al.Rev {
			t.Errorf("%s: alert shows %q (rev %d of %d); want …%s…%s", p.inc.ID, m.Text, p.al.PostedRev, p.al.Rev, wantText, wantTail)
		}
		if p.inc.Status == incident.StatusResolved && !strings.Contains(string(m.Blocks), "Resolved by \\u003c@"+localResponder+"\\u003e") {
			t.Errorf("%s: alert does not show who resolved it", p.inc.ID)
		}
		checkThreadOrder(t, w, d.st, p)
	}
	// B: one reset prompt, one DM to its user.
	pb := d.refresh(ctx, alertB)
	prompts := 0
	for _, m := range replies(w.slack.Thread(localChannel, pb.al.TS), pb.al.TS) {
		if strings.Contains(string(m.Blocks), `"action_id":"`+handlers.ActionApproveReset+`"`) {
			prompts++
		}
	}
	if prompts != 1 || len(w.slack.DMs(w.affected[tomas])) != 1 {
		t.Errorf("B: %d reset prompts and %d DMs; want 1 and 1", prompts, len(w.slack.DMs(w.affected[tomas])))
	}
	if v := retryAfterViolations(w.slack.Calls(), retryAfter); len(v) > 0 {
		t.Errorf("Retry-After not respected:\n%s", strings.Join(v, "\n"))
	}
	if n := len(w.sqs.Visible()) + len(w.sqs.InFlight()); n != 0 {
		t.Errorf("%d SQS messages left", n)
	}
}

// countAuditAction counts the incident's audit entries with the action;
// with started false, an investigate entry counts only when it is the
// report (its outcome is the finding).
func countAuditAction(st *store.Store, id, action string, started bool) int {
	n := 0
	_ = st.View(context.Background(), func(tx *store.Tx) error {
		es, err := tx.AuditEntries(id)
		for _, e := range es {
			if e.Action == action && (started || e.Outcome != "started") {
				n++
			}
		}
		return err
	})
	return n
}

// TestResilienceRetryAfterSurvivesWakes checks that a 429's Retry-After
// holds even when something else wakes the syncer meanwhile (a click, an
// SQS event): Slack expects no call to the rate-limited method before the
// deadline, whatever else happens in the bot.
func TestResilienceRetryAfterSurvivesWakes(t *testing.T) {
	t.Parallel()
	w, logs := newResWorld(t, []string{"clock-drift", "wrong-code"}, func(o *slackfake.Options) { o.DisableRateLimit = true })
	tomas, ines := w.failing[0], w.failing[1]
	bot := startBot(t, w, logs)
	d := &driver{w: w, st: bot.app.Store, timeout: 20 * time.Second}
	w.sendAll()
	pt, pi := mustAlert(t, d, tomas), mustAlert(t, d, ines)
	mustWait(t, d, "the alerts to settle", func() bool { return settled(d.st) })

	const retryAfter = 3 * time.Second
	for _, m := range []string{"chat.postMessage", "chat.update"} {
		w.slack.RateLimit(m, 100000, int(retryAfter/time.Second))
	}
	from := time.Now()
	mustClick(t, d, localResponder, localChannel, pt.al.TS, handlers.ActionResolve, pt.inc.ID)
	var first slackfake.Call
	mustWait(t, d, "a 429", func() bool {
		got := callsSince(w, from, func(c slackfake.Call) bool { return c.Status == 429 })
		if len(got) > 0 {
			first = got[0]
		}
		return len(got) > 0
	})
	// Another click wakes the syncer well inside the Retry-After window.
	mustClick(t, d, localResponder, localChannel, pi.al.TS, handlers.ActionResolve, pi.inc.ID)
	mustWait(t, d, "the Retry-After window to pass", func() bool { return time.Since(first.At) > retryAfter+500*time.Millisecond })
	w.slack.ClearFaults()
	mustWait(t, d, "Slack to be brought up to date", func() bool { return settled(d.st) })
	if v := retryAfterViolations(w.slack.Calls(), retryAfter); len(v) > 0 {
		t.Errorf("Retry-After not respected after a wake:\n%s", strings.Join(v, "\n"))
	}
}

// TestResilienceSlackCallThatNeverAnswers checks that one Slack request that
// never answers (a black-holed connection) does not stall Slack output for
// good: the call must give up after a bounded time and be retried.
//
// When the bug is fixed this test takes about as long as the per-call
// timeout chosen (it waits up to 70 s).
func TestResilienceSlackCallThatNeverAnswers(t *testing.T) {
	t.Parallel()
	w, logs := newResWorld(t, []string{"clock-drift"}, func(o *slackfake.Options) { o.DisableRateLimit = true })
	user := w.failing[0]
	bot := startBot(t, w, logs)
	d := &driver{w: w, st: bot.app.Store, timeout: 10 * time.Second}
	w.slack.SetLatency("chat.postMessage", 10*time.Minute)
	w.sendAll()
	mustWait(t, d, "the incident to be due", func() bool {
		inc := incidentOf(d.st, user)
		return inc != nil && len(w.sqs.Deleted()) == len(w.bodies)
	})
	time.Sleep(w.cfg.Slack.GroupWait + time.Second) // the first post is under way, and hangs
	w.slack.SetLatency("chat.postMessage", 0)
	d.timeout = 70 * time.Second
	mustAlert(t, d, user)
}

// TestResilienceSocketReconnects breaks the Socket Mode connection four ways
// (a disconnect frame with reason refresh_requested, one with warning, an
// abrupt TCP close, and missing pings) and checks that each time the bot
// opens a new connection within a few seconds (TotalConnections grows) and
// handles a click sent after it. Without the client's reconnect loop the
// first three leave no connection (the click is never acked); without its
// ping watchdog a connection whose pings stopped is never replaced.
func TestResilienceSocketReconnects(t *testing.T) {
	t.Parallel()
	const clientPing = 2 * time.Second
	w, logs := newResWorld(t, []string{"clock-drift"}, func(o *slackfake.Options) {
		o.DisableRateLimit = true
		o.PingInterval = 250 * time.Millisecond
	})
	w.out.pingInterval = clientPing
	user := w.failing[0]
	bot := startBot(t, w, logs)
	d := &driver{w: w, st: bot.app.Store, timeout: 15 * time.Second}
	w.sendAll()
	p := mustAlert(t, d, user)

	// stable waits until no new connection was opened for window.
	stable := func(window time.Duration) {
		n, since := w.slack.TotalConnections(), time.Now()
		mustWait(t, d, "a stable connection", func() bool {
			if m := w.slack.TotalConnections(); m != n || w.slack.ConnectionCount() == 0 {
				n, since = m, time.Now()
			}
			return time.Since(since) >= window
		})
	}
	for _, tc := range []struct {
		name    string
		trouble func()
		within  time.Duration
		after   func()
	}{
		// The bounds leave room for a loaded machine (-race, two cores,
		// other packages' tests); a client that does not reconnect, or
		// waits for its default 30 s ping interval, misses them all.
		{"disconnect refresh_requested", func() { w.slack.Disconnect("refresh_requested") }, 10 * time.Second, nil},
		{"disconnect warning", func() { w.slack.Disconnect("warning") }, 10 * time.Second, nil},
		{"abrupt TCP close", w.slack.DropConnections, 10 * time.Second, nil},
		{"missing pings", func() { w.slack.StopPings(true) }, clientPing + 8*time.Second, func() {
			// Pings resume; a connection opened while they were
			// stopped may still time out once, so wait until the
			// connection has outlived the client's ping interval.
			w.slack.StopPings(false)
			stable(clientPing + time.Second)
		}},
	} {
		before := w.slack.TotalConnections()
		if w.slack.ConnectionCount() == 0 {
			t.Fatalf("%s: no connection before the trouble", tc.name)
		}
		start := time.Now()
		tc.trouble()
		d.timeout = tc.within
		mustWait(t, d, "a new connection after "+tc.name, func() bool {
			return w.slack.TotalConnections() > before && w.slack.ConnectionCount() > 0
		})
		t.Logf("%s: reconnected in %v", tc.name, time.Since(start).Round(time.Millisecond))
		d.timeout = 15 * time.Second
		if tc.after != nil {
			tc.after()
		}
		n := len(w.slack.Ephemerals())
		clickSurely(t, w, localOutsider, p.al.TS, handlers.ActionResolve, p.inc.ID)
		if e, err := d.ephemeralFor(context.Background(), localOutsider, n); err != nil {
			t.Fatalf("after %s: %v", tc.name, err)
		} else if !strings.Contains(e.Text, "Only responders") {
			t.Errorf("after %s: answer %q", tc.name, e.Text)
		}
		if !bot.running() {
			t.Fatalf("serve returned after %s", tc.name)
		}
	}
	// A click that changes state still works at the end.
	mustClick(t, d, localResponder, localChannel, p.al.TS, handlers.ActionResolve, p.inc.ID)
	if _, err := d.until(context.Background(), "the resolution", p, func(q posted) bool { return q.inc.Status == incident.StatusResolved }); err != nil {
		t.Fatal(err)
	}
}

// TestResilienceAWSTrouble plays AWS failures against the real bot, with the
// AWS configuration `mfabot run` uses (the SDK's standard retryer):
//   - expired credentials on SQS ReceiveMessage: the source backs off (a few
//     receives in 2 s, not a tight loop) and, once the credentials work
//     again, records the events;
//   - IAM throttling during Investigate: retried, and the report lists the
//     devices (without a retry the IAM step would fail);
//   - IAM AccessDenied during Investigate: the report says which step failed
//     and why, in words, and the bot goes on working;
//   - Logs Insights queries ending Failed and Timeout: both reported as failed
//     steps, never as "no sign-ins";
//   - DeactivateMFADevice EntityTemporarilyUnmodifiable once: retried, the
//     reset completes;
//   - DeactivateMFADevice AccessDenied: the reset is marked failed, the thread
//     says so, and the call is not retried.
func TestResilienceAWSTrouble(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w, logs := newResWorld(t, []string{"token-expiry", "clock-drift", "wrong-code"}, func(o *slackfake.Options) { o.DisableRateLimit = true })
	w.out.aws = prodAWS(t)
	nadia, tomas, ines := w.failing[0], w.failing[1], w.failing[2]
	w.logs.SetResponder(func(q awsfake.StartedQuery) awsfake.QueryOutcome {
		if !strings.Contains(q.QueryString, `"`+ines+`"`) {
			return w.answerQuery(q)
		}
		if strings.Contains(q.QueryString, `"Failure"`) {
			return awsfake.QueryOutcome{Status: awsfake.QueryFailed}
		}
		return awsfake.QueryOutcome{Status: awsfake.QueryTimeout, RunningPolls: 1}
	})

	// Expired credentials on SQS from the start.
	w.sqs.Fail("ReceiveMessage", 0, awsfake.FaultSpec{Code: "ExpiredToken", Status: 403,
		Message: "The security token included in the request is expired"})
	bot := startBot(t, w, logs)
	d := &driver{w: w, st: bot.app.Store, timeout: 20 * time.Second}
	var first time.Time
	mustWait(t, d, "the first ReceiveMessage", func() bool {
		c := w.sqs.CallsTo("ReceiveMessage")
		if len(c) > 0 {
			first = c[0].Time
		}
		return len(c) > 0
	})
	mustWait(t, d, "2 s of expired credentials", func() bool { return time.Since(first) >= 2*time.Second })
	receives := 0
	for _, c := range w.sqs.CallsTo("ReceiveMessage") {
		if c.Time.Before(first.Add(2 * time.Second)) {
			receives++
			if c.ErrorCode != "ExpiredToken" {
				t.Errorf("ReceiveMessage answered %q, want ExpiredToken", c.ErrorCode)
			}
		}
	}
	t.Logf("ReceiveMessage calls in the first 2 s of expired credentials: %d", receives)
	if receives < 2 || receives > 8 {
		t.Errorf("ReceiveMessage calls in 2 s of expired credentials: %d, want 2 to 8 (retries with backoff)", receives)
	}
	if !strings.Contains(logs.String(), "check the bot's AWS credentials") {
		t.Error("the log does not point at the credentials")
	}
	w.sqs.ClearFaults()
	w.sendAll()
	mustWait(t, d, "the events to be recorded once the credentials work", func() bool { return len(w.sqs.Deleted()) == len(w.bodies) })
	pn, pt, pi := mustAlert(t, d, nadia), mustAlert(t, d, tomas), mustAlert(t, d, ines)

	// IAM throttles the first ListMFADevices: the SDK retries it.
	w.iam.Fail("ListMFADevices", 1, awsfake.FaultSpec{Code: "Throttling", Message: "Rate exceeded"})
	report := investigateAndWait(t, d, pt)
	if strings.Contains(string(report.Blocks), "Step failed") || !strings.Contains(string(report.Blocks), tomas+"-phone") {
		t.Errorf("report after a throttled IAM call: %s", report.Blocks)
	}
	if c := w.iam.CallsTo("ListMFADevices"); len(c) != 2 || c[0].ErrorCode != "Throttling" || c[1].ErrorCode != "" {
		t.Errorf("ListMFADevices calls: %+v; want a throttled one, then a success", c)
	}

	// IAM denies ListMFADevices: the report says so.
	w.iam.ResetCalls()
	w.iam.Fail("ListMFADevices", 0, awsfake.FaultSpec{Code: "AccessDenied",
		Message: "User: arn:aws:sts::123456789012:assumed-role/mfabot/bot is not authorized to perform: iam:ListMFADevices on resource: user " + nadia})
	report = investigateAndWait(t, d, pn)
	reportSays(t, "report after AccessDenied", report, "Step failed: "+investigate.StepDevices, "AccessDenied",
		"not authorized to perform: iam:ListMFADevices", "could not be read")
	if c := w.iam.CallsTo("ListMFADevices"); len(c) != 1 {
		t.Errorf("ListMFADevices calls after AccessDenied: %d, want 1 (a permission error is not retried)", len(c))
	}
	w.iam.ClearFaults()
	// The bot goes on working: the user can still be notified.
	mustClick(t, d, localResponder, localChannel, pn.al.TS, handlers.ActionNotifyUser, pn.inc.ID)
	if _, err := d.dm(ctx, w.affected[nadia], 1); err != nil {
		t.Fatal(err)
	}

	// Logs Insights: one query ends Failed, the other Timeout.
	report = investigateAndWait(t, d, pi)
	reportSays(t, "report after failed queries", report, "Step failed: "+investigate.StepFailures, "status Failed",
		"Step failed: "+investigate.StepLogins, "status Timeout")

	// DeactivateMFADevice: busy once, then it works.
	w.iam.ResetCalls()
	w.iam.Fail("DeactivateMFADevice", 1, awsfake.FaultSpec{Code: "EntityTemporarilyUnmodifiable",
		Message: "Cannot perform the operation on the user because it is being modified."})
	pt = requestAndApproveReset(t, d, pt)
	pt, err := d.until(ctx, "the reset of "+tomas+" to end", pt, func(p posted) bool {
		return p.al.Reset.Status != incident.ResetPending && p.al.Reset.Status != incident.ResetApproved
	})
	if err != nil {
		t.Fatal(err)
	}
	if pt.al.Reset.Status != incident.ResetCompleted {
		t.Errorf("reset after a busy IAM: %s (%s), want completed", pt.al.Reset.Status, pt.al.Reset.Error)
	}
	if c := w.iam.CallsTo("DeactivateMFADevice"); len(c) != 2 || c[0].ErrorCode != "EntityTemporarilyUnmodifiable" || c[1].ErrorCode != "" {
		t.Errorf("DeactivateMFADevice calls: %+v; want a busy one, then a success", c)
	}
	if n := len(w.iam.Devices(tomas)); n != 0 {
		t.Errorf("%s still has %d MFA devices", tomas, n)
	}

	// DeactivateMFADevice: denied.
	w.iam.ResetCalls()
	w.iam.Fail("DeactivateMFADevice", 0, awsfake.FaultSpec{Code: "AccessDenied",
		Message: "User: arn:aws:sts::123456789012:assumed-role/mfabot/bot is not authorized to perform: iam:DeactivateMFADevice"})
	pi = requestAndApproveReset(t, d, pi)
	pi, err = d.until(ctx, "the reset of "+ines+" to fail", pi, func(p posted) bool { return p.al.Reset.Status == incident.ResetFailed })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(pi.al.Reset.Error, "AccessDenied") {
		t.Errorf("failed reset records %q", pi.al.Reset.Error)
	}
	mustWait(t, d, "the failed reset in the thread", func() bool {
		return settled(d.st) && containsText(replies(w.slack.Thread(localChannel, pi.al.TS), pi.al.TS), "· reset · failed — ")
	})
	var line string
	for _, m := range replies(w.slack.Thread(localChannel, pi.al.TS), pi.al.TS) {
		if strings.Contains(m.Text, "· reset · failed — ") {
			line = m.Text
		}
	}
	if !strings.Contains(line, "AccessDenied") || !strings.Contains(line, "not authorized to perform: iam:DeactivateMFADevice") {
		t.Errorf("thread line of the failed reset: %q", line)
	}
	held := time.Now()
	mustWait(t, d, "a while after the failure", func() bool { return time.Since(held) > 1500*time.Millisecond })
	if c := w.iam.CallsTo("DeactivateMFADevice"); len(c) != 1 {
		t.Errorf("DeactivateMFADevice calls after AccessDenied: %d, want 1", len(c))
	}
	if n := len(w.iam.Devices(ines)); n != 1 {
		t.Errorf("%s has %d MFA devices after a denied reset, want 1", ines, n)
	}
	w.iam.ClearFaults()
	for _, p := range []posted{pn, pt, pi} {
		checkThreadOrder(t, w, d.st, d.refresh(ctx, p))
	}
}

// TestResilienceSIGTERM runs the real binary (`mfabot run`) against the
// fakes, configured as an operator would: a config file and the environment.
// It proves that:
//   - a second `mfabot run` on the same store exits at once, non-zero, saying
//     the store is in use, without touching Slack (without the store's file
//     lock two bots would both post every alert);
//   - SIGTERM while a click's work is in flight (an Investigate whose Logs
//     Insights queries take seconds) ends the process with status 0 within a
//     bounded time, after the work finished: the queries ran to completion
//     (no StopQuery) and the report is in the audit log (without the drain
//     the work would be cut short and the click lost);
//   - the binary's AWS configuration retries a throttled IAM call (the
//     report lists the devices);
//   - the report queued at shutdown reaches the thread once the bot runs
//     again.
//
// It does not run in parallel: building the binary loads the machine, and the
// timing-sensitive tests (pings, Retry-After) should not share it.
func TestResilienceSIGTERM(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go is not on PATH")
	}
	ctx := context.Background()
	w, logs := newResWorld(t, []string{"clock-drift"}, nil)
	w.logs.SetResponder(func(q awsfake.StartedQuery) awsfake.QueryOutcome {
		o := w.answerQuery(q)
		o.RunningPolls = 4 // about 5 s at the bot's 1 s poll interval
		return o
	})
	dir := t.TempDir()
	bin := filepath.Join(dir, "mfabot")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	built := time.Now()
	if out, err := exec.Command(goBin, append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("go build %v took %v", args[3:], time.Since(built).Round(time.Millisecond))

	cfgPath := filepath.Join(dir, "mfabot.yml")
	cfg := fmt.Sprintf(`slack:
  alert_channel: %s
  responders: [%s, %s]
  approvers: [%s, %s]
  group_wait: 500ms
aws:
  region: %s
  cloudtrail_log_group: %s
sources:
  sqs_queue_url: %s
users:
  iam_tag: %s
  email_domain: example.com
remediation:
  deactivate_mfa: true
store:
  path: %s
`, localChannel, localResponder, localApprover, localApprover, localApprover2, awsfake.Region, localLogGroup,
		w.sqs.QueueURL(), localTagKey, w.cfg.Store.Path)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{
		"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "TMPDIR=" + os.TempDir(),
		"SLACK_APP_TOKEN=" + w.slack.AppToken(), "SLACK_BOT_TOKEN=" + w.slack.BotToken(), "SLACK_API_URL=" + w.slack.APIURL(),
		"AWS_ENDPOINT_URL_SQS=" + w.sqs.URL(), "AWS_ENDPOINT_URL_IAM=" + w.iam.URL(), "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + w.logs.URL(),
		"AWS_ACCESS_KEY_ID=" + awsfake.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + awsfake.SecretAccessKey,
		"AWS_REGION=" + awsfake.Region, "AWS_EC2_METADATA_DISABLED=true",
	}
	command := func(out *resLog) *exec.Cmd {
		c := exec.Command(bin, "run", "--config", cfgPath)
		c.Env, c.Stdout, c.Stderr = env, out, out
		return c
	}

	// The first bot.
	first := command(logs)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	t.Cleanup(func() {
		if first.ProcessState == nil {
			_ = first.Process.Kill()
			<-exited
		}
	})
	alive := func() bool {
		select {
		case err := <-exited:
			exited <- err
			return false
		default:
			return true
		}
	}
	d := &driver{w: w, timeout: 30 * time.Second}
	mustWait(t, d, "the binary's Socket Mode connection", func() bool { return w.slack.ConnectionCount() > 0 || !alive() })
	if !alive() {
		t.Fatalf("mfabot run exited: %v", <-exited)
	}

	// A second bot on the same store gives up at once.
	conns := w.slack.TotalConnections()
	secondOut := &resLog{}
	second := command(secondOut)
	began := time.Now()
	if err := second.Start(); err != nil {
		t.Fatal(err)
	}
	secondDone := make(chan error, 1)
	go func() { secondDone <- second.Wait() }()
	select {
	case err := <-secondDone:
		took := time.Since(began)
		code := second.ProcessState.ExitCode()
		t.Logf("second mfabot run: exit %d after %v: %s", code, took.Round(time.Millisecond), strings.TrimSpace(secondOut.String()))
		if err == nil || code == 0 || took > 5*time.Second {
			t.Errorf("second mfabot run on the same store: exit %d after %v, want non-zero within 5 s", code, took)
		}
		if !regexp.MustCompile(`(?i)in use`).MatchString(secondOut.String()) {
			t.Errorf("second mfabot run does not say the store is in use:\n%s", secondOut.String())
		}
	case <-time.After(15 * time.Second):
		_ = second.Process.Kill()
		<-secondDone
		t.Fatalf("second mfabot run on the same store still running after 15 s:\n%s", secondOut.String())
	}
	if !alive() || w.slack.TotalConnections() != conns {
		t.Fatalf("the second bot disturbed the first: first alive %v, connections %d → %d", alive(), conns, w.slack.TotalConnections())
	}

	// An alert, and a click whose work takes a few seconds.
	w.sendAll()
	var alertTS string
	mustWait(t, d, "the alert", func() bool {
		for _, m := range channelAlerts(w) {
			if strings.Contains(string(m.Blocks), `"action_id":"`+handlers.ActionInvestigate+`"`) {
				alertTS = m.TS
				return true
			}
		}
		return false
	})
	// IAM throttles the investigation's first call: the binary's AWS
	// configuration must retry it.
	w.iam.Fail("ListMFADevices", 1, awsfake.FaultSpec{Code: "Throttling", Message: "Rate exceeded"})
	// A click that arrives before the bot has recorded its own alert is
	// refused (as it should be); the responder clicks again.
	started := false
	for attempt := 0; attempt < 10 && !started; attempt++ {
		env1, err := w.slack.ClickButton(ctx, localResponder, localChannel, alertTS, handlers.ActionInvestigate, "")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.slack.WaitAck(ctx, env1); err != nil {
			t.Fatal(err)
		}
		quick := &driver{w: w, timeout: 3 * time.Second}
		started = quick.wait(ctx, "the investigation's queries", func() bool { return len(w.logs.Queries()) == 2 }) == nil
	}
	if !started {
		t.Fatal("the investigation's queries never started")
	}

	// SIGTERM while they run.
	if err := first.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	term := time.Now()
	select {
	case err := <-exited:
		exited <- err
		t.Logf("exit %d %v after SIGTERM", first.ProcessState.ExitCode(), time.Since(term).Round(time.Millisecond))
		if err != nil {
			t.Fatalf("mfabot run after SIGTERM: %v (want exit 0)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("mfabot run still running 30 s after SIGTERM")
	}
	if !strings.Contains(logs.String(), "mfabot stopped") {
		t.Error("the log does not say mfabot stopped")
	}
	if n := len(w.logs.CallsTo("StopQuery")); n != 0 {
		t.Errorf("%d Logs Insights queries were stopped: the investigation was cut short", n)
	}
	st, err := store.Open(w.cfg.Store.Path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	incs, err := st.ListIncidents(ctx)
	if err != nil || len(incs) != 1 {
		t.Fatalf("incidents after SIGTERM: %d, %v", len(incs), err)
	}
	id := incs[0].ID
	if n := countAuditAction(st, id, "investigate", false); n != 1 {
		t.Errorf("investigation reports in the audit log after SIGTERM: %d, want 1", n)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	// Started again, the bot posts the report queued at shutdown.
	bot := startBot(t, w, logs)
	d.st = bot.app.Store
	mustWait(t, d, "the report in the thread after the restart", func() bool {
		return settled(d.st) && containsText(replies(w.slack.Thread(localChannel, alertTS), alertTS), "Investigation of "+id+" ")
	})
	p, _ := d.find(ctx, func(i *incident.Incident) bool { return i.ID == id })
	checkThreadOrder(t, w, d.st, p)
	for _, m := range replies(w.slack.Thread(localChannel, alertTS), alertTS) {
		if strings.HasPrefix(m.Text, "Investigation of ") && (strings.Contains(string(m.Blocks), "Step failed") || !strings.Contains(string(m.Blocks), incs[0].Subject.User+"-phone")) {
			t.Errorf("report after a throttled IAM call: %s", m.Blocks)
		}
	}
	if c := w.iam.CallsTo("ListMFADevices"); len(c) < 2 || c[0].ErrorCode != "Throttling" || c[1].ErrorCode != "" {
		t.Errorf("ListMFADevices calls: %+v; want a throttled one, then a success", c)
	}
}

// TestResilienceStopDuringAlertPost stops the bot (as SIGTERM does) while the
// syncer's chat.postMessage of a new alert is in flight and Slack has
// already posted it, then starts it again on the same store: the alert must
// be in the channel once (without the adoption of messages posted before a
// stop, the restarted bot posts it again).
func TestResilienceStopDuringAlertPost(t *testing.T) {
	t.Parallel()
	w, logs := newResWorld(t, []string{"clock-drift"}, func(o *slackfake.Options) { o.DisableRateLimit = true })
	user := w.failing[0]
	arm := stopDuringPost(t, w, func(f url.Values) bool { return f.Get("channel") == localChannel && f.Get("thread_ts") == "" })
	bot := startBot(t, w, logs)
	arm(bot.cancel)
	w.sendAll()
	d := &driver{w: w, st: bot.app.Store, timeout: 20 * time.Second}
	mustWait(t, d, "the alert to be posted and the bot to stop", func() bool { return len(channelAlerts(w)) == 1 && !bot.running() })
	bot.stop(t)

	bot = startBot(t, w, logs)
	d.st = bot.app.Store
	p := mustAlert(t, d, user)
	mustWait(t, d, "Slack to be brought up to date", func() bool { return settled(d.st) })
	if n := len(channelAlerts(w)); n != 1 {
		t.Errorf("alerts in the channel after a stop during the post and a restart: %d, want 1", n)
	}
	checkThreadOrder(t, w, d.st, p)
}

// TestResilienceStopDuringThreadPost is the same for a timeline line: the
// bot stops while the chat.postMessage of a thread line is in flight and
// Slack has posted it; after a restart the thread must hold the line once
// (before commit c4affcf the line was posted a second time).
func TestResilienceStopDuringThreadPost(t *testing.T) {
	t.Parallel()
	w, logs := newResWorld(t, []string{"clock-drift"}, func(o *slackfake.Options) { o.DisableRateLimit = true })
	user := w.failing[0]
	arm := stopDuringPost(t, w, func(f url.Values) bool { return f.Get("channel") == localChannel && f.Get("thread_ts") != "" })
	bot := startBot(t, w, logs)
	w.sendAll()
	d := &driver{w: w, st: bot.app.Store, timeout: 20 * time.Second}
	p := mustAlert(t, d, user)
	mustWait(t, d, "the alert to settle", func() bool { return settled(d.st) })
	arm(bot.cancel)
	mustClick(t, d, localResponder, localChannel, p.al.TS, handlers.ActionResolve, p.inc.ID)
	mustWait(t, d, "the timeline line to be posted and the bot to stop", func() bool { return d.threadLen(p) == 1 && !bot.running() })
	bot.stop(t)

	bot = startBot(t, w, logs)
	d.st = bot.app.Store
	mustWait(t, d, "Slack to be brought up to date", func() bool { return settled(d.st) })
	checkThreadOrder(t, w, d.st, d.refresh(context.Background(), p))
}

// stopDuringPost puts a proxy in front of the Slack fake's Web API. Once
// armed with a stop function, the first chat.postMessage whose form match
// accepts is passed to Slack (which posts it), then stop is called, and the
// answer is held until the bot gives up on it (or 1 s).
func stopDuringPost(t *testing.T, w *localWorld, match func(url.Values) bool) (arm func(stop func())) {
	t.Helper()
	var (
		mu   sync.Mutex
		stop func()
	)
	fake := w.slack.APIURL()
	proxy := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, err := http.NewRequest(r.Method, fake+strings.TrimPrefix(r.URL.Path, "/api/"), bytes.NewReader(body))
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		req.Header = r.Header.Clone()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		form, _ := url.ParseQuery(string(body))
		if strings.HasSuffix(r.URL.Path, "/chat.postMessage") && match(form) {
			mu.Lock()
			fn := stop
			stop = nil
			mu.Unlock()
			if fn != nil {
				fn()
				select {
				case <-r.Context().Done():
				case <-time.After(time.Second):
				}
			}
		}
		for k, v := range res.Header {
			rw.Header()[k] = v
		}
		rw.WriteHeader(res.StatusCode)
		_, _ = rw.Write(out)
	}))
	t.Cleanup(proxy.Close)
	w.out.slackAPIURL = proxy.URL + "/api/"
	return func(fn func()) {
		mu.Lock()
		defer mu.Unlock()
		stop = fn
	}
}

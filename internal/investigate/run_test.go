package investigate_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/investigate"
)

// Fixture values, made up for these tests (RFC 5737 addresses).
const (
	rUser   = "nadia.okoro"
	rGroup  = "org-trail/cloudtrail"
	rHome   = "198.51.100.23"
	rPhone  = "arn:aws:iam::123456789012:mfa/nadia-phone"
	rAgent  = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	rRegion = "eu-north-1"
)

var rNow = time.Date(2026, 5, 11, 8, 30, 0, 0, time.UTC)

type env struct {
	iam  *awsfake.IAM
	logs *awsfake.Logs
	inv  *investigate.Investigator
}

func newEnv(t *testing.T, stepTimeout time.Duration) *env {
	t.Helper()
	fi, fl := awsfake.NewIAM(), awsfake.NewLogs()
	t.Cleanup(fi.Close)
	t.Cleanup(fl.Close)
	fl.AddLogGroup(rGroup)
	insights := awsops.NewInsights(fl.Client(), nil)
	insights.PollInterval = 10 * time.Millisecond
	inv, err := investigate.New(investigate.Config{
		Devices: awsops.NewIAM(fi.Client(), nil), Logs: insights, LogGroup: rGroup,
		FailedQuery: awsops.FailedLoginsQuery, RecentQuery: awsops.RecentLoginsQuery,
		Now: func() time.Time { return rNow }, StepTimeout: stepTimeout,
	})
	if err != nil {
		t.Fatalf("New: got %v, want nil", err)
	}
	return &env{iam: fi, logs: fl, inv: inv}
}

func row(eventTime time.Time, outcome, mfa, ip string) awsfake.Row {
	return awsfake.RowFromMap(map[string]string{
		"@timestamp": eventTime.Format("2006-01-02 15:04:05.000"), "eventTime": eventTime.Format(time.RFC3339),
		"sourceIPAddress": ip, "userAgent": rAgent, "awsRegion": rRegion,
		"additionalEventData.MFAUsed": mfa, "responseElements.ConsoleLogin": outcome,
	})
}

// respond answers the failures query and the recent-logins query.
func respond(failed, recent awsfake.QueryOutcome) func(awsfake.StartedQuery) awsfake.QueryOutcome {
	return func(q awsfake.StartedQuery) awsfake.QueryOutcome {
		if strings.Contains(q.QueryString, `responseElements.ConsoleLogin = "Failure"`) {
			return failed
		}
		return recent
	}
}

func userIncident() *incident.Incident {
	return &incident.Incident{
		ID: "inc-7", Subject: incident.Subject{Kind: incident.KindUser, Account: "123456789012", User: rUser},
		Classification: incident.RepeatedFailures, Failures: 2, FirstSeen: rNow.Add(-10 * time.Minute),
		LastSeen: rNow.Add(-9 * time.Minute), SourceIPs: []string{rHome}, Status: incident.StatusOpen,
	}
}

var (
	twoFailures = awsfake.QueryOutcome{RunningPolls: 1, Rows: []awsfake.Row{
		row(rNow.Add(-9*time.Minute), "Failure", "Yes", rHome),
		row(rNow.Add(-10*time.Minute), "Failure", "Yes", rHome),
	}}
	recentLogins = awsfake.QueryOutcome{Rows: []awsfake.Row{
		row(rNow.Add(-13*time.Minute), "Success", "Yes", rHome),
		row(rNow.Add(-72*time.Hour), "Success", "Yes", rHome),
	}}
)

func TestRunAllStepsSucceed(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.iam.AddMFADevice(rUser, rPhone, time.Date(2025, 6, 11, 9, 30, 0, 0, time.UTC))
	e.logs.SetResponder(respond(twoFailures, recentLogins))

	rep := e.inv.Run(context.Background(), userIncident())
	for _, s := range rep.Steps {
		if !s.OK() {
			t.Fatalf("step %q: got error %q, want none", s.Name, s.Err)
		}
	}
	if len(rep.Steps) != 3 {
		t.Fatalf("steps: got %d, want 3", len(rep.Steps))
	}
	if rep.Finding != investigate.TokenExpiryConsistent {
		t.Fatalf("finding: got %v, want %v (why: %s)", rep.Finding, investigate.TokenExpiryConsistent, rep.Why)
	}
	if rep.Next != investigate.NextTokenExpiry {
		t.Fatalf("next: got %q, want %q", rep.Next, investigate.NextTokenExpiry)
	}
	if len(rep.Failures) != 2 || len(rep.Logins) != 2 || len(rep.Devices) != 1 {
		t.Fatalf("evidence: got %d failures, %d logins, %d devices, want 2, 2, 1", len(rep.Failures), len(rep.Logins), len(rep.Devices))
	}
	if got := rep.Failures[0]; !got.Time.Equal(rNow.Add(-9*time.Minute)) || got.SourceIP != rHome || got.Region != rRegion || got.MFAUsed != "Yes" {
		t.Fatalf("first failure: got %+v", got)
	}
	if rep.Devices[0].Serial != rPhone {
		t.Fatalf("device: got %q, want %q", rep.Devices[0].Serial, rPhone)
	}
	if rep.IncidentID != "inc-7" || rep.User != rUser || rep.Account != "123456789012" || rep.Window != 70*time.Minute {
		t.Fatalf("report header: got %q %q %q %v", rep.IncidentID, rep.User, rep.Account, rep.Window)
	}
	for _, q := range e.logs.Queries() {
		if q.LogGroupName != rGroup || !q.End.Equal(rNow) {
			t.Fatalf("query group/end: got %q %v, want %q %v", q.LogGroupName, q.End, rGroup, rNow)
		}
		if strings.Contains(q.QueryString, `"Failure"`) {
			if !q.Start.Equal(rNow.Add(-70*time.Minute)) || q.Limit != 100 {
				t.Fatalf("failures query: got start %v limit %d, want %v, 100", q.Start, q.Limit, rNow.Add(-70*time.Minute))
			}
		} else if !q.Start.Equal(rNow.Add(-30*24*time.Hour)) || q.Limit != 10 {
			t.Fatalf("recent query: got start %v limit %d, want %v, 10", q.Start, q.Limit, rNow.Add(-30*24*time.Hour))
		}
		if !strings.Contains(q.QueryString, `userIdentity.userName = "nadia.okoro"`) {
			t.Fatalf("query does not filter on the user: %s", q.QueryString)
		}
	}
}

func TestRunOneLogsStepFails(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.iam.AddMFADevice(rUser, rPhone, time.Date(2025, 6, 11, 9, 30, 0, 0, time.UTC))
	e.logs.SetResponder(respond(twoFailures, awsfake.QueryOutcome{Status: awsfake.QueryFailed}))

	rep := e.inv.Run(context.Background(), userIncident())
	if !rep.Steps[0].OK() || !rep.Steps[2].OK() {
		t.Fatalf("other steps: got %+v, want them to succeed", rep.Steps)
	}
	want := "Logs Insights query failed: query did not complete: status Failed"
	if !strings.HasPrefix(rep.Steps[1].Err, want) {
		t.Fatalf("recent step error: got %q, want prefix %q", rep.Steps[1].Err, want)
	}
	if rep.Logins != nil {
		t.Fatalf("logins: got %v, want nil", rep.Logins)
	}
	if len(rep.Failures) != 2 || len(rep.Devices) != 1 {
		t.Fatalf("evidence: got %d failures, %d devices, want 2, 1", len(rep.Failures), len(rep.Devices))
	}
	if !strings.Contains(rep.Why, "Could not check the recent sign-ins") {
		t.Fatalf("why: got %q, want it to name the missing step", rep.Why)
	}
}

func TestRunAWSErrorsInPlainWords(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.iam.AddUser(rUser, nil, true) // no MFA device
	e.logs.Fail("StartQuery", 0, awsfake.FaultSpec{Code: "AccessDeniedException",
		Message: "User is not authorized to perform logs:StartQuery (X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLE)"})

	rep := e.inv.Run(context.Background(), userIncident())
	want := "Logs Insights query failed: AccessDeniedException: User is not authorized to perform logs:StartQuery (X-Amz-Security-Token=[redacted])"
	for _, s := range rep.Steps[:2] {
		if s.Err != want {
			t.Fatalf("step %q error:\ngot  %q\nwant %q", s.Name, s.Err, want)
		}
	}
	for _, s := range rep.Steps {
		if strings.Contains(s.Err, awsfake.AccessKeyID) || strings.Contains(s.Err, "FQoG") {
			t.Fatalf("step %q error leaks a credential: %q", s.Name, s.Err)
		}
	}
	if !rep.Steps[2].OK() || rep.Devices == nil || len(rep.Devices) != 0 {
		t.Fatalf("devices step: got %+v, devices %#v, want success with none", rep.Steps[2], rep.Devices)
	}
	if rep.Finding != investigate.NoMFADevice {
		t.Fatalf("finding: got %v, want %v", rep.Finding, investigate.NoMFADevice)
	}
}

func TestRunIAMStepFails(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.logs.SetResponder(respond(twoFailures, recentLogins))
	e.iam.Fail("ListMFADevices", 0, awsfake.FaultSpec{Code: "AccessDenied",
		Message: "User: arn:aws:sts::123456789012:assumed-role/mfabot/bot is not authorized to perform: iam:ListMFADevices"})

	rep := e.inv.Run(context.Background(), userIncident())
	want := "IAM ListMFADevices failed: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/mfabot/bot is not authorized to perform: iam:ListMFADevices"
	if rep.Steps[2].Err != want {
		t.Fatalf("devices step error:\ngot  %q\nwant %q", rep.Steps[2].Err, want)
	}
	if rep.Devices != nil {
		t.Fatalf("devices: got %#v, want nil", rep.Devices)
	}
	if len(rep.Failures) != 2 || len(rep.Logins) != 2 {
		t.Fatalf("evidence: got %d failures, %d logins, want 2, 2", len(rep.Failures), len(rep.Logins))
	}
	if rep.Finding != investigate.TokenExpiryConsistent {
		t.Fatalf("finding: got %v, want %v", rep.Finding, investigate.TokenExpiryConsistent)
	}
}

func TestRunStepTimeout(t *testing.T) {
	e := newEnv(t, 150*time.Millisecond)
	e.iam.AddMFADevice(rUser, rPhone, time.Date(2025, 6, 11, 9, 30, 0, 0, time.UTC))
	e.logs.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome { return awsfake.QueryOutcome{RunningPolls: 1 << 20} })

	start := time.Now()
	rep := e.inv.Run(context.Background(), userIncident())
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("Run took %v, want about the step timeout", took)
	}
	for _, s := range rep.Steps[:2] {
		if s.Err != "Logs Insights query timed out after 150ms." {
			t.Fatalf("step %q error: got %q, want the timeout", s.Name, s.Err)
		}
	}
	if !rep.Steps[2].OK() {
		t.Fatalf("devices step: got %q, want success", rep.Steps[2].Err)
	}
	if n := len(e.logs.CallsTo("StopQuery")); n != 2 {
		t.Fatalf("StopQuery calls: got %d, want 2", n)
	}
}

func TestRunSkipsSubjectsWithoutIAMUser(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	hidden := userIncident()
	hidden.Subject.User = "HIDDEN_DUE_TO_SECURITY_REASONS"
	root := &incident.Incident{ID: "inc-r", Subject: incident.Subject{Kind: incident.KindRoot, Account: "123456789012"},
		Classification: incident.BruteForce, Failures: 12}
	spray := &incident.Incident{ID: "inc-s", Subject: incident.Subject{Kind: incident.KindSourceIP, Account: "123456789012", SourceIP: "203.0.113.5"},
		Classification: incident.PasswordSpray, Failures: 30}
	for _, inc := range []*incident.Incident{hidden, root, spray} {
		rep := e.inv.Run(context.Background(), inc)
		for _, s := range rep.Steps {
			if !s.Skipped || !strings.HasPrefix(s.Err, "Not run: ") {
				t.Fatalf("%s step %q: got %+v, want skipped", inc.ID, s.Name, s)
			}
		}
		if inc != hidden && rep.Finding != investigate.SomeoneElse {
			t.Fatalf("%s finding: got %v, want %v", inc.ID, rep.Finding, investigate.SomeoneElse)
		}
	}
	if n := len(e.iam.Calls()) + len(e.logs.Calls()); n != 0 {
		t.Fatalf("AWS calls: got %d, want 0", n)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	if _, err := investigate.New(investigate.Config{}); err == nil {
		t.Fatalf("New with nothing: got nil error, want one")
	}
}

// TestFailuresWindowFollowsTheIncident investigates an incident three hours
// old: the failures query must reach back to an hour before its first
// failure, not just the last hour.
func TestFailuresWindowFollowsTheIncident(t *testing.T) {
	e := newEnv(t, 5*time.Second)
	e.logs.SetResponder(respond(twoFailures, recentLogins))
	inc := userIncident()
	inc.FirstSeen, inc.LastSeen = rNow.Add(-3*time.Hour), rNow.Add(-170*time.Minute)
	rep := e.inv.Run(context.Background(), inc)
	if rep.Window != 4*time.Hour {
		t.Fatalf("window: got %v, want 4h", rep.Window)
	}
	found := false
	for _, q := range e.logs.Queries() {
		if strings.Contains(q.QueryString, `"Failure"`) {
			found = true
			if want := rNow.Add(-4 * time.Hour); !q.Start.Equal(want) {
				t.Fatalf("failures query start: got %v, want %v", q.Start, want)
			}
		}
	}
	if !found {
		t.Fatal("no failures query")
	}
}

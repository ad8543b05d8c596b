package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/simulate"
)

// The people of the local workspace that `mfabot demo` and the end-to-end
// tests use. IDs look like real Slack IDs; none of them exists anywhere.
const (
	localChannel   = "C0ALERTS01"
	localResponder = "URESPOND01" // on the rotation: may investigate, notify, request, resolve
	localApprover  = "UAPPROVE01" // may approve resets (and respond)
	localApprover2 = "UAPPROVE02" // a second approver
	localOutsider  = "UOUTSIDE01" // in the channel, but not on the rotation
	localLogGroup  = "aws-cloudtrail-logs-mfabot-demo"
	localTagKey    = "slack-user-id"
)

// localWorld is Slack and AWS on 127.0.0.1: the same fakes the tests use,
// set up with a workspace, IAM users, their MFA devices and their sign-in
// history, and a configuration for the bot that points at them.
type localWorld struct {
	slack *slackfake.Server
	iam   *awsfake.IAM
	logs  *awsfake.Logs
	sqs   *awsfake.SQS

	cfg config
	out outside

	// bodies are the simulated EventBridge events, one SQS message each.
	bodies []string
	// signIns are the same events decoded, for the Logs Insights fake.
	signIns []cloudtrail.SignIn
	// affected maps each IAM user with a failed sign-in to the Slack user
	// the IAM tag names; failing lists them in order of first failure.
	affected map[string]string
	failing  []string
}

// newLocalWorld starts the fakes and simulates scenarios starting at start.
func newLocalWorld(dir string, scenarios []string, start time.Time) (*localWorld, error) {
	w := &localWorld{}
	var buf bytes.Buffer
	if _, err := simulate.WriteEventBridge(&buf, simulate.Options{Scenarios: scenarios, Start: start, Seed: 42}); err != nil {
		return nil, fmt.Errorf("simulate: %w", err)
	}
	for line := range strings.SplitSeq(strings.TrimSpace(buf.String()), "\n") {
		w.bodies = append(w.bodies, line)
	}
	if _, err := cloudtrail.Decode(context.Background(), bytes.NewReader(buf.Bytes()), "simulated", cloudtrail.Handler{
		SignIn: func(s cloudtrail.SignIn, _ cloudtrail.Position) error { w.signIns = append(w.signIns, s); return nil },
	}); err != nil {
		return nil, fmt.Errorf("decode simulated events: %w", err)
	}

	w.iam = awsfake.NewIAM()
	var users []string
	for _, s := range w.signIns {
		if s.IdentityType == cloudtrail.IdentityIAMUser && s.UserName != "" && !slices.Contains(users, s.UserName) {
			users = append(users, s.UserName)
		}
	}
	w.affected = map[string]string{}
	for _, s := range w.signIns {
		if s.Outcome == cloudtrail.Failure && s.UserName != "" && s.IdentityType == cloudtrail.IdentityIAMUser && w.affected[s.UserName] == "" {
			w.failing = append(w.failing, s.UserName)
			w.affected[s.UserName] = fmt.Sprintf("UAFFECTED%d", len(w.failing))
		}
	}
	for _, u := range users {
		tags := map[string]string{}
		if id := w.affected[u]; id != "" {
			tags[localTagKey] = id
		}
		w.iam.AddUser(u, tags, true)
		w.iam.AddMFADevice(u, "arn:aws:iam::"+simulate.DefaultAccount+":mfa/"+u+"-phone", start.Add(-200*24*time.Hour))
	}

	w.logs = awsfake.NewLogs()
	w.logs.SetResponder(w.answerQuery)
	w.sqs = awsfake.NewSQS()
	w.slack = slackfake.New(w.slackOptions())

	w.cfg = defaultConfig()
	w.cfg.Slack.AlertChannel = localChannel
	w.cfg.Slack.Responders = []string{localResponder, localApprover}
	w.cfg.Slack.Approvers = []string{localApprover, localApprover2}
	w.cfg.Slack.GroupWait = 2 * time.Second
	w.cfg.AWS.Region = awsfake.Region
	w.cfg.AWS.CloudTrailLogGroup = localLogGroup
	w.cfg.Sources.SQSQueueURL = w.sqs.QueueURL()
	w.cfg.Users.IAMTag = localTagKey
	w.cfg.Users.EmailDomain = "example.com"
	w.cfg.Remediation.DeactivateMFA = true
	w.cfg.Store.Path = filepath.Join(dir, "mfabot.db")
	w.cfg.RunbookURL = "https://wiki.example.com/runbooks/aws-console-mfa"

	w.out = outside{
		appToken: w.slack.AppToken(), botToken: w.slack.BotToken(), slackAPIURL: w.slack.APIURL(),
		aws: awsfake.Config(w.sqs.URL()), iamURL: w.iam.URL(), logsURL: w.logs.URL(), sqsURL: w.sqs.URL(),
		pingInterval: 5 * time.Second,
	}
	return w, nil
}

// slackOptions describes the local workspace: the responders, approvers
// and outsider in the alert channel, and a Slack user for every affected
// person.
func (w *localWorld) slackOptions() slackfake.Options {
	users := []slackfake.User{
		{ID: localResponder, Name: "sam", RealName: "Sam Responder", Email: "sam@example.com"},
		{ID: localApprover, Name: "ana", RealName: "Ana Approver", Email: "ana@example.com"},
		{ID: localApprover2, Name: "lee", RealName: "Lee Approver", Email: "lee@example.com"},
		{ID: localOutsider, Name: "max", RealName: "Max Outsider", Email: "max@example.com"},
	}
	for _, u := range w.failing {
		if id := w.affected[u]; id != "" {
			users = append(users, slackfake.User{ID: id, Name: u, RealName: u, Email: u + "@example.com"})
		}
	}
	return slackfake.Options{
		Users: users,
		Channels: []slackfake.Channel{{ID: localChannel, Name: "sec-mfa-alerts",
			Members: []string{slackfake.DefaultBotUserID, localResponder, localApprover, localApprover2, localOutsider}}},
	}
}

// answerQuery plays CloudWatch Logs Insights over the simulated sign-ins:
// failed console logins for the failures query, the rest for the recent
// logins query, for the user the query names.
func (w *localWorld) answerQuery(q awsfake.StartedQuery) awsfake.QueryOutcome {
	failures := strings.Contains(q.QueryString, `"Failure"`)
	var rows []awsfake.Row
	for i := len(w.signIns) - 1; i >= 0; i-- {
		s := w.signIns[i]
		if s.Name != cloudtrail.EventConsoleLogin || s.UserName == "" || !strings.Contains(q.QueryString, `"`+s.UserName+`"`) {
			continue
		}
		if failures != (s.Outcome == cloudtrail.Failure) {
			continue
		}
		outcome, mfa := "Success", "No"
		if s.Outcome == cloudtrail.Failure {
			outcome = "Failure"
		}
		if s.MFAUsed == cloudtrail.MFAYes {
			mfa = "Yes"
		}
		rows = append(rows, awsfake.RowFromMap(map[string]string{
			"eventTime": s.Time.Format(time.RFC3339), "sourceIPAddress": s.SourceIP, "userAgent": s.UserAgent,
			"awsRegion": s.Region, "errorMessage": s.ErrorMessage, "additionalEventData.MFAUsed": mfa,
			"responseElements.ConsoleLogin": outcome,
		}))
	}
	return awsfake.QueryOutcome{Rows: rows, RunningPolls: 1}
}

// sendAll puts every simulated event on the queue.
func (w *localWorld) sendAll() {
	for _, b := range w.bodies {
		w.sqs.Send(b)
	}
}

// close stops the fakes.
func (w *localWorld) close() {
	w.slack.Close()
	w.iam.Close()
	w.logs.Close()
	w.sqs.Close()
}

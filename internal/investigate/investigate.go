package investigate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/smithy-go"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
)

// DeviceLister lists an IAM user's MFA devices; *awsops.IAM satisfies it.
type DeviceLister interface {
	MFADevices(ctx context.Context, user string) ([]Device, error)
}

// Querier runs a CloudWatch Logs Insights query to completion;
// *awsops.Insights satisfies it.
type Querier interface {
	Query(ctx context.Context, logGroup, query string, start, end time.Time, limit int) ([]map[string]string, error)
}

// Names of the investigation steps, in the order Report.Steps lists them.
const (
	StepFailures = "Failed sign-ins around the incident (Logs Insights)"
	StepLogins   = "Recent successful sign-ins (Logs Insights)"
	StepDevices  = "MFA devices (IAM)"
)

// Row limits, matching the limit commands of the runbook's queries.
const (
	failuresLimit = 100
	loginsLimit   = 10
)

// Config configures an Investigator.
type Config struct {
	// Devices and Logs reach IAM and Logs Insights.
	Devices DeviceLister
	Logs    Querier
	// LogGroup is the CloudTrail log group to query.
	LogGroup string
	// FailedQuery and RecentQuery build the runbook's queries for a user
	// name; wire them to awsops.FailedLoginsQuery and
	// awsops.RecentLoginsQuery.
	FailedQuery func(user string) (string, error)
	RecentQuery func(user string) (string, error)
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Logger receives step failures. Default: discard.
	Logger *slog.Logger
	// StepTimeout bounds each step. Default 90 s.
	StepTimeout time.Duration
	// Window is how far back failures are searched. Default 1 h.
	Window time.Duration
	// Lookback is how far back the recent successful sign-ins are
	// searched. Default 30 days; longer scans cost more.
	Lookback time.Duration
}

// Investigator runs the runbook's three investigation steps for an
// incident and assesses the result.
type Investigator struct {
	cfg Config
}

// New returns an Investigator, filling in defaults. It fails when a
// required field is missing.
func New(cfg Config) (*Investigator, error) {
	switch {
	case cfg.Devices == nil:
		return nil, errors.New("investigator: no device lister")
	case cfg.Logs == nil:
		return nil, errors.New("investigator: no logs querier")
	case cfg.LogGroup == "":
		return nil, errors.New("investigator: no log group")
	case cfg.FailedQuery == nil || cfg.RecentQuery == nil:
		return nil, errors.New("investigator: no query builders")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.StepTimeout <= 0 {
		cfg.StepTimeout = 90 * time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = time.Hour
	}
	if cfg.Lookback <= 0 {
		cfg.Lookback = 30 * 24 * time.Hour
	}
	return &Investigator{cfg: cfg}, nil
}

// Run investigates inc: it searches the user's failed sign-ins of the last
// Window, their recent successful sign-ins and their MFA devices at the
// same time, each step under its own timeout, and assesses the evidence.
// A step that fails is reported in Steps and the others still count. Steps
// that do not apply to the subject (root, a spray, an Identity Center user,
// a hidden user name) are skipped.
func (iv *Investigator) Run(ctx context.Context, inc *incident.Incident) Report {
	if inc == nil {
		return Report{Finding: Inconclusive, Why: "There is no incident to investigate.", Next: NextInconclusive}
	}
	now := iv.cfg.Now()
	// The failures are searched from an hour before the incident's first
	// failure (or the last hour, if that is earlier) until now, so that an
	// incident investigated hours later still shows its own failures.
	from := now.Add(-iv.cfg.Window)
	if f := inc.FirstSeen.Add(-iv.cfg.Window); !inc.FirstSeen.IsZero() && f.Before(from) {
		from = f
	}
	rep := Report{IncidentID: inc.ID, User: inc.Subject.User, Account: inc.Subject.Account, Window: now.Sub(from).Round(time.Minute)}
	steps := []Step{{Name: StepFailures}, {Name: StepLogins}, {Name: StepDevices}}

	if reason := notIAMUser(inc.Subject); reason != "" {
		for i := range steps {
			steps[i].Err, steps[i].Skipped = "Not run: "+reason+".", true
		}
	} else {
		user := inc.Subject.User
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			rep.Failures, steps[0].Err = iv.logins(ctx, inc, iv.cfg.FailedQuery, user, from, now, failuresLimit)
		}()
		go func() {
			defer wg.Done()
			rep.Logins, steps[1].Err = iv.logins(ctx, inc, iv.cfg.RecentQuery, user, now.Add(-iv.cfg.Lookback), now, loginsLimit)
		}()
		go func() {
			defer wg.Done()
			rep.Devices, steps[2].Err = iv.devices(ctx, inc, user)
		}()
		wg.Wait()
	}
	rep.Steps = steps
	ok := StepsOK{Failures: steps[0].OK(), Logins: steps[1].OK(), Devices: steps[2].OK()}
	rep.Finding, rep.Why, rep.Next = Assess(inc, rep.Failures, rep.Logins, rep.Devices, ok)
	return rep
}

// notIAMUser says why the subject has no IAM user to investigate, or "".
func notIAMUser(s incident.Subject) string {
	switch s.Kind {
	case incident.KindUser:
		switch s.User {
		case "":
			return "the alert names no IAM user"
		case cloudtrail.HiddenUserName:
			return "CloudTrail hid the user name, so no such IAM user exists"
		}
		return ""
	case incident.KindRoot:
		return "the root user is not an IAM user; its MFA is the account owner's"
	case incident.KindSourceIP:
		return "a password spray has no single user"
	case incident.KindIdentityCenterUser:
		return "Identity Center users' MFA is managed in IAM Identity Center, not IAM"
	}
	return "the subject is not an IAM user"
}

// logins runs one Logs Insights step.
func (iv *Investigator) logins(ctx context.Context, inc *incident.Incident, build func(string) (string, error), user string, start, end time.Time, limit int) ([]Login, string) {
	query, err := build(user)
	if err != nil {
		iv.cfg.Logger.WarnContext(ctx, "investigation query not built", "incident", inc.ID, "err", err)
		return nil, "Logs Insights query not run: " + redact(err.Error())
	}
	ctx, cancel := context.WithTimeout(ctx, iv.cfg.StepTimeout)
	defer cancel()
	rows, err := iv.cfg.Logs.Query(ctx, iv.cfg.LogGroup, query, start, end, limit)
	if err != nil {
		iv.cfg.Logger.WarnContext(ctx, "investigation query failed", "incident", inc.ID, "err", err)
		return nil, describe("Logs Insights query", err, iv.cfg.StepTimeout)
	}
	out := make([]Login, 0, len(rows))
	for _, row := range rows {
		l, err := parseLogin(row)
		if err != nil {
			iv.cfg.Logger.WarnContext(ctx, "investigation row skipped", "incident", inc.ID, "err", err)
			continue
		}
		out = append(out, l)
	}
	return out, ""
}

// devices runs the IAM step. The result is empty, not nil, when the user
// has no device.
func (iv *Investigator) devices(ctx context.Context, inc *incident.Incident, user string) ([]Device, string) {
	ctx, cancel := context.WithTimeout(ctx, iv.cfg.StepTimeout)
	defer cancel()
	ds, err := iv.cfg.Devices.MFADevices(ctx, user)
	if err != nil {
		iv.cfg.Logger.WarnContext(ctx, "investigation device listing failed", "incident", inc.ID, "err", err)
		return nil, describe("IAM ListMFADevices", err, iv.cfg.StepTimeout)
	}
	if ds == nil {
		ds = []Device{}
	}
	return ds, ""
}

// insightsTimestamp is the layout of Logs Insights' @timestamp.
const insightsTimestamp = "2006-01-02 15:04:05.000"

// parseLogin turns a result row of the runbook's queries into a Login. The
// time is eventTime (RFC 3339), or @timestamp when eventTime is missing.
func parseLogin(row map[string]string) (Login, error) {
	t, err := time.Parse(time.RFC3339, row["eventTime"])
	if err != nil {
		var err2 error
		if t, err2 = time.ParseInLocation(insightsTimestamp, row["@timestamp"], time.UTC); err2 != nil {
			return Login{}, fmt.Errorf("row has no usable time: eventTime %q, @timestamp %q", row["eventTime"], row["@timestamp"])
		}
	}
	if t.Year() < 2005 {
		return Login{}, fmt.Errorf("row's time %s is before CloudTrail existed", t.UTC().Format(time.RFC3339))
	}
	return Login{
		Time:      t.UTC(),
		Outcome:   row["responseElements.ConsoleLogin"],
		MFAUsed:   row["additionalEventData.MFAUsed"],
		SourceIP:  row["sourceIPAddress"],
		UserAgent: row["userAgent"],
		Region:    row["awsRegion"],
		Error:     row["errorMessage"],
	}, nil
}

// describe words a step's error for a Slack thread: the AWS error code and
// message when there is one, never request signatures or credentials.
func describe(what string, err error, timeout time.Duration) string {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s timed out after %v.", what, timeout)
	case errors.Is(err, context.Canceled):
		return what + " was cancelled."
	}
	msg := err.Error()
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg = ae.ErrorCode()
		if m := ae.ErrorMessage(); m != "" {
			msg += ": " + m
		}
	}
	return what + " failed: " + truncate(redact(msg), 300)
}

// secrets match what must never reach Slack: access key IDs, and values of
// signature, token, credential, secret and password parameters.
var secrets = []struct {
	re   *regexp.Regexp
	repl string
}{
	{regexp.MustCompile(`\b(AKIA|ASIA)[A-Z0-9]{16}\b`), "[redacted key]"},
	{regexp.MustCompile(`(?i)\b((?:x-amz-|aws_)?(?:security-token|signature|credential|session[_-]?token|secret[\w-]*|password|token))(\s*[=:]\s*)[^\s,;&"')\]]+`), "$1$2[redacted]"},
}

// redact removes secrets from s.
func redact(s string) string {
	for _, r := range secrets {
		s = r.re.ReplaceAllString(s, r.repl)
	}
	return strings.TrimSpace(s)
}

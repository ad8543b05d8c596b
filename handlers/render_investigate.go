package handlers

import (
	"fmt"
	"slices"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/investigate"
)

// maxTimelineLine bounds one timeline line, so that it fits a section.
const maxTimelineLine = 3000

// TimelineLine renders one line of an incident's thread, in mrkdwn:
// "<time> · <@U123> · action · outcome — detail", with "mfabot" as the
// actor of system entries. The action is escaped; outcome and detail may
// carry mfabot's own formatting, so plain user mentions (<@U123>) and
// entities already escaped (&lt;) are kept and everything else is escaped:
// no entry can notify a channel or hide a link.
func TimelineLine(e incident.Entry) string {
	line := utc(e.Time) + " · " + mentionOf(e.Actor) + " · " + clip(e.Action, 100)
	if e.Outcome != "" {
		line += " · " + clipSafe(e.Outcome, 200)
	}
	if e.Detail != "" {
		line += " — " + clipSafe(e.Detail, 2000)
	}
	return fitMrkdwn(line, maxTimelineLine)
}

// Caps on what an investigation lists.
const (
	investigateFailures = 10
	investigateLogins   = 10
	investigateDevices  = 10
	investigateIPs      = 10
)

// InvestigationMessage renders an investigation report for the alert's
// thread: the finding in words with why and what next, the failures in the
// window, the last console sign-ins, the MFA devices, and any step that
// could not run, clearly marked.
func InvestigationMessage(r investigate.Report) Message {
	who := "IAM user *" + clip(r.User, 128) + "* in account " + code(r.Account, 40)
	blocks := []slack.Block{
		headerBlock("investigation_header", ":mag: Investigation: "+Truncate(r.User, 100)),
		sectionBlock("investigation_finding", fmt.Sprintf("%s\n*Finding:* %s\n*Why:* %s\n*Next:* %s",
			who, findingWords(r.Finding), orNone(clipLines(r.Why, 600)), orNone(clipLines(r.Next, 600)))),
	}
	if errs := stepErrors(r.Steps); errs != "" {
		blocks = append(blocks, sectionBlock("investigation_errors", errs))
	}
	blocks = append(blocks,
		sectionBlock("investigation_failures", failuresText(r)),
		sectionBlock("investigation_logins", loginsText(r.Logins)),
		sectionBlock("investigation_devices", devicesText(r.Devices)),
		contextBlock("investigation_context", "*"+clip(r.IncidentID, 40)+"*", stepsSummary(r.Steps)),
	)
	text := fmt.Sprintf("Investigation of %s (%s): %s", clip(r.IncidentID, 40), clip(r.User, 128), findingWords(r.Finding))
	return newMessage(text, blocks...)
}

// orNone shows a missing explanation honestly.
func orNone(s string) string {
	if s == "" {
		return "(none given)"
	}
	return s
}

// findingWords names a finding for people.
func findingWords(f investigate.Finding) string {
	switch f {
	case investigate.TokenExpiryConsistent:
		return "consistent with token expiry (a stale or mistimed MFA code)"
	case investigate.NoMFADevice:
		return "no MFA device registered"
	case investigate.PersistentFailures:
		return "persistent failures"
	case investigate.SomeoneElse:
		return "looks like someone else"
	case investigate.Inconclusive:
		return "inconclusive"
	}
	return "no finding"
}

// failuresText lists the failures found in the window.
func failuresText(r investigate.Report) string {
	window := "the window"
	if r.Window > 0 {
		window = "the last " + humanDuration(r.Window)
	}
	var ips []string
	for _, f := range r.Failures {
		if f.SourceIP != "" && !slices.Contains(ips, f.SourceIP) {
			ips = append(ips, f.SourceIP)
		}
	}
	slices.Sort(ips)
	lines := []string{fmt.Sprintf("*Failures in %s:* %d", window, len(r.Failures))}
	if len(r.Failures) > 0 {
		lines = append(lines, "*From:* "+list(ips, investigateIPs, 45, 0, code))
	}
	lines = append(lines, loginLines(r.Failures, investigateFailures)...)
	return strings.Join(lines, "\n")
}

// loginsText lists the last console sign-ins.
func loginsText(logins []investigate.Login) string {
	if len(logins) == 0 {
		return "*Last console sign-ins:* none found"
	}
	return strings.Join(append([]string{"*Last console sign-ins* (newest first):"}, loginLines(logins, investigateLogins)...), "\n")
}

// loginLines renders at most n sign-ins, one line each.
func loginLines(logins []investigate.Login, n int) []string {
	var lines []string
	for i, l := range logins {
		if i == n {
			lines = append(lines, fmt.Sprintf("+%d more", len(logins)-n))
			break
		}
		mfa := l.MFAUsed
		if mfa == "" {
			mfa = "absent"
		}
		line := fmt.Sprintf("• %s · %s · MFAUsed %s · %s · %s", utc(l.Time), clip(orDash(l.Outcome), 20),
			clip(mfa, 10), code(orDash(l.SourceIP), 47), clip(orDash(l.Region), 30))
		if l.Error != "" {
			line += " — " + clip(l.Error, 80)
		}
		lines = append(lines, line)
	}
	return lines
}

// orDash shows a missing value as a dash.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// devicesText lists the MFA devices; nil means the IAM step failed.
func devicesText(ds []investigate.Device) string {
	switch {
	case ds == nil:
		return "*MFA devices:* :x: could not be read (see the failed step above)"
	case len(ds) == 0:
		return "*MFA devices:* none registered"
	}
	lines := []string{"*MFA devices:*"}
	for i, d := range ds {
		if i == investigateDevices {
			lines = append(lines, fmt.Sprintf("+%d more", len(ds)-i))
			break
		}
		lines = append(lines, "• "+code(d.Serial, 120)+" enabled "+utc(d.Enabled))
	}
	return strings.Join(lines, "\n")
}

// stepErrors marks the steps that could not run, at most five.
func stepErrors(steps []investigate.Step) string {
	var lines []string
	failed := 0
	for _, s := range steps {
		if s.Err == "" {
			continue
		}
		if failed++; failed <= 5 {
			lines = append(lines, fmt.Sprintf(":x: *Step failed: %s* — %s", clip(s.Name, 60), clipLines(s.Err, 300)))
		}
	}
	if failed == 0 {
		return ""
	}
	if failed > 5 {
		lines = append(lines, fmt.Sprintf(":x: +%d more failed steps", failed-5))
	}
	return strings.Join(append(lines, "The other steps still ran; their results are below."), "\n")
}

// stepsSummary shows each step with a tick or a cross.
func stepsSummary(steps []investigate.Step) string {
	if len(steps) == 0 {
		return "No steps recorded"
	}
	parts := make([]string, 0, len(steps))
	for i, s := range steps {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("+%d more", len(steps)-i))
			break
		}
		mark := ":white_check_mark:"
		if s.Err != "" {
			mark = ":x:"
		}
		parts = append(parts, mark+" "+clip(s.Name, 40))
	}
	return "Steps: " + strings.Join(parts, " · ")
}

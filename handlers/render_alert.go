package handlers

import (
	"fmt"
	"strings"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
)

// Links are the console and documentation links an alert shows; empty
// links are left out.
type Links struct {
	CloudTrailEvent, LogsInsights, Runbook string
}

// AlertView is everything the alert message shows about one incident.
type AlertView struct {
	Incident *incident.Incident
	Links    Links
	// Reset is the MFA reset request, if any.
	Reset *incident.Reset
	// Answer is the affected user's answer to the DM.
	Answer incident.Answer
	// NotifiedUser is the Slack user ID the DM went to, or "".
	NotifiedUser string
	// Recent90d counts this subject's incidents in the last 90 days, this
	// one included.
	Recent90d int
	// ResolvedBy is the Slack user ID of who resolved it, and Resolution
	// their note.
	ResolvedBy string
	Resolution string
}

// Caps on what an alert lists; the counts stay exact.
const (
	alertIPs        = 10
	alertUserAgents = 3
	alertRegions    = 10
	alertTargets    = 15
)

// Guidance for the subjects mfabot does not help by DM or reset.
const (
	rootGuidance  = "contact the account owner; root MFA is reset by the root user or via centralized root access, never by mfabot"
	sprayGuidance = "block or investigate the source IP; check the targeted users for successful sign-ins"
	icGuidance    = "handle in IAM Identity Center / the IdP"
)

// AlertMessage renders the one channel message of an incident, kept current
// with chat.update: what happened, the evidence, links, status, and the
// responder buttons (none once resolved or merged).
func AlertMessage(v AlertView) Message {
	m := alertBody(v)
	if btns := alertButtons(v); len(btns) > 0 {
		m.Blocks = append(m.Blocks, slack.NewActionBlock("alert_actions", btns...))
	}
	return m
}

// alertBody is the alert without its buttons (also used by /mfa show).
func alertBody(v AlertView) Message {
	if v.Incident == nil {
		v.Incident = &incident.Incident{}
	}
	inc := v.Incident
	blocks := []slack.Block{
		headerBlock("alert_header", alertHeader(inc)),
		sectionBlock("alert_what", alertWhat(inc)),
		sectionBlock("alert_evidence", alertEvidence(inc)),
	}
	if inc.Subject.Kind == incident.KindSourceIP {
		blocks = append(blocks, sectionBlock("alert_targets", alertTargetsText(inc)))
	}
	if g := guidance(inc.Subject.Kind); g != "" {
		blocks = append(blocks, sectionBlock("alert_guidance", ":point_right: *What to do:* "+g))
	}
	if l := alertLinks(v.Links); l != "" {
		blocks = append(blocks, contextBlock("alert_links", l))
	}
	blocks = append(blocks, contextBlock("alert_status", alertStatus(v)...))
	text := fmt.Sprintf("%s · %s · %s · %s (%s)", strings.ToUpper(string(inc.Severity)), clip(title(inc), 300),
		classificationWords(inc.Classification), inc.Status, clip(inc.ID, 40))
	return newMessage(text, blocks...)
}

// guidance says what to do for subjects mfabot does not act on.
func guidance(k incident.Kind) string {
	switch k {
	case incident.KindRoot:
		return "Root sign-in: " + rootGuidance + "."
	case incident.KindSourceIP:
		return "Password spray: " + sprayGuidance + "."
	case incident.KindIdentityCenterUser:
		return "Identity Center user: " + icGuidance + "; mfabot cannot reset Identity Center MFA."
	}
	return ""
}

// alertHeader is the plain-text header: emoji, severity, title, status.
func alertHeader(inc *incident.Incident) string {
	emoji := map[incident.Severity]string{incident.High: ":rotating_light:", incident.Medium: ":warning:", incident.Low: ":large_blue_circle:"}[inc.Severity]
	suffix := ""
	switch inc.Status {
	case incident.StatusResolved:
		emoji, suffix = ":white_check_mark:", " · resolved"
	case incident.StatusRecovered:
		emoji, suffix = ":large_green_circle:", " · recovered"
	case incident.StatusMerged:
		emoji, suffix = ":link:", " · merged"
	}
	if emoji == "" {
		emoji = ":grey_question:"
	}
	sev := strings.ToUpper(string(inc.Severity))
	if sev == "" {
		sev = "UNKNOWN"
	}
	head := emoji + " " + sev + " · "
	return head + Truncate(title(inc), maxHeaderText-len([]rune(head))-len([]rune(suffix))) + suffix
}

// title is the short, unescaped name of the incident.
func title(inc *incident.Incident) string {
	s := inc.Subject
	switch s.Kind {
	case incident.KindSourceIP:
		return "Password spray from " + Truncate(s.SourceIP, 60)
	case incident.KindRoot:
		return "Root sign-in failure: account " + Truncate(s.Account, 40)
	case incident.KindIdentityCenterUser:
		return "Identity Center sign-in failure: " + Truncate(s.User, 100)
	}
	user := Truncate(s.User, 100)
	switch {
	case inc.Classification == incident.BruteForce:
		return "Brute force against " + user
	case inc.Stage == incident.StagePassword:
		return "Sign-in failure before MFA: " + user
	}
	return "MFA sign-in failure: " + user
}

// subjectLine names the subject in mrkdwn.
func subjectLine(s incident.Subject) string {
	acct := "account " + code(s.Account, 40)
	switch s.Kind {
	case incident.KindRoot:
		return "*Subject:* root user of " + acct
	case incident.KindSourceIP:
		return "*Subject:* source IP " + code(s.SourceIP, 60) + " (sign-ins to " + acct + ")"
	case incident.KindIdentityCenterUser:
		return "*Subject:* IAM Identity Center user *" + clip(s.User, 128) + "* (" + acct + ")"
	}
	return "*Subject:* IAM user *" + clip(s.User, 128) + "* in " + acct
}

// stageWords says honestly how far the failing sign-ins got.
func stageWords(inc *incident.Incident) string {
	words := map[incident.Stage]string{
		incident.StageMFA:      "MFA step reached",
		incident.StagePassword: "failed before the MFA step",
	}[inc.Stage]
	if words == "" {
		words = "stage unknown"
	}
	return fmt.Sprintf("%s (MFAUsed on failures: %d Yes, %d No, %d absent)", words, inc.MFAYes, inc.MFANo, inc.MFAUnknown)
}

// classificationWords names a classification for people.
func classificationWords(c incident.Classification) string {
	switch c {
	case incident.PasswordSpray:
		return "password spray"
	case incident.BruteForce:
		return "brute force"
	case incident.TokenExpiryLikely:
		return "token expiry likely"
	case incident.RepeatedFailures:
		return "repeated failures"
	case incident.IsolatedFailure:
		return "isolated failure"
	}
	return "unclassified"
}

// alertWhat is the first section: who, how far, what it looks like, when.
func alertWhat(inc *incident.Incident) string {
	lines := []string{
		subjectLine(inc.Subject),
		"*Classification:* " + classificationWords(inc.Classification) + " — " + clipLines(inc.Reason, 500),
		"*Stage:* " + stageWords(inc),
		"*Failures:* " + fmt.Sprint(inc.Failures),
	}
	if inc.FirstSeen.Equal(inc.LastSeen) {
		lines = append(lines, "*Seen:* "+utcAndLocal(inc.FirstSeen))
	} else {
		lines = append(lines, "*First seen:* "+utcAndLocal(inc.FirstSeen), "*Last seen:* "+utcAndLocal(inc.LastSeen))
	}
	return strings.Join(lines, "\n")
}

// alertEvidence is the second section: where from, with what, prior MFA.
func alertEvidence(inc *incident.Incident) string {
	total := len(inc.SourceIPs)
	ips := list(inc.SourceIPs, alertIPs, 45, total, code)
	if inc.MoreSourceIPs {
		ips += " (and others not kept)"
	}
	lines := []string{
		"*Source IPs:* " + ips,
		"*User agents:* " + list(inc.UserAgents, alertUserAgents, 200, 0, code),
		"*Regions:* " + list(inc.Regions, alertRegions, 30, 0, clip),
	}
	if inc.Subject.Kind != incident.KindSourceIP {
		prior := "none in the 15 min before the first failure"
		if p := inc.PriorMFASuccess; p != nil {
			prior = utcAndLocal(*p) + ", " + humanDuration(inc.FirstSeen.Sub(*p)) + " before the first failure"
		}
		lines = append(lines, "*Prior MFA success:* "+prior)
	}
	return strings.Join(lines, "\n")
}

// alertTargetsText lists the user names a spray tried.
func alertTargetsText(inc *incident.Incident) string {
	known := max(inc.TargetCount, len(inc.Targets))
	return fmt.Sprintf("*Targets:* %s tried, %s hidden by CloudTrail (unknown names)\n%s",
		plural(known, "known user name", "known user names"), plural(inc.UnknownTargets, "failure", "failures"),
		list(inc.Targets, alertTargets, 64, known, clip))
}

// alertLinks renders the non-empty links.
func alertLinks(l Links) string {
	var parts []string
	for _, x := range []struct{ url, label string }{
		{l.CloudTrailEvent, "CloudTrail event"}, {l.LogsInsights, "Logs Insights query"}, {l.Runbook, "Runbook"},
	} {
		if x.url != "" {
			parts = append(parts, link(x.url, x.label))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return ":link: " + strings.Join(parts, " · ")
}

// alertStatus is the context line: status, repeat offender note, the
// user's answer and the reset request.
func alertStatus(v AlertView) []string {
	inc := v.Incident
	items := []string{"*" + clip(inc.ID, 40) + "*", statusWords(v)}
	if inc.Subject.IsPerson() && v.Recent90d >= 3 {
		items = append(items, fmt.Sprintf(":repeat: %s in 90 days: consider a hardware key", ordinal(v.Recent90d)))
	}
	if a := answerWords(v.Answer, v.NotifiedUser); a != "" {
		items = append(items, a)
	}
	if v.Reset != nil {
		items = append(items, resetWords(*v.Reset))
	}
	return items
}

// statusWords renders where the incident stands.
func statusWords(v AlertView) string {
	inc := v.Incident
	switch inc.Status {
	case incident.StatusOpen:
		return "Open"
	case incident.StatusRecovered:
		if inc.RecoveredAt == nil {
			return "Recovered"
		}
		return fmt.Sprintf("Recovered at %s (successful MFA sign-in, %s after the first failure)",
			slackDate(*inc.RecoveredAt, "{date_short_pretty} {time}"), humanDuration(inc.RecoveredAt.Sub(inc.FirstSeen)))
	case incident.StatusResolved:
		s := "Resolved"
		if v.ResolvedBy != "" {
			s += " by " + mentionOf(v.ResolvedBy)
		}
		if at := inc.ResolvedAt; at != nil {
			s += fmt.Sprintf(" at %s (resolution time %s)", slackDate(*at, "{date_short_pretty} {time}"), humanDuration(at.Sub(inc.FirstSeen)))
		}
		if v.Resolution != "" {
			s += ": " + clipLines(v.Resolution, 500)
		}
		return s
	case incident.StatusMerged:
		return "Merged into " + clip(inc.MergedInto, 40) + " (a password spray explains it)"
	}
	return "Status " + clip(string(inc.Status), 40)
}

// answerWords renders the DM and the user's answer.
func answerWords(a incident.Answer, notified string) string {
	switch a {
	case incident.AnswerRecovered:
		return ":white_check_mark: User says they're in now"
	case incident.AnswerStillFailing:
		return ":x: User says it's still failing"
	case incident.AnswerNotMe:
		return ":warning: User says *this wasn't them*"
	case incident.AnswerNotReachable:
		return ":mailbox_closed: User could not be reached on Slack"
	case incident.AnswerAwaitingReply:
		return ":envelope: DM sent to " + mentionOf(notified) + ", awaiting reply"
	}
	if notified != "" {
		return ":envelope: User notified: " + mentionOf(notified)
	}
	return ""
}

// resetWords renders the state of a reset request in one line.
func resetWords(r incident.Reset) string {
	by := "requested by " + mentionOf(r.RequestedBy)
	if r.ViaUser {
		by = "requested by the user (via DM)"
	}
	switch r.Status {
	case incident.ResetPending:
		return ":key: MFA reset pending approval (" + by + ")"
	case incident.ResetApproved:
		return ":key: MFA reset approved by " + mentionOf(r.DecidedBy)
	case incident.ResetCompleted:
		return ":key: MFA reset done (approved by " + mentionOf(r.DecidedBy) + ")"
	case incident.ResetFailed:
		return ":x: MFA reset failed (approved by " + mentionOf(r.DecidedBy) + ")"
	case incident.ResetDenied:
		return ":no_entry: MFA reset denied by " + mentionOf(r.DecidedBy)
	}
	return ":key: MFA reset " + clip(string(r.Status), 40)
}

// alertButtons are the responder buttons; none once resolved or merged.
func alertButtons(v AlertView) []slack.BlockElement {
	inc := v.Incident
	if inc == nil || inc.Status == incident.StatusResolved || inc.Status == incident.StatusMerged {
		return nil
	}
	btns := []slack.BlockElement{button(ActionInvestigate, "Investigate", inc.ID, "")}
	if inc.Subject.IsPerson() {
		label := "Notify user"
		if v.NotifiedUser != "" {
			label = "Notify again"
		}
		btns = append(btns, button(ActionNotifyUser, label, inc.ID, ""))
		if v.Reset == nil || v.Reset.Status == incident.ResetDenied || v.Reset.Status == incident.ResetFailed {
			btns = append(btns, button(ActionRequestReset, "Request reset", inc.ID, ""))
		}
	}
	return append(btns, button(ActionResolve, "Resolve", inc.ID, slack.StylePrimary))
}

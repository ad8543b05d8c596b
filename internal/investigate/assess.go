package investigate

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mfabot/mfabot/internal/incident"
)

// StepsOK says which investigation steps produced evidence. Assess treats
// the output of a step that failed as unknown, not as empty.
type StepsOK struct {
	Failures bool // the failed sign-ins of the last hour
	Logins   bool // the user's recent successful sign-ins
	Devices  bool // the user's MFA devices
}

// Thresholds of the runbook's heuristics.
const (
	// TokenExpiryWindow is how close a successful MFA sign-in from the
	// same address must be to the failures for token expiry to fit.
	TokenExpiryWindow = 15 * time.Minute
	// PersistentCount failures in the hour, or more, are not "a few".
	PersistentCount = 3
	// ManyIPs distinct failing addresses, or more, look like someone else.
	ManyIPs = 3
)

// The runbook's advice for each finding.
const (
	NextTokenExpiry  = "Notify the user: wait for a fresh code, sync the device clock, try again."
	NextSomeoneElse  = "Treat as a possible compromise: escalate, prefer a password reset, do not reset MFA."
	NextPersistent   = "Ask the user to resync the device; request a reset only if resync fails."
	NextNoMFADevice  = "Enrol an MFA device."
	NextInconclusive = "Ask the user whether these sign-ins were theirs and what the MFA prompt showed; do not reset MFA yet."
)

// evidence is what Assess derives from its inputs.
type evidence struct {
	who          string
	count        int // failures in the window
	first, last  time.Time
	ips          []string // distinct failing addresses
	successes    []Login
	baseline     bool     // successful sign-ins are known
	newIPs       []string // failing addresses never seen in a success
	newAgents    []string // failing browsers never seen in a success
	successSince *Login   // a success after the first failure
}

// Assess decides what the evidence points to, why (one or two sentences)
// and what the responder should do next. It is pure: failures are the
// failed sign-ins of the window, logins the user's recent successful ones
// (newest first or in any order), devices the user's MFA devices, and ok
// says which of those could be fetched.
//
// In order: no_mfa_device when IAM lists no device; looks_like_someone_else
// when the alert is a brute force or password spray, the failures come from
// ManyIPs or more addresses, or from an address or browser the user has not
// signed in from successfully; token_expiry_consistent when fewer than
// PersistentCount failures sit within TokenExpiryWindow of a successful MFA
// sign-in from the same address (before them, or just after them), or
// detection already judged token expiry likely; persistent_failures when
// PersistentCount or more failures come from the user's usual addresses with
// no success since; otherwise inconclusive.
func Assess(inc *incident.Incident, failures, logins []Login, devices []Device, ok StepsOK) (Finding, string, string) {
	if inc == nil {
		inc = &incident.Incident{}
	}
	e := gather(inc, failures, logins, ok)
	gaps := gapsNote(inc, ok)
	someone := someoneElseReasons(inc, e)

	if ok.Devices && len(devices) == 0 && inc.Subject.Kind == incident.KindUser {
		why := fmt.Sprintf("IAM lists no MFA device for %s, so MFA cannot be what fails.", e.who)
		next := NextNoMFADevice
		if len(someone) > 0 {
			why += " The failures also look like someone else: " + someone[0] + "."
			next = "Enrol an MFA device, and treat the failures as a possible compromise: escalate and prefer a password reset."
		}
		return NoMFADevice, why + gaps, next
	}
	if len(someone) > 0 {
		why := "The failures look like someone else: " + strings.Join(someone, "; ") + "."
		return SomeoneElse, why + gaps, NextSomeoneElse
	}
	if e.count < PersistentCount {
		if why := tokenExpiryWhy(inc, e); why != "" {
			return TokenExpiryConsistent, why + gaps, NextTokenExpiry
		}
	}
	if e.count >= PersistentCount && e.baseline && e.successSince == nil && inc.RecoveredAt == nil {
		why := fmt.Sprintf("%d failures in the last hour from %s, where %s usually signs in, and no successful sign-in since %s: a device out of sync fits.",
			e.count, strings.Join(e.ips, ", "), e.who, clock(e.first))
		return PersistentFailures, why + gaps, NextPersistent
	}
	return Inconclusive, inconclusiveWhy(e) + gaps, NextInconclusive
}

// gather derives the evidence.
func gather(inc *incident.Incident, failures, logins []Login, ok StepsOK) evidence {
	e := evidence{who: inc.Subject.User, first: inc.FirstSeen, last: inc.LastSeen}
	if e.who == "" {
		e.who = "the user"
	}
	ips := map[string]bool{}
	agents := map[string]string{} // family -> one full user agent
	for _, ip := range inc.SourceIPs {
		ips[ip] = true
	}
	for _, ua := range inc.UserAgents {
		agents[agentFamily(ua)] = ua
	}
	e.count = inc.Failures
	if ok.Failures && len(failures) > 0 {
		e.count = len(failures)
		e.first, e.last = failures[0].Time, failures[0].Time
		for _, f := range failures {
			if f.Time.Before(e.first) {
				e.first = f.Time
			}
			if f.Time.After(e.last) {
				e.last = f.Time
			}
			if f.SourceIP != "" {
				ips[f.SourceIP] = true
			}
			if f.UserAgent != "" {
				agents[agentFamily(f.UserAgent)] = f.UserAgent
			}
		}
	}
	for ip := range ips {
		e.ips = append(e.ips, ip)
	}
	slices.Sort(e.ips)

	if !ok.Logins {
		return e
	}
	knownIPs, knownAgents := map[string]bool{}, map[string]bool{}
	for _, l := range logins {
		if !strings.EqualFold(l.Outcome, "Success") {
			continue
		}
		e.successes = append(e.successes, l)
		knownIPs[l.SourceIP] = true
		knownAgents[agentFamily(l.UserAgent)] = true
		if !e.first.IsZero() && l.Time.After(e.first) && (e.successSince == nil || l.Time.Before(e.successSince.Time)) {
			e.successSince = &l
		}
	}
	e.baseline = len(e.successes) > 0
	if !e.baseline {
		return e
	}
	for _, ip := range e.ips {
		if !knownIPs[ip] {
			e.newIPs = append(e.newIPs, ip)
		}
	}
	for fam, ua := range agents {
		if fam != "" && !knownAgents[fam] {
			e.newAgents = append(e.newAgents, ua)
		}
	}
	slices.Sort(e.newAgents)
	return e
}

// someoneElseReasons lists why the failures may not be the user's.
func someoneElseReasons(inc *incident.Incident, e evidence) []string {
	var out []string
	switch inc.Classification {
	case incident.BruteForce:
		out = append(out, "the alert classified them as a brute force")
	case incident.PasswordSpray:
		out = append(out, "the alert classified them as part of a password spray")
	}
	if n := len(e.ips); n >= ManyIPs || inc.MoreSourceIPs {
		out = append(out, fmt.Sprintf("they come from %d different addresses", n))
	}
	if len(e.newIPs) > 0 {
		out = append(out, fmt.Sprintf("they come from %s, where %s has not signed in successfully recently", strings.Join(e.newIPs, ", "), e.who))
	} else if len(e.newAgents) > 0 {
		out = append(out, fmt.Sprintf("they come from a browser %s has not signed in with recently (%s)", e.who, truncate(e.newAgents[0], 120)))
	}
	return out
}

// tokenExpiryWhy explains why token expiry fits, or returns "".
func tokenExpiryWhy(inc *incident.Incident, e evidence) string {
	failing := map[string]bool{}
	for _, ip := range e.ips {
		failing[ip] = true
	}
	var before, after *Login
	for i := range e.successes {
		s := &e.successes[i]
		if !mfaYes(s.MFAUsed) || !failing[s.SourceIP] || e.first.IsZero() {
			continue
		}
		if gap := e.first.Sub(s.Time); gap >= 0 && gap <= TokenExpiryWindow && (before == nil || s.Time.After(before.Time)) {
			before = s
		}
		if gap := s.Time.Sub(e.last); gap > 0 && gap <= TokenExpiryWindow && (after == nil || s.Time.Before(after.Time)) {
			after = s
		}
	}
	n := plural(e.count, "failure", "failures")
	switch {
	case before != nil:
		return fmt.Sprintf("%s signed in with MFA from %s at %s, %s before the %s from the same address: a code that expired while being typed fits.",
			e.who, before.SourceIP, clock(before.Time), minutes(e.first.Sub(before.Time)), n)
	case after != nil:
		return fmt.Sprintf("%s signed in with MFA from %s at %s, %s after the %s from the same address: a mistyped or expired code fits.",
			e.who, after.SourceIP, clock(after.Time), minutes(after.Time.Sub(e.last)), n)
	case inc.PriorMFASuccess != nil:
		return fmt.Sprintf("The alert found a successful MFA sign-in at %s, shortly before the %s: a code that expired while being typed fits.",
			clock(*inc.PriorMFASuccess), n)
	case inc.Classification == incident.TokenExpiryLikely:
		return fmt.Sprintf("Detection judged token expiry likely (%s), and there are only %s.", inc.Reason, n)
	}
	return ""
}

// inconclusiveWhy explains why no pattern fits.
func inconclusiveWhy(e evidence) string {
	switch {
	case !e.baseline:
		return fmt.Sprintf("%s, and no recent successful sign-in of %s to compare them with.", capitalize(plural(e.count, "failure", "failures")), e.who)
	case e.count < PersistentCount:
		return fmt.Sprintf("Only %s from addresses %s uses, with no successful MFA sign-in close to them.", plural(e.count, "failure", "failures"), e.who)
	default:
		return fmt.Sprintf("%s from addresses %s uses, but a successful sign-in followed.", capitalize(plural(e.count, "failure", "failures")), e.who)
	}
}

// gapsNote names the user steps that produced no evidence.
func gapsNote(inc *incident.Incident, ok StepsOK) string {
	if inc.Subject.Kind != incident.KindUser {
		return ""
	}
	var gaps []string
	if !ok.Failures {
		gaps = append(gaps, "the failed sign-ins")
	}
	if !ok.Logins {
		gaps = append(gaps, "the recent sign-ins")
	}
	if !ok.Devices {
		gaps = append(gaps, "the MFA devices")
	}
	if len(gaps) == 0 {
		return ""
	}
	return " (Could not check " + strings.Join(gaps, ", ") + ".)"
}

// versionRun matches version numbers in a user agent.
var versionRun = regexp.MustCompile(`[0-9][0-9._]*`)

// agentFamily strips version numbers from a user agent, so that a browser
// update does not make the user's own browser look new.
func agentFamily(ua string) string {
	return strings.TrimSpace(versionRun.ReplaceAllString(ua, ""))
}

func mfaYes(v string) bool { return strings.EqualFold(strings.TrimSpace(v), "yes") }

func clock(t time.Time) string { return t.UTC().Format("15:04 UTC") }

func minutes(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	if m < 1 {
		return "under a minute"
	}
	return plural(m, "minute", "minutes")
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

package detect

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
)

// addFailure folds one failure into an incident.
func (e *Engine) addFailure(inc *incident.Incident, ev cloudtrail.SignIn) {
	inc.Failures++
	if inc.FirstSeen.IsZero() || ev.Time.Before(inc.FirstSeen) {
		inc.FirstSeen = ev.Time
		inc.FirstEventID = ev.EventID
	}
	if !ev.Time.Before(inc.LastSeen) {
		inc.LastSeen = ev.Time
		inc.LastEventID = ev.EventID
		inc.LastRegion = ev.Region
	}
	if inc.FirstEventID == "" {
		inc.FirstEventID = ev.EventID
	}
	switch stageOf(ev) {
	case incident.StageMFA:
		inc.MFAYes++
	case incident.StagePassword:
		inc.MFANo++
	default:
		inc.MFAUnknown++
	}
	if ev.SourceIP != "" && !addString(&inc.SourceIPs, ev.SourceIP, incident.MaxSourceIPs) {
		inc.MoreSourceIPs = true
	}
	addString(&inc.UserAgents, ev.UserAgent, incident.MaxUserAgents)
	addString(&inc.Regions, ev.Region, incident.MaxRegions)

	if inc.Subject.Kind != incident.KindSourceIP {
		f := incident.Failure{Time: ev.Time, SourceIP: ev.SourceIP}
		i, _ := slices.BinarySearchFunc(inc.Recent, f, func(a, b incident.Failure) int { return a.Time.Compare(b.Time) })
		inc.Recent = slices.Insert(inc.Recent, i, f)
		if n := len(inc.Recent) - e.cfg.recentCap(); n > 0 {
			inc.Recent = slices.Delete(inc.Recent, 0, n)
		}
	}
	if ev.Time.After(inc.UpdatedAt) {
		inc.UpdatedAt = ev.Time
	}
}

// addString adds v to the sorted set *set unless it is empty, present, or
// the set holds max values already. It reports false only when v was left
// out for lack of room.
func addString(set *[]string, v string, max int) bool {
	if v == "" {
		return true
	}
	i, found := slices.BinarySearch(*set, v)
	if found {
		return true
	}
	if len(*set) >= max {
		return false
	}
	*set = slices.Insert(*set, i, v)
	return true
}

// classify sets the incident's classification, reason, severity and stage
// from its evidence. Classification and severity only ever go up: what an
// incident was shown to be stays on the record.
func (e *Engine) classify(inc *incident.Incident) {
	c, reason := e.evaluate(inc)
	if c.Rank() >= inc.Classification.Rank() {
		inc.Classification, inc.Reason = c, reason
	}
	sev := incident.Medium
	if inc.Subject.Kind == incident.KindRoot || inc.Classification == incident.BruteForce || inc.Classification == incident.PasswordSpray {
		sev = incident.High
	}
	if sev.Rank() > inc.Severity.Rank() {
		inc.Severity = sev
	}
	inc.Stage = inc.DeriveStage()
}

// evaluate applies the rules in precedence order.
func (e *Engine) evaluate(inc *incident.Incident) (incident.Classification, string) {
	cfg := e.cfg
	if inc.Subject.Kind == incident.KindSourceIP {
		n := inc.TargetCount + inc.UnknownTargets
		return incident.PasswordSpray, fmt.Sprintf("%d user names (%d unknown) failed from %s within %s",
			n, inc.UnknownTargets, inc.Subject.SourceIP, short(cfg.SprayWindow))
	}
	if n := maxInWindow(inc.Recent, cfg.BruteForceWindow); n >= cfg.BruteForceCount {
		return incident.BruteForce, fmt.Sprintf("%d failures, at least %d of them within %s", inc.Failures, n, short(cfg.BruteForceWindow))
	}
	if n := maxIPsInWindow(inc.Recent, cfg.BruteForceWindow); n >= cfg.BruteForceIPs {
		return incident.BruteForce, fmt.Sprintf("failures from %d source IPs within %s", n, short(cfg.BruteForceWindow))
	}
	if p := inc.PriorMFASuccess; p != nil {
		return incident.TokenExpiryLikely, fmt.Sprintf("successful MFA sign-in at %s, %s before the first failure",
			p.UTC().Format(time.RFC3339), short(inc.FirstSeen.Sub(*p)))
	}
	if n := maxInWindow(inc.Recent, cfg.RepeatedWindow); n >= cfg.RepeatedCount {
		return incident.RepeatedFailures, fmt.Sprintf("%d failures within %s", n, short(cfg.RepeatedWindow))
	}
	if inc.Failures == 1 {
		return incident.IsolatedFailure, "a single failure and no successful MFA sign-in in the " + short(cfg.TokenExpiryWindow) + " before it"
	}
	return incident.IsolatedFailure, fmt.Sprintf("%d failures, fewer than %d within any %s", inc.Failures, cfg.RepeatedCount, short(cfg.RepeatedWindow))
}

// maxInWindow is the largest number of failures (sorted by time) within
// any span of length w.
func maxInWindow(fs []incident.Failure, w time.Duration) int {
	best, j := 0, 0
	for i := range fs {
		for fs[i].Time.Sub(fs[j].Time) > w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// maxIPsInWindow is the largest number of distinct source addresses among
// failures within any span of length w.
func maxIPsInWindow(fs []incident.Failure, w time.Duration) int {
	best := 0
	for j := range fs {
		seen := map[string]bool{}
		for i := j; i < len(fs) && fs[i].Time.Sub(fs[j].Time) <= w; i++ {
			if fs[i].SourceIP != "" {
				seen[fs[i].SourceIP] = true
			}
		}
		best = max(best, len(seen))
	}
	return best
}

// short formats a duration without trailing zero units ("5m", "4m10s").
func short(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

package detect

import (
	"fmt"
	"strings"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
)

// spray counts a failure toward its source address. When the address is
// already spraying, the failure joins that incident; when this failure makes
// it one, the spray incident opens and absorbs its targets' incidents that
// it explains. handled reports whether the failure was taken.
func (e *Engine) spray(st State, ev cloudtrail.SignIn, subject incident.Subject, named bool) (changed []*incident.Incident, handled bool, err error) {
	src := incident.Subject{Kind: incident.KindSourceIP, Account: ev.Account, SourceIP: ev.SourceIP}
	target := HiddenTargetPrefix + ev.EventID
	if named {
		target = subject.Key()
	}
	stage := stageOf(ev)

	cur, err := st.LatestIncident(src.Key())
	if err != nil {
		return nil, false, fmt.Errorf("latest incident of %s: %w", src.Key(), err)
	}
	if cur != nil && e.accepts(cur, ev.Time) {
		tally, err := st.TouchIPTarget(ev.Account, ev.SourceIP, target, ev.Time, cur.FirstSeen, stage)
		if err != nil {
			return nil, false, fmt.Errorf("tally %s: %w", src.Key(), err)
		}
		e.addFailure(cur, ev)
		if tally.Count == 1 {
			addTarget(cur, target)
		}
		e.classify(cur)
		if err := st.PutIncident(cur); err != nil {
			return nil, false, fmt.Errorf("put incident: %w", err)
		}
		return []*incident.Incident{cur}, true, nil
	}

	since := ev.Time.Add(-e.cfg.SprayWindow)
	if _, err := st.TouchIPTarget(ev.Account, ev.SourceIP, target, ev.Time, since, stage); err != nil {
		return nil, false, fmt.Errorf("tally %s: %w", src.Key(), err)
	}
	targets, err := st.IPTargets(ev.Account, ev.SourceIP, since)
	if err != nil {
		return nil, false, fmt.Errorf("targets of %s: %w", src.Key(), err)
	}
	if len(targets) < e.cfg.SprayUsers {
		return nil, false, nil
	}

	inc := &incident.Incident{Subject: src, Status: incident.StatusOpen}
	for _, tg := range targets {
		inc.Failures += tg.Count
		inc.MFAYes += tg.MFAYes
		inc.MFANo += tg.MFANo
		inc.MFAUnknown += tg.MFAUnknown
		if inc.FirstSeen.IsZero() || tg.First.Before(inc.FirstSeen) {
			inc.FirstSeen = tg.First
		}
		if tg.Last.After(inc.LastSeen) {
			inc.LastSeen = tg.Last
		}
		addTarget(inc, tg.Target)
	}
	inc.SourceIPs = []string{ev.SourceIP}
	addString(&inc.UserAgents, ev.UserAgent, incident.MaxUserAgents)
	addString(&inc.Regions, ev.Region, incident.MaxRegions)
	inc.FirstEventID, inc.LastEventID, inc.LastRegion = ev.EventID, ev.EventID, ev.Region
	inc.UpdatedAt = ev.Time
	e.classify(inc)
	if err := st.PutIncident(inc); err != nil {
		return nil, false, fmt.Errorf("put incident: %w", err)
	}
	changed = []*incident.Incident{inc}

	for _, tg := range targets {
		if strings.HasPrefix(tg.Target, HiddenTargetPrefix) {
			continue
		}
		m, err := st.LatestIncident(tg.Target)
		if err != nil {
			return nil, false, fmt.Errorf("latest incident of %s: %w", tg.Target, err)
		}
		if !explains(inc, m) {
			continue
		}
		if err := m.Move(incident.StatusMerged, ev.Time); err != nil {
			return nil, false, err
		}
		m.MergedInto = inc.ID
		if err := st.PutIncident(m); err != nil {
			return nil, false, fmt.Errorf("put incident: %w", err)
		}
		changed = append(changed, m)
	}
	return changed, true, nil
}

// explains reports whether a spray incident accounts for a target's
// incident: it is open, not a brute force, and every failure in it came from
// the spraying address during the spray.
func explains(spray, m *incident.Incident) bool {
	return m != nil && m.Status.Active() &&
		m.Classification != incident.BruteForce &&
		len(m.SourceIPs) == 1 && !m.MoreSourceIPs && m.SourceIPs[0] == spray.SourceIPs[0] &&
		!m.FirstSeen.Before(spray.FirstSeen)
}

// addTarget lists a spray target: a person's name, or one more hidden name.
func addTarget(inc *incident.Incident, target string) {
	if strings.HasPrefix(target, HiddenTargetPrefix) {
		inc.UnknownTargets++
		return
	}
	inc.TargetCount++
	addString(&inc.Targets, targetName(target), incident.MaxTargets)
}

// targetName turns a target's subject key into the name responders know.
func targetName(key string) string {
	parts := strings.Split(key, "|")
	if parts[0] == string(incident.KindRoot) {
		return "root"
	}
	return parts[len(parts)-1]
}

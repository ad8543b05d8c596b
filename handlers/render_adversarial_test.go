package handlers

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/investigate"
)

// evilInput is outside input trying to notify everyone, impersonate and link.
const evilInput = "<!channel> & <@U0BOSS|boss> @here <https://evilInput.example|click> `x` *b*"

// adversarialIncident carries oversized and hostile values everywhere.
func adversarialIncident(kind incident.Kind) *incident.Incident {
	inc := fxTokenExpiry()
	inc.ID = "INC-" + strings.Repeat("9", 18)
	inc.Subject = incident.Subject{Kind: kind, Account: evilInput, User: evilInput + strings.Repeat("é&", 300), SourceIP: evilInput}
	inc.Reason = strings.Repeat(evilInput, 100)
	inc.UserAgents = nil
	for i := range 10 {
		inc.UserAgents = append(inc.UserAgents, fmt.Sprintf("%d %s", i, strings.Repeat("<&>"+evilInput, 3000/len(evilInput))))
	}
	inc.SourceIPs = nil
	for i := range 200 {
		inc.SourceIPs = append(inc.SourceIPs, fmt.Sprintf("2001:db8::%x<>&%s", i, evilInput))
	}
	inc.MoreSourceIPs = true
	for i := range 500 {
		inc.Targets = append(inc.Targets, fmt.Sprintf("%d%s", i, evilInput))
		inc.Regions = append(inc.Regions, evilInput)
	}
	inc.TargetCount, inc.UnknownTargets = 500, 1<<30
	inc.MergedInto = evilInput
	return inc
}

func adversarialOutputs() []renderCase {
	var out []renderCase
	long := strings.Repeat(evilInput+"\n", 200)
	reset := incident.Reset{IncidentID: evilInput, Status: incident.ResetFailed, RequestedBy: evilInput, DecidedBy: evilInput,
		Verification: long, Reason: long, Error: long, Command: long + "```", Devices: strings.Split(long, "\n")}
	var entries []incident.Entry
	for i := range 300 {
		entries = append(entries, incident.Entry{Time: fxAt(time.Duration(i) * time.Minute), Actor: evilInput, Action: long, Outcome: long, Detail: long})
	}
	var incs []*incident.Incident
	kinds := []incident.Kind{incident.KindUser, incident.KindRoot, incident.KindSourceIP, incident.KindIdentityCenterUser}
	for _, kind := range kinds {
		for _, status := range []incident.Status{incident.StatusOpen, incident.StatusRecovered, incident.StatusResolved, incident.StatusMerged} {
			inc := adversarialIncident(kind)
			inc.Status = status
			inc.RecoveredAt, inc.ResolvedAt = fxTimePtr(fxAt(time.Hour)), fxTimePtr(fxAt(40*24*time.Hour))
			incs = append(incs, inc)
			for _, st := range []incident.ResetStatus{incident.ResetPending, incident.ResetFailed, incident.ResetStatus(evilInput)} {
				r := reset
				r.Status = st
				v := AlertView{Incident: inc, Links: Links{CloudTrailEvent: "https://x/" + long, LogsInsights: "javascript:" + evilInput, Runbook: "https://ok/|<>&" + evilInput},
					Reset: &r, Answer: incident.Answer(evilInput), NotifiedUser: evilInput, Recent90d: 1 << 20, ResolvedBy: evilInput, Resolution: long}
				name := fmt.Sprintf("%s/%s/%s", kind, status, st)
				out = append(out, renderCase{"alert " + name, AlertMessage(v)}, renderCase{"show " + name, ShowMessage(v, entries)},
					renderCase{"reset " + name, ResetPrompt(r, inc)})
			}
			out = append(out, renderCase{"dm " + string(kind), UserDM(inc, incident.AnswerNone)},
				renderCase{"reenrol " + string(kind), ReEnrolDM(inc, strings.Split(long, "\n"), long)})
		}
	}
	var logins []investigate.Login
	for range 100 {
		logins = append(logins, investigate.Login{Outcome: evilInput, MFAUsed: evilInput, SourceIP: evilInput, UserAgent: long, Region: evilInput, Error: long})
	}
	var steps []investigate.Step
	var devices []investigate.Device
	for range 30 {
		steps = append(steps, investigate.Step{Name: long, Err: long})
		devices = append(devices, investigate.Device{Serial: long})
	}
	report := investigate.Report{IncidentID: evilInput, User: long, Account: evilInput, Window: time.Hour, Failures: logins,
		Logins: logins, Devices: devices, Steps: steps, Finding: investigate.Finding(evilInput), Why: long, Next: long}
	byClass := map[incident.Classification]int{}
	for i := range 50 {
		byClass[incident.Classification(fmt.Sprint(i, evilInput))] = i
	}
	return append(out,
		renderCase{"investigation", InvestigationMessage(report)},
		renderCase{"list", ListMessage(incs)},
		renderCase{"stats", StatsMessage(Stats{ByClassification: byClass, MedianResolution: 1 << 62})},
		renderCase{"not allowed", NotAllowed(long)},
		renderCase{"error", ErrorMessage(&UserError{Msg: long})},
		renderCase{"no slack user", NoSlackUser(long, strings.Split(long, "\n"))},
		renderCase{"timeline", TimelineLine(entries[0])},
		renderCase{"timeline evilInput", TimelineLine(incident.Entry{Actor: evilInput, Action: evilInput, Outcome: evilInput, Detail: evilInput})},
		renderCase{"not allowed evilInput", NotAllowed(evilInput)},
		renderCase{"approve modal", ApproveModal(evilInput, long)},
		renderCase{"deny modal", DenyModal(evilInput)},
	)
}

// injectedMarkup lists what must never reach Slack unescaped.
var injectedMarkup = []string{"<!channel", "<@U0BOSS", "<https://evilInput", "@here", "\n```\n"}

func TestAdversarialInputStaysWithinLimitsAndEscaped(t *testing.T) {
	t.Parallel()
	for _, c := range adversarialOutputs() {
		checkSlackLimits(t, c.name, c.out)
		var texts []string
		shownStrings(t, goldenJSON(t, c.out), &texts)
		total := 0
		for _, s := range texts {
			total += len([]rune(s))
			for _, bad := range injectedMarkup {
				if strings.Contains(s, bad) {
					t.Fatalf("%s: %q appears unescaped in %q", c.name, bad, Truncate(s, 300))
				}
			}
		}
		// Slack has refused messages of about 13k characters of blocks.
		if total > 12000 {
			t.Fatalf("%s: %d characters in all, want at most 12000", c.name, total)
		}
	}
}

// shownStrings gathers every string Slack shows from a JSON document.
func shownStrings(t *testing.T, raw []byte, out *[]string) {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			*out = append(*out, x)
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			for k, e := range x {
				// Button values and modal metadata are data, never shown.
				if k != "value" && k != "private_metadata" {
					walk(e)
				}
			}
		}
	}
	walk(v)
}

package detect

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
)

func TestPasswordSprayAbsorbsItsTargets(t *testing.T) {
	m, no := time.Minute, cloudtrail.MFANo
	events := []ev{
		fail("u1", 0, ipB, no),
		fail("u2", m, ipB, no),
		hidden(2*m, ipB),
		fail("u3", 3*m, ipB, no),
		fail("victim", 3*m, ipA, cloudtrail.MFAYes), // the victim's own failure from elsewhere
		hidden(4*m, ipB),                            // the fifth name: spray
		fail("victim", 5*m, ipB, no),                // joins the spray, not the victim's incident
		fail("u1", 6*m, ipB, no),                    // a name already tried
	}
	st, _ := run(t, DefaultConfig(), events)
	incs := st.Incidents()

	var spray *incident.Incident
	active := map[string]incident.Status{}
	for _, inc := range incs {
		if inc.Subject.Kind == incident.KindSourceIP {
			spray = inc
			continue
		}
		active[inc.Subject.User] = inc.Status
	}
	if spray == nil {
		t.Fatalf("no spray incident among %d incidents", len(incs))
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"classification", spray.Classification, incident.PasswordSpray},
		{"severity", spray.Severity, incident.High},
		{"source IP", spray.Subject.SourceIP, ipB},
		{"account", spray.Subject.Account, acct},
		{"failures", spray.Failures, 7},
		{"known targets", spray.TargetCount, 4},
		{"unknown targets", spray.UnknownTargets, 2},
		{"targets", slices.Equal(spray.Targets, []string{"u1", "u2", "u3", "victim"}), true},
		{"first seen", spray.FirstSeen, t0},
		{"last seen", spray.LastSeen, t0.Add(6 * m)},
		{"stage", spray.Stage, incident.StagePassword},
		{"u1 merged", active["u1"], incident.StatusMerged},
		{"u2 merged", active["u2"], incident.StatusMerged},
		{"u3 merged", active["u3"], incident.StatusMerged},
		{"victim's own incident stays open", active["victim"], incident.StatusOpen},
		{"reason", spray.Reason, "6 user names (2 unknown) failed from 203.0.113.9 within 10m"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.what, c.got, c.want)
		}
	}
	for _, inc := range incs {
		if inc.Status == incident.StatusMerged && inc.MergedInto != spray.ID {
			t.Errorf("%s merged into %q, want %q", inc.ID, inc.MergedInto, spray.ID)
		}
	}
}

func TestSprayWindow(t *testing.T) {
	// Five names from one address, but spread over more than ten minutes.
	m, no := time.Minute, cloudtrail.MFANo
	events := []ev{fail("u1", 0, ipB, no), fail("u2", 3*m, ipB, no), fail("u3", 6*m, ipB, no),
		fail("u4", 9*m, ipB, no), fail("u5", 10*m+time.Second, ipB, no)}
	st, _ := run(t, DefaultConfig(), events)
	for _, inc := range st.Incidents() {
		if inc.Subject.Kind == incident.KindSourceIP {
			t.Fatalf("spray opened for names over %v", inc.LastSeen.Sub(inc.FirstSeen))
		}
	}
	if got, want := len(st.Incidents()), 5; got != want {
		t.Fatalf("incidents: got %d, want %d", got, want)
	}
}

func TestDedupe(t *testing.T) {
	a := fail("omar", 0, ipA, cloudtrail.MFAYes)
	otherAccount := with(a, func(e *ev) { e.Account = "444455556666" })
	otherTrail := a // the same record delivered by a second trail or source
	st, effects := run(t, DefaultConfig(), []ev{a, otherTrail, otherAccount, otherTrail})
	want := []Effect{Failed, Duplicate, Failed, Duplicate}
	if !slices.Equal(effects, want) {
		t.Fatalf("effects: got %v, want %v", effects, want)
	}
	incs := st.Incidents()
	if len(incs) != 2 || incs[0].Failures != 1 || incs[1].Failures != 1 {
		t.Fatalf("incidents: got %d (%v), want two with one failure each", len(incs), incs)
	}
}

func TestClassificationNeverGoesDown(t *testing.T) {
	m, y := time.Minute, cloudtrail.MFAYes
	events := repeat(10, func(i int) ev { return fail("lee", time.Duration(i)*m, ipA, y) })
	events = append(events, fail("lee", 25*m, ipA, y)) // the window has passed
	st, _ := run(t, DefaultConfig(), events)
	inc := st.Incidents()[0]
	if inc.Classification != incident.BruteForce || inc.Severity != incident.High || inc.Failures != 11 {
		t.Fatalf("got %s %s %d, want brute_force high 11", inc.Classification, inc.Severity, inc.Failures)
	}
}

func TestReasons(t *testing.T) {
	m, y := time.Minute, cloudtrail.MFAYes
	tests := []struct {
		events []ev
		want   string
	}{
		{[]ev{success("p", 0), fail("p", 4*m+10*time.Second, ipA, y)}, "successful MFA sign-in at 2026-03-04T08:00:00Z, 4m10s before the first failure"},
		{[]ev{fail("p", 0, ipA, y)}, "a single failure and no successful MFA sign-in in the 15m before it"},
		{[]ev{fail("p", 0, ipA, y), fail("p", m, ipA, y), fail("p", 2*m, ipA, y)}, "3 failures within 5m"},
		{[]ev{fail("p", 0, ipA, y), fail("p", m, ipB, y), fail("p", 2*m, ipC, y)}, "failures from 3 source IPs within 10m"},
	}
	for _, tt := range tests {
		st, _ := run(t, DefaultConfig(), tt.events)
		if got := st.Incidents()[0].Reason; got != tt.want {
			t.Errorf("reason: got %q, want %q", got, tt.want)
		}
	}
}

func TestConfigValidateReportsEveryKey(t *testing.T) {
	c := DefaultConfig()
	c.GroupGap = 0
	c.SprayUsers = 1
	c.RepeatedCount = 20
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate: got nil, want errors")
	}
	for _, key := range []string{"group_gap", "spray_users", "repeated_count"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %q does not name %s", err, key)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
}

func TestConfigurableThresholds(t *testing.T) {
	cfg := DefaultConfig()
	cfg.TokenExpiryWindow = 2 * time.Minute
	cfg.RepeatedCount = 2
	m, y := time.Minute, cloudtrail.MFAYes
	st, _ := run(t, cfg, []ev{success("p", 0), fail("p", 3*m, ipA, y), fail("p", 4*m, ipA, y)})
	if got := st.Incidents()[0].Classification; got != incident.RepeatedFailures {
		t.Fatalf("classification: got %s, want repeated_failures", got)
	}
}

package detect

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/incident"
)

var t0 = time.Date(2026, 3, 4, 8, 0, 0, 0, time.UTC)

const acct = "111122223333"

// ev builds sign-in events for the tables; each gets a unique event id
// unless the test sets one.
type ev = cloudtrail.SignIn

var evSeq int

func nextID() string { evSeq++; return fmt.Sprintf("ev-%04d", evSeq) }

func fail(user string, at time.Duration, ip string, mfa cloudtrail.MFAUsed) ev {
	return ev{EventID: nextID(), Account: acct, Time: t0.Add(at), Name: cloudtrail.EventConsoleLogin,
		Outcome: cloudtrail.Failure, MFAUsed: mfa, IdentityType: cloudtrail.IdentityIAMUser, UserName: user,
		SourceIP: ip, Region: "us-east-1", ErrorMessage: "Failed authentication", UserAgent: "Mozilla/5.0"}
}

func success(user string, at time.Duration) ev {
	return ev{EventID: nextID(), Account: acct, Time: t0.Add(at), Name: cloudtrail.EventConsoleLogin,
		Outcome: cloudtrail.Success, MFAUsed: cloudtrail.MFAYes, IdentityType: cloudtrail.IdentityIAMUser, UserName: user,
		SourceIP: "198.51.100.7", Region: "eu-north-1"}
}

func hidden(at time.Duration, ip string) ev {
	e := fail("", at, ip, cloudtrail.MFANo)
	e.Hidden = true
	e.ErrorMessage = "No username found in supplied account"
	return e
}

func rootFail(at time.Duration) ev {
	e := fail("", at, "203.0.113.5", cloudtrail.MFAYes)
	e.IdentityType = cloudtrail.IdentityRoot
	return e
}

func samlSuccess(session string, at time.Duration) ev {
	e := success("", at)
	e.IdentityType = cloudtrail.IdentityAssumedRole
	e.MFAUsed = cloudtrail.MFANo
	e.SAML = true
	e.ARN = "arn:aws:sts::" + acct + ":assumed-role/Okta/" + session
	return e
}

func idcVerify(user string, at time.Duration, cred string, out cloudtrail.Outcome) ev {
	return ev{EventID: nextID(), Account: acct, Time: t0.Add(at), Name: cloudtrail.EventCredentialVerification,
		Outcome: out, MFAUsed: cloudtrail.MFAUnknown, IdentityType: cloudtrail.IdentityIdentityCenterUser,
		UserName: user, IdentityCenterUserID: "uid-" + user, CredentialType: cred, SourceIP: "198.51.100.61", Region: "eu-west-1"}
}

func with(e ev, f func(*ev)) ev { f(&e); return e }

// want describes an incident by the fields the rules decide.
type want struct {
	kind     incident.Kind
	subject  string // user name, source IP, or "" for root
	class    incident.Classification
	severity incident.Severity
	stage    incident.Stage
	failures int
	status   incident.Status
	prior    string // "" for none, else the offset from t0, e.g. "5m0s"
}

func (w want) String() string {
	return fmt.Sprintf("%s %q %s %s %s failures=%d %s prior=%q", w.kind, w.subject, w.class, w.severity, w.stage, w.failures, w.status, w.prior)
}

func describe(inc *incident.Incident) want {
	w := want{kind: inc.Subject.Kind, subject: inc.Subject.User, class: inc.Classification, severity: inc.Severity,
		stage: inc.Stage, failures: inc.Failures, status: inc.Status}
	if inc.Subject.Kind == incident.KindSourceIP {
		w.subject = inc.Subject.SourceIP
	}
	if inc.PriorMFASuccess != nil {
		w.prior = inc.PriorMFASuccess.Sub(t0).String()
	}
	return w
}

const (
	ipA = "198.51.100.7"
	ipB = "203.0.113.9"
	ipC = "192.0.2.44"
	ipD = "192.0.2.45"
)

func TestClassification(t *testing.T) {
	m, y, no, unk := time.Minute, cloudtrail.MFAYes, cloudtrail.MFANo, cloudtrail.MFAUnknown
	open, user := incident.StatusOpen, incident.KindUser
	tests := []struct {
		name   string
		events []ev
		want   []want
	}{
		{"token expiry: MFA success 5 min before the failure",
			[]ev{success("priya", 0), fail("priya", 5*m, ipA, y)},
			[]want{{user, "priya", incident.TokenExpiryLikely, incident.Medium, incident.StageMFA, 1, open, "0s"}}},
		{"token expiry window is inclusive at 15 min",
			[]ev{success("priya", 0), fail("priya", 15*m, ipA, y)},
			[]want{{user, "priya", incident.TokenExpiryLikely, incident.Medium, incident.StageMFA, 1, open, "0s"}}},
		{"success 15 min and 1 s before is too old",
			[]ev{success("priya", 0), fail("priya", 15*m+time.Second, ipA, y)},
			[]want{{user, "priya", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"another user's success does not corroborate",
			[]ev{success("omar", 0), fail("priya", 5*m, ipA, y)},
			[]want{{user, "priya", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"success arriving after the failure still corroborates",
			[]ev{fail("priya", 10*m, ipA, y), success("priya", 2*m)},
			[]want{{user, "priya", incident.TokenExpiryLikely, incident.Medium, incident.StageMFA, 1, open, "2m0s"}}},
		{"repeated: 3 failures within 5 min",
			[]ev{fail("omar", 0, ipA, y), fail("omar", 2*m, ipA, y), fail("omar", 5*m, ipA, y)},
			[]want{{user, "omar", incident.RepeatedFailures, incident.Medium, incident.StageMFA, 3, open, ""}}},
		{"3 failures over 6 min are not repeated",
			[]ev{fail("omar", 0, ipA, y), fail("omar", 3*m, ipA, y), fail("omar", 6*m, ipA, y)},
			[]want{{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 3, open, ""}}},
		{"brute force: 10 failures within 10 min",
			repeat(10, func(i int) ev { return fail("lee", time.Duration(i)*m, ipA, y) }),
			[]want{{user, "lee", incident.BruteForce, incident.High, incident.StageMFA, 10, open, ""}}},
		{"9 failures within 10 min are only repeated",
			repeat(9, func(i int) ev { return fail("lee", time.Duration(i)*m, ipA, y) }),
			[]want{{user, "lee", incident.RepeatedFailures, incident.Medium, incident.StageMFA, 9, open, ""}}},
		{"brute force: failures from 3 source IPs within 10 min",
			[]ev{fail("lee", 0, ipA, no), fail("lee", 4*m, ipB, no), fail("lee", 9*m, ipC, no)},
			[]want{{user, "lee", incident.BruteForce, incident.High, incident.StagePassword, 3, open, ""}}},
		{"3 source IPs spread over 11 min are not brute force",
			[]ev{fail("lee", 0, ipA, no), fail("lee", 6*m, ipB, no), fail("lee", 11*m, ipC, no)},
			[]want{{user, "lee", incident.IsolatedFailure, incident.Medium, incident.StagePassword, 3, open, ""}}},
		{"brute force outranks token expiry",
			append([]ev{success("lee", 0)}, repeat(10, func(i int) ev { return fail("lee", m+time.Duration(i)*30*time.Second, ipA, y) })...),
			[]want{{user, "lee", incident.BruteForce, incident.High, incident.StageMFA, 10, open, "0s"}}},
		{"token expiry outranks repeated failures",
			[]ev{success("priya", 0), fail("priya", m, ipA, y), fail("priya", 2*m, ipA, y), fail("priya", 3*m, ipA, y)},
			[]want{{user, "priya", incident.TokenExpiryLikely, incident.Medium, incident.StageMFA, 3, open, "0s"}}},
		{"stage password when MFAUsed is No",
			[]ev{fail("omar", 0, ipA, no)},
			[]want{{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StagePassword, 1, open, ""}}},
		{"stage unknown when MFAUsed is missing",
			[]ev{fail("omar", 0, ipA, unk)},
			[]want{{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageUnknown, 1, open, ""}}},
		{"stage mfa as soon as one failure reached the MFA step",
			[]ev{fail("omar", 0, ipA, no), fail("omar", m, ipA, y)},
			[]want{{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 2, open, ""}}},
		{"a lone hidden user name opens nothing",
			[]ev{hidden(0, ipB)},
			nil},
		{"root is its own subject with high severity",
			[]ev{rootFail(0)},
			[]want{{incident.KindRoot, "", incident.IsolatedFailure, incident.High, incident.StageMFA, 1, open, ""}}},
		{"a federated console login failure opens nothing",
			[]ev{with(fail("", 0, ipA, no), func(e *ev) { e.IdentityType = cloudtrail.IdentityAssumedRole })},
			nil},
		{"a SAML success never counts as a prior MFA success",
			[]ev{samlSuccess("priya", 0), fail("priya", 5*m, ipA, y)},
			[]want{{user, "priya", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"an IAM user success without MFA is no prior MFA success",
			[]ev{with(success("priya", 0), func(e *ev) { e.MFAUsed = cloudtrail.MFANo }), fail("priya", 5*m, ipA, y)},
			[]want{{user, "priya", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"Identity Center TOTP failure is an MFA failure",
			[]ev{idcVerify("sam", 0, "TOTP", cloudtrail.Failure)},
			[]want{{incident.KindIdentityCenterUser, "sam", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"Identity Center password failure is not an MFA failure",
			[]ev{idcVerify("sam", 0, "PASSWORD", cloudtrail.Failure)},
			nil},
		{"failures in different Regions group together",
			[]ev{fail("omar", 0, ipA, y), with(fail("omar", m, ipA, y), func(e *ev) { e.Region = "ap-southeast-2" }),
				with(fail("omar", 2*m, ipA, y), func(e *ev) { e.Region = "eu-north-1" })},
			[]want{{user, "omar", incident.RepeatedFailures, incident.Medium, incident.StageMFA, 3, open, ""}}},
		{"the same user name in two accounts is two subjects",
			[]ev{fail("omar", 0, ipA, y), with(fail("omar", m, ipA, y), func(e *ev) { e.Account = "444455556666" })},
			[]want{{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""},
				{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"failures 30 min apart group, 30 min and 1 s apart do not",
			[]ev{fail("omar", 0, ipA, y), fail("omar", 30*m, ipA, y), fail("omar", 60*m+time.Second, ipA, y)},
			[]want{{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 2, open, ""},
				{user, "omar", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, open, ""}}},
		{"a later MFA success recovers the incident",
			[]ev{fail("priya", 0, ipA, y), success("priya", 2*m)},
			[]want{{user, "priya", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, incident.StatusRecovered, ""}}},
		{"a failure after recovery opens a new incident",
			[]ev{fail("priya", 0, ipA, y), success("priya", 2*m), fail("priya", 3*m, ipA, y)},
			[]want{{user, "priya", incident.IsolatedFailure, incident.Medium, incident.StageMFA, 1, incident.StatusRecovered, ""},
				{user, "priya", incident.TokenExpiryLikely, incident.Medium, incident.StageMFA, 1, open, "2m0s"}}},
		{"a success never recovers a brute force",
			append(repeat(10, func(i int) ev { return fail("lee", time.Duration(i)*m, ipA, y) }), success("lee", 11*m)),
			[]want{{user, "lee", incident.BruteForce, incident.High, incident.StageMFA, 10, open, ""}}},
		{"root recovers on a later root MFA success",
			[]ev{rootFail(0), with(success("", m), func(e *ev) { e.IdentityType = cloudtrail.IdentityRoot })},
			[]want{{incident.KindRoot, "", incident.IsolatedFailure, incident.High, incident.StageMFA, 1, incident.StatusRecovered, ""}}},
		{"four user names from one IP are not a spray",
			[]ev{fail("u1", 0, ipB, no), fail("u2", m, ipB, no), fail("u3", 2*m, ipB, no), hidden(3*m, ipB)},
			[]want{{user, "u1", incident.IsolatedFailure, incident.Medium, incident.StagePassword, 1, open, ""},
				{user, "u2", incident.IsolatedFailure, incident.Medium, incident.StagePassword, 1, open, ""},
				{user, "u3", incident.IsolatedFailure, incident.Medium, incident.StagePassword, 1, open, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := run(t, DefaultConfig(), tt.events)
			var got []string
			for _, inc := range st.Incidents() {
				got = append(got, describe(inc).String())
			}
			var exp []string
			for _, w := range tt.want {
				exp = append(exp, w.String())
			}
			if g, w := strings.Join(got, "\n"), strings.Join(exp, "\n"); g != w {
				t.Fatalf("incidents:\ngot:\n%s\nwant:\n%s", g, w)
			}
		})
	}
}

func repeat(n int, f func(int) ev) []ev {
	out := make([]ev, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

// run applies events to a fresh MemState and returns it with the effects.
func run(t *testing.T, cfg Config, events []ev) (*MemState, []Effect) {
	t.Helper()
	e, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	st := NewMemState()
	var effects []Effect
	for _, x := range events {
		r, err := e.Apply(st, x)
		if err != nil {
			t.Fatalf("Apply(%s): %v", x.EventID, err)
		}
		effects = append(effects, r.Effect)
	}
	return st, effects
}

package simulate

import (
	"strings"
	"testing"
	"time"
)

// signInEvent is the part of a sign-in record the scenario tests look at.
type signInEvent struct {
	m    map[string]any
	t    time.Time
	name string
	ui   map[string]any
	data map[string]any
}

// outcome returns Success or Failure from responseElements or
// serviceEventDetails.
func (e signInEvent) outcome() string {
	if re, ok := e.m["responseElements"].(map[string]any); ok {
		if v, ok := re[e.name].(string); ok {
			return v
		}
	}
	if sd, ok := e.m["serviceEventDetails"].(map[string]any); ok {
		if v, ok := sd[e.name].(string); ok {
			return v
		}
	}
	return ""
}

// scenarioEvents generates one scenario alone and decodes its records.
func scenarioEvents(t *testing.T, name string, seed uint64) []signInEvent {
	t.Helper()
	recs, _ := collect(t, Options{Scenarios: []string{name}, Seed: seed})
	if len(recs) == 0 {
		t.Fatalf("%s: no records", name)
	}
	var out []signInEvent
	for _, raw := range recs {
		m := decode(t, raw)
		et, err := time.Parse(time.RFC3339, m["eventTime"].(string))
		if err != nil {
			t.Fatal(err)
		}
		e := signInEvent{m: m, t: et, name: m["eventName"].(string)}
		e.ui, _ = m["userIdentity"].(map[string]any)
		e.data, _ = m["additionalEventData"].(map[string]any)
		if got, want := m["eventSource"], "signin.amazonaws.com"; got != want {
			t.Fatalf("%s: eventSource = %v, want %v", name, got, want)
		}
		out = append(out, e)
	}
	return out
}

// failures returns the failed ConsoleLogin events.
func failures(evs []signInEvent) []signInEvent {
	var out []signInEvent
	for _, e := range evs {
		if e.name == evConsoleLogin && e.outcome() == "Failure" {
			out = append(out, e)
		}
	}
	return out
}

// checkIAMFailure checks the shape AWS gives an IAM user's failed sign-in.
func checkIAMFailure(t *testing.T, e signInEvent, user, mfa string) {
	t.Helper()
	if got, want := e.ui["type"], "IAMUser"; got != want {
		t.Fatalf("type = %v, want %v", got, want)
	}
	if got, want := e.ui["userName"], user; got != want {
		t.Fatalf("userName = %v, want %v", got, want)
	}
	if _, ok := e.ui["arn"]; ok {
		t.Fatalf("failure has an arn: %v", e.m)
	}
	if got, want := e.ui["accessKeyId"], ""; got != want {
		t.Fatalf("accessKeyId = %v, want empty", got)
	}
	if got, want := e.m["errorMessage"], errFailedAuth; got != want {
		t.Fatalf("errorMessage = %v, want %v", got, want)
	}
	if got := e.data["MFAUsed"].(string); !strings.EqualFold(got, mfa) {
		t.Fatalf("MFAUsed = %v, want %v", got, mfa)
	}
	if _, ok := e.data["MFAIdentifier"]; ok {
		t.Fatalf("failure has an MFAIdentifier")
	}
}

// checkIAMSuccess checks a successful MFA sign-in of an IAM user.
func checkIAMSuccess(t *testing.T, e signInEvent, user string) {
	t.Helper()
	if got, want := e.outcome(), "Success"; got != want {
		t.Fatalf("outcome = %v, want %v", got, want)
	}
	if arn, _ := e.ui["arn"].(string); !strings.HasSuffix(arn, "/"+user) {
		t.Fatalf("arn = %q, want one ending in /%s", arn, user)
	}
	if dev, _ := e.data["MFAIdentifier"].(string); !strings.HasPrefix(dev, "arn:aws:iam::"+DefaultAccount+":mfa/") {
		t.Fatalf("MFAIdentifier = %q", dev)
	}
}

func TestTokenExpiry(t *testing.T) {
	for seed := range uint64(20) {
		evs := scenarioEvents(t, ScenarioTokenExpiry, seed)
		fails := failures(evs)
		if n := len(fails); n < 1 || n > 2 {
			t.Fatalf("seed %d: %d failures, want 1 or 2", seed, n)
		}
		first, last := evs[0], evs[len(evs)-1]
		checkIAMSuccess(t, first, "nadia.kowalczyk")
		checkIAMSuccess(t, last, "nadia.kowalczyk")
		if gap := fails[0].t.Sub(first.t); gap < 5*time.Minute || gap > 12*time.Minute {
			t.Fatalf("seed %d: first failure %v after the success, want 5-12 minutes", seed, gap)
		}
		for _, f := range fails {
			checkIAMFailure(t, f, "nadia.kowalczyk", "Yes")
			if f.m["sourceIPAddress"] != first.m["sourceIPAddress"] || f.m["userAgent"] != first.m["userAgent"] {
				t.Fatalf("seed %d: failure from another address or browser", seed)
			}
		}
	}
}

func TestClockDrift(t *testing.T) {
	evs := scenarioEvents(t, ScenarioClockDrift, 1)
	fails := failures(evs)
	if len(fails) != len(evs) || len(fails) < 3 || len(fails) > 4 {
		t.Fatalf("%d events, %d failures: want 3-4 failures only", len(evs), len(fails))
	}
	if span := fails[len(fails)-1].t.Sub(fails[0].t); span > 4*time.Minute {
		t.Fatalf("failures span %v, want at most 4 minutes", span)
	}
	for _, f := range fails {
		checkIAMFailure(t, f, "tomas.lindqvist", "Yes")
	}
}

func TestWrongCode(t *testing.T) {
	evs := scenarioEvents(t, ScenarioWrongCode, 1)
	if got, want := len(evs), 2; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	checkIAMFailure(t, evs[0], "ines.moreau", "Yes")
	checkIAMSuccess(t, evs[1], "ines.moreau")
	if got, want := evs[1].t.Sub(evs[0].t), 40*time.Second; got != want {
		t.Fatalf("success %v after the failure, want %v", got, want)
	}
}

func TestUnknownUser(t *testing.T) {
	evs := scenarioEvents(t, ScenarioUnknownUser, 1)
	if got, want := len(evs), 1; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
	e := evs[0]
	if got, want := e.ui["userName"], hiddenUserName; got != want {
		t.Fatalf("userName = %v, want %v", got, want)
	}
	for _, k := range []string{"principalId", "arn"} {
		if _, ok := e.ui[k]; ok {
			t.Fatalf("hidden user has %s", k)
		}
	}
	if got, want := e.m["errorMessage"], errNoUsername; got != want {
		t.Fatalf("errorMessage = %v, want %v", got, want)
	}
}

func TestRoot(t *testing.T) {
	evs := scenarioEvents(t, ScenarioRoot, 1)
	if got := len(failures(evs)); got != len(evs) || got < 2 {
		t.Fatalf("%d failures of %d events", got, len(evs))
	}
	for _, e := range evs {
		if got, want := e.ui["type"], "Root"; got != want {
			t.Fatalf("type = %v, want %v", got, want)
		}
		if _, ok := e.ui["userName"]; ok {
			t.Fatalf("root has a userName")
		}
		if got, want := e.ui["principalId"], DefaultAccount; got != want {
			t.Fatalf("principalId = %v, want %v", got, want)
		}
		if got, want := e.ui["arn"], "arn:aws:iam::"+DefaultAccount+":root"; got != want {
			t.Fatalf("arn = %v, want %v", got, want)
		}
		if got, want := e.m["awsRegion"], "us-east-1"; got != want {
			t.Fatalf("awsRegion = %v, want %v", got, want)
		}
		if got := e.data["MFAUsed"].(string); !strings.EqualFold(got, "yes") {
			t.Fatalf("MFAUsed = %v", got)
		}
	}
}

func TestSSO(t *testing.T) {
	evs := scenarioEvents(t, ScenarioSSO, 1)
	var saml, idc *signInEvent
	for i := range evs {
		switch evs[i].name {
		case evConsoleLogin:
			saml = &evs[i]
		case evCredentialVerification:
			idc = &evs[i]
		}
	}
	if saml == nil || idc == nil {
		t.Fatalf("want a SAML ConsoleLogin and a CredentialVerification")
	}
	if got, want := saml.ui["type"], "AssumedRole"; got != want {
		t.Fatalf("SAML type = %v, want %v", got, want)
	}
	if got, want := saml.data["MFAUsed"], "No"; got != want {
		t.Fatalf("SAML MFAUsed = %v, want %v", got, want)
	}
	if p, _ := saml.data["SamlProviderArn"].(string); !strings.Contains(p, ":saml-provider/") {
		t.Fatalf("SamlProviderArn = %q", p)
	}
	if got, want := idc.ui["type"], "IdentityCenterUser"; got != want {
		t.Fatalf("IdC type = %v, want %v", got, want)
	}
	for _, k := range []string{"userName", "principalId"} {
		if _, ok := idc.ui[k]; ok {
			t.Fatalf("IdC userIdentity has %s", k)
		}
	}
	if ob, _ := idc.ui["onBehalfOf"].(map[string]any); ob["userId"] == nil {
		t.Fatalf("IdC userIdentity has no onBehalfOf.userId")
	}
	if got, want := idc.data["CredentialType"], "TOTP"; got != want {
		t.Fatalf("CredentialType = %v, want %v", got, want)
	}
	if got, want := idc.data["UserName"], "amara.osei"; got != want {
		t.Fatalf("UserName = %v, want %v", got, want)
	}
	if got, want := idc.m["eventType"], "AwsServiceEvent"; got != want {
		t.Fatalf("eventType = %v, want %v", got, want)
	}
	if re, ok := idc.m["responseElements"]; !ok || re != nil {
		t.Fatalf("responseElements = %v, want null", re)
	}
	if got, want := idc.outcome(), "Failure"; got != want {
		t.Fatalf("CredentialVerification = %v, want %v", got, want)
	}
}

func TestBruteForce(t *testing.T) {
	evs := scenarioEvents(t, ScenarioBruteForce, 1)
	fails := failures(evs)
	if len(fails) < 12 {
		t.Fatalf("%d failures, want 12 or more", len(fails))
	}
	if span := fails[len(fails)-1].t.Sub(fails[0].t); span > 8*time.Minute {
		t.Fatalf("failures span %v, want at most 8 minutes", span)
	}
	ips := map[any]bool{}
	for _, f := range fails {
		checkIAMFailure(t, f, "chloe.martin", "Yes")
		ips[f.m["sourceIPAddress"]] = true
	}
	if got, want := len(ips), 4; got != want {
		t.Fatalf("%d source addresses, want %d", got, want)
	}
}

func TestPasswordSpray(t *testing.T) {
	evs := scenarioEvents(t, ScenarioPasswordSpray, 1)
	fails := failures(evs)
	if span := fails[len(fails)-1].t.Sub(fails[0].t); span > 6*time.Minute {
		t.Fatalf("failures span %v, want at most 6 minutes", span)
	}
	names := map[string]bool{}
	hidden := 0
	for _, f := range fails {
		if got, want := f.m["sourceIPAddress"], "203.0.113.200"; got != want {
			t.Fatalf("sourceIPAddress = %v, want %v", got, want)
		}
		n := f.ui["userName"].(string)
		if n == hiddenUserName {
			hidden++
		}
		names[n] = true
	}
	if got, want := hidden, 2; got != want {
		t.Fatalf("%d hidden names, want %d", got, want)
	}
	if got := len(names) - 1 + hidden; got < 7 {
		t.Fatalf("%d distinct names (hidden ones counted apart), want 7 or more", got)
	}
}

// actors returns the source addresses and user names (hidden ones left
// out) of the sign-in records.
func actors(t *testing.T, recs [][]byte) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, raw := range recs {
		m := decode(t, raw)
		if m["eventSource"] != "signin.amazonaws.com" {
			continue
		}
		out["ip "+m["sourceIPAddress"].(string)] = true
		ui := m["userIdentity"].(map[string]any)
		if u, _ := ui["userName"].(string); u != "" && u != hiddenUserName {
			out["user "+u] = true
		}
		if d, _ := m["additionalEventData"].(map[string]any); d["UserName"] != nil {
			out["user "+d["UserName"].(string)] = true
		}
		if ui["type"] == "AssumedRole" {
			out["arn "+ui["arn"].(string)] = true
		}
	}
	return out
}

func TestScenariosDoNotInterfere(t *testing.T) {
	owner := map[string]string{}
	fill, _ := collect(t, Options{Records: 20000, SignInRatio: 1, Seed: 3})
	for a := range actors(t, fill) {
		owner[a] = "filler"
	}
	total := 0
	for _, name := range ScenarioNames() {
		recs, st := collect(t, Options{Scenarios: []string{name}, Seed: 3})
		total += len(recs)
		if st.First.Before(DefaultStart.Add(10*time.Minute)) || !st.Last.Before(DefaultStart.Add(time.Hour)) {
			t.Fatalf("%s runs from %v to %v, outside its hour", name, st.First, st.Last)
		}
		for a := range actors(t, recs) {
			if o, ok := owner[a]; ok {
				t.Fatalf("%s shares %s with %s", name, a, o)
			}
			owner[a] = name
		}
	}
	all, st := collect(t, Options{Scenarios: []string{ScenarioAll}, Seed: 3})
	if got, want := len(all), total; got != want {
		t.Fatalf("all has %d records, the scenarios alone %d", got, want)
	}
	if got, want := st.Last.Before(DefaultStart.Add(time.Duration(len(ScenarioNames()))*time.Hour)), true; got != want {
		t.Fatalf("last event at %v", st.Last)
	}
}

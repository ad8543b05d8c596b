package investigate

import (
	"strings"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/incident"
)

// Fixture values, made up for these tests (RFC 5737 addresses).
const (
	aUser    = "nadia.okoro"
	aAccount = "123456789012"
	homeIP   = "198.51.100.23"
	officeIP = "198.51.100.40"
	otherIP  = "203.0.113.77"
	firefox  = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	firefox2 = "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0"
	chromeW  = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
)

var t0 = time.Date(2026, 5, 11, 8, 10, 0, 0, time.UTC)

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func success(t time.Time, ip, ua, mfa string) Login {
	return Login{Time: t, Outcome: "Success", MFAUsed: mfa, SourceIP: ip, UserAgent: ua, Region: "us-east-1"}
}

func failure(t time.Time, ip, ua string) Login {
	return Login{Time: t, Outcome: "Failure", MFAUsed: "Yes", SourceIP: ip, UserAgent: ua, Region: "us-east-1", Error: "Failed authentication"}
}

func userIncident(c incident.Classification, failures int, ips ...string) *incident.Incident {
	return &incident.Incident{
		ID: "inc-1", Subject: incident.Subject{Kind: incident.KindUser, Account: aAccount, User: aUser},
		Classification: c, Failures: failures, FirstSeen: t0, LastSeen: t0, SourceIPs: ips, Status: incident.StatusOpen,
	}
}

var (
	allOK   = StepsOK{Failures: true, Logins: true, Devices: true}
	phone   = []Device{{Serial: "arn:aws:iam::123456789012:mfa/nadia-phone", Enabled: time.Date(2025, 6, 11, 9, 30, 0, 0, time.UTC)}}
	history = []Login{ // the user's usual sign-ins, days before
		success(at(-3*24*60), homeIP, firefox, "Yes"),
		success(at(-5*24*60), officeIP, firefox, "Yes"),
	}
)

func with(extra ...Login) []Login { return append(append([]Login(nil), extra...), history...) }

func TestAssess(t *testing.T) {
	rootInc := &incident.Incident{ID: "inc-r", Subject: incident.Subject{Kind: incident.KindRoot, Account: aAccount},
		Classification: incident.RepeatedFailures, Failures: 4, FirstSeen: t0, SourceIPs: []string{homeIP}}
	rootBrute := *rootInc
	rootBrute.Classification = incident.BruteForce
	prior := at(-6)
	priorInc := userIncident(incident.IsolatedFailure, 1, homeIP)
	priorInc.PriorMFASuccess = &prior

	tests := []struct {
		name     string
		inc      *incident.Incident
		failures []Login
		logins   []Login
		devices  []Device
		ok       StepsOK
		want     Finding
		next     string
		why      string // a fragment of why
	}{
		{
			name: "no device", inc: userIncident(incident.IsolatedFailure, 1, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox)}, logins: history, devices: []Device{}, ok: allOK,
			want: NoMFADevice, next: NextNoMFADevice, why: "IAM lists no MFA device",
		},
		{
			name: "no device under brute force", inc: userIncident(incident.BruteForce, 12, otherIP),
			failures: []Login{failure(at(0), otherIP, chromeW)}, logins: history, devices: []Device{}, ok: allOK,
			want: NoMFADevice, why: "also look like someone else",
		},
		{
			name: "device step failed is not no device", inc: userIncident(incident.IsolatedFailure, 1, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox)}, logins: history, devices: nil,
			ok: StepsOK{Failures: true, Logins: true}, want: Inconclusive, next: NextInconclusive, why: "Could not check the MFA devices",
		},
		{
			name: "brute force", inc: userIncident(incident.BruteForce, 11, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox)}, logins: history, devices: phone, ok: allOK,
			want: SomeoneElse, next: NextSomeoneElse, why: "brute force",
		},
		{
			name: "password spray", inc: userIncident(incident.PasswordSpray, 1, otherIP), devices: phone, ok: allOK,
			want: SomeoneElse, next: NextSomeoneElse, why: "password spray",
		},
		{
			name: "three addresses", inc: userIncident(incident.RepeatedFailures, 3, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox), failure(at(1), officeIP, firefox), failure(at(2), "192.0.2.9", firefox)},
			logins:   with(success(at(-24*60), "192.0.2.9", firefox, "Yes")), devices: phone, ok: allOK,
			want: SomeoneElse, next: NextSomeoneElse, why: "3 different addresses",
		},
		{
			name: "unseen address", inc: userIncident(incident.IsolatedFailure, 1, otherIP),
			failures: []Login{failure(at(0), otherIP, firefox)}, logins: history, devices: phone, ok: allOK,
			want: SomeoneElse, next: NextSomeoneElse, why: otherIP,
		},
		{
			name: "unseen browser", inc: userIncident(incident.IsolatedFailure, 1, homeIP),
			failures: []Login{failure(at(0), homeIP, chromeW)}, logins: history, devices: phone, ok: allOK,
			want: SomeoneElse, next: NextSomeoneElse, why: "browser",
		},
		{
			name: "success just before from same address", inc: userIncident(incident.RepeatedFailures, 2, homeIP),
			failures: []Login{failure(at(1), homeIP, firefox2), failure(at(0), homeIP, firefox2)}, // a browser update is not a new browser
			logins:   with(success(at(-4), homeIP, firefox2, "Yes")), devices: phone, ok: allOK,
			want: TokenExpiryConsistent, next: NextTokenExpiry, why: "4 minutes before the 2 failures",
		},
		{
			name: "success just after from same address", inc: userIncident(incident.IsolatedFailure, 1, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox)},
			logins:   with(success(at(2), homeIP, firefox, "YES")), devices: phone, ok: allOK,
			want: TokenExpiryConsistent, next: NextTokenExpiry, why: "after the 1 failure",
		},
		{
			name: "detection judged token expiry, logs unavailable", inc: priorInc, devices: phone,
			ok: StepsOK{Devices: true}, want: TokenExpiryConsistent, next: NextTokenExpiry, why: "Could not check the failed sign-ins, the recent sign-ins",
		},
		{
			name: "classification token expiry", inc: func() *incident.Incident {
				i := userIncident(incident.TokenExpiryLikely, 2, homeIP)
				i.Reason = "successful MFA sign-in 3m before"
				return i
			}(),
			failures: []Login{failure(at(0), homeIP, firefox)}, logins: history, devices: phone, ok: allOK,
			want: TokenExpiryConsistent, next: NextTokenExpiry, why: "Detection judged token expiry likely",
		},
		{
			name: "success before from another known address", inc: userIncident(incident.RepeatedFailures, 2, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox), failure(at(1), homeIP, firefox)},
			logins:   with(success(at(-4), officeIP, firefox, "Yes")), devices: phone, ok: allOK,
			want: Inconclusive, next: NextInconclusive,
		},
		{
			name: "success too long before", inc: userIncident(incident.IsolatedFailure, 1, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox)},
			logins:   with(success(at(-20), homeIP, firefox, "Yes")), devices: phone, ok: allOK,
			want: Inconclusive, next: NextInconclusive,
		},
		{
			name: "success before without MFA", inc: userIncident(incident.IsolatedFailure, 1, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox)},
			logins:   with(success(at(-3), homeIP, firefox, "No")), devices: phone, ok: allOK,
			want: Inconclusive, next: NextInconclusive,
		},
		{
			name: "persistent from usual address", inc: userIncident(incident.RepeatedFailures, 4, homeIP),
			failures: []Login{failure(at(30), homeIP, firefox), failure(at(20), homeIP, firefox), failure(at(10), homeIP, firefox), failure(at(0), homeIP, firefox)},
			logins:   history, devices: phone, ok: allOK,
			want: PersistentFailures, next: NextPersistent, why: "4 failures in the last hour from 198.51.100.23",
		},
		{
			name: "many failures after a prior success are persistent", inc: userIncident(incident.TokenExpiryLikely, 3, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox), failure(at(1), homeIP, firefox), failure(at(2), homeIP, firefox)},
			logins:   with(success(at(-4), homeIP, firefox, "Yes")), devices: phone, ok: allOK,
			want: PersistentFailures, next: NextPersistent,
		},
		{
			name: "success since the failures", inc: userIncident(incident.RepeatedFailures, 3, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox), failure(at(1), homeIP, firefox), failure(at(2), homeIP, firefox)},
			logins:   with(success(at(40), homeIP, firefox, "Yes")), devices: phone, ok: allOK,
			want: Inconclusive, next: NextInconclusive, why: "a successful sign-in followed",
		},
		{
			name: "no successful sign-in to compare", inc: userIncident(incident.RepeatedFailures, 3, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox), failure(at(1), homeIP, firefox), failure(at(2), homeIP, firefox)},
			logins:   []Login{}, devices: phone, ok: allOK,
			want: Inconclusive, next: NextInconclusive, why: "no recent successful sign-in",
		},
		{
			name: "recent sign-ins unavailable", inc: userIncident(incident.RepeatedFailures, 3, homeIP),
			failures: []Login{failure(at(0), homeIP, firefox), failure(at(1), homeIP, firefox), failure(at(2), homeIP, firefox)},
			devices:  phone, ok: StepsOK{Failures: true, Devices: true},
			want: Inconclusive, next: NextInconclusive, why: "Could not check the recent sign-ins",
		},
		{
			name: "root repeated failures", inc: rootInc, want: Inconclusive, next: NextInconclusive,
		},
		{
			name: "root brute force", inc: &rootBrute, want: SomeoneElse, next: NextSomeoneElse,
		},
		{
			name: "nil incident", inc: nil, want: Inconclusive, next: NextInconclusive,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why, next := Assess(tt.inc, tt.failures, tt.logins, tt.devices, tt.ok)
			if got != tt.want {
				t.Fatalf("finding: got %v, want %v (why: %s)", got, tt.want, why)
			}
			if tt.next != "" && next != tt.next {
				t.Fatalf("next: got %q, want %q", next, tt.next)
			}
			if next == "" || why == "" {
				t.Fatalf("why/next: got %q / %q, want both set", why, next)
			}
			if !strings.Contains(why, tt.why) {
				t.Fatalf("why: got %q, want it to contain %q", why, tt.why)
			}
		})
	}
}

func TestParseLogin(t *testing.T) {
	l, err := parseLogin(map[string]string{
		"@timestamp": "2026-05-11 08:10:04.000", "eventTime": "2026-05-11T08:10:03Z", "sourceIPAddress": homeIP,
		"userAgent": firefox, "awsRegion": "eu-north-1", "errorMessage": "Failed authentication",
		"additionalEventData.MFAUsed": "Yes", "responseElements.ConsoleLogin": "Failure",
	})
	if err != nil {
		t.Fatalf("parseLogin: got %v, want nil", err)
	}
	want := Login{Time: time.Date(2026, 5, 11, 8, 10, 3, 0, time.UTC), Outcome: "Failure", MFAUsed: "Yes", SourceIP: homeIP,
		UserAgent: firefox, Region: "eu-north-1", Error: "Failed authentication"}
	if l != want {
		t.Fatalf("login: got %+v, want %+v", l, want)
	}
	l, err = parseLogin(map[string]string{"@timestamp": "2026-05-11 08:10:04.250"})
	if err != nil || !l.Time.Equal(time.Date(2026, 5, 11, 8, 10, 4, 250e6, time.UTC)) {
		t.Fatalf("@timestamp fallback: got (%v, %v), want 08:10:04.250 UTC", l.Time, err)
	}
	if _, err := parseLogin(map[string]string{"eventTime": "yesterday"}); err == nil {
		t.Fatalf("parseLogin without a time: got nil error, want one")
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{"ExpiredToken: The security token included in the request is expired", "ExpiredToken: The security token included in the request is expired"},
		{"key AKIAABCDEFGHIJKLMNOP leaked", "key [redacted key] leaked"},
		{"X-Amz-Security-Token=FQoGZXIvYXdzEJr//////////wEaDEXAMPLE&x=1", "X-Amz-Security-Token=[redacted]&x=1"},
		{"Signature=0123abcd, SignedHeaders", "Signature=[redacted], SignedHeaders"},
		{"aws_secret_access_key: wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key: [redacted]"},
	}
	for _, tt := range tests {
		if got := redact(tt.in); got != tt.want {
			t.Fatalf("redact(%q): got %q, want %q", tt.in, got, tt.want)
		}
	}
}

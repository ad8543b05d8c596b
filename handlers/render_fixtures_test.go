package handlers

import (
	"fmt"
	"time"

	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/investigate"
)

// fxT0 is the time every fixture is built around.
var fxT0 = time.Date(2026, 3, 4, 8, 15, 0, 0, time.UTC)

func fxAt(d time.Duration) time.Time { return fxT0.Add(d) }

func fxTimePtr(t time.Time) *time.Time { return &t }

var fxLinks = Links{
	CloudTrailEvent: "https://eu-west-1.console.aws.amazon.com/cloudtrailv2/home?region=eu-west-1#/events/6f1c0c2e-4b0a-4d7e-9a57-0c1e5d8f2a11",
	LogsInsights:    "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights$3FqueryDetail$3D~(end~'2026-03-04T09*3a15*3a00Z)",
	Runbook:         "https://wiki.example.com/security/runbooks/mfa-failures",
}

const fxChromeUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"

// fxTokenExpiry is an open medium incident of an IAM user.
func fxTokenExpiry() *incident.Incident {
	return &incident.Incident{
		ID:              "INC-42",
		Subject:         incident.Subject{Kind: incident.KindUser, Account: "123456789012", User: "priya.raman"},
		Classification:  incident.TokenExpiryLikely,
		Reason:          "successful MFA sign-in at 2026-03-04T08:09:00Z, 6m before the first failure",
		Severity:        incident.Medium,
		Stage:           incident.StageMFA,
		Status:          incident.StatusOpen,
		Failures:        2,
		FirstSeen:       fxT0,
		LastSeen:        fxAt(3 * time.Minute),
		SourceIPs:       []string{"198.51.100.7"},
		UserAgents:      []string{fxChromeUA},
		Regions:         []string{"eu-west-1"},
		PriorMFASuccess: fxTimePtr(fxAt(-6 * time.Minute)),
		MFAYes:          2,
		Recent:          []incident.Failure{{Time: fxT0, SourceIP: "198.51.100.7"}, {Time: fxAt(3 * time.Minute), SourceIP: "198.51.100.7"}},
		UpdatedAt:       fxAt(3 * time.Minute),
	}
}

// fxBruteForce is a high incident with more addresses than the model keeps.
func fxBruteForce() *incident.Incident {
	inc := &incident.Incident{
		ID:             "INC-43",
		Subject:        incident.Subject{Kind: incident.KindUser, Account: "123456789012", User: "deploy-bot"},
		Classification: incident.BruteForce,
		Reason:         "failures from 50 source IPs within 10m",
		Severity:       incident.High,
		Stage:          incident.StageUnknown,
		Status:         incident.StatusOpen,
		Failures:       84,
		FirstSeen:      fxT0,
		LastSeen:       fxAt(9 * time.Minute),
		MoreSourceIPs:  true,
		Regions:        []string{"eu-west-1", "us-east-1", "ap-southeast-2"},
		MFAUnknown:     80,
		MFANo:          4,
	}
	for i := range incident.MaxSourceIPs {
		inc.SourceIPs = append(inc.SourceIPs, fmt.Sprintf("203.0.113.%d", i+1))
	}
	for i := range incident.MaxUserAgents {
		inc.UserAgents = append(inc.UserAgents, fmt.Sprintf("python-requests/2.%d.0", i))
	}
	return inc
}

// fxRoot is a failed root sign-in before the MFA step.
func fxRoot() *incident.Incident {
	return &incident.Incident{
		ID: "INC-44", Subject: incident.Subject{Kind: incident.KindRoot, Account: "210987654321"},
		Classification: incident.IsolatedFailure, Reason: "a single failure and no successful MFA sign-in in the 15m before it",
		Severity: incident.High, Stage: incident.StagePassword, Status: incident.StatusOpen, Failures: 1,
		FirstSeen: fxT0, LastSeen: fxT0, SourceIPs: []string{"192.0.2.55"}, UserAgents: []string{fxChromeUA},
		Regions: []string{"us-east-1"}, MFANo: 1,
	}
}

// fxSpray is a password spray from one address.
func fxSpray() *incident.Incident {
	inc := &incident.Incident{
		ID: "INC-45", Subject: incident.Subject{Kind: incident.KindSourceIP, Account: "123456789012", SourceIP: "203.0.113.9"},
		Classification: incident.PasswordSpray, Reason: "34 user names (4 unknown) failed from 203.0.113.9 within 10m",
		Severity: incident.High, Stage: incident.StagePassword, Status: incident.StatusOpen, Failures: 41,
		FirstSeen: fxT0, LastSeen: fxAt(7 * time.Minute), SourceIPs: []string{"203.0.113.9"},
		UserAgents: []string{"curl/8.5.0"}, Regions: []string{"eu-west-1"},
		TargetCount: 30, UnknownTargets: 4, MFANo: 41,
	}
	for i := range 30 {
		inc.Targets = append(inc.Targets, fmt.Sprintf("user%02d", i))
	}
	return inc
}

// fxIdentityCenter is an IAM Identity Center user's repeated failures.
func fxIdentityCenter() *incident.Incident {
	return &incident.Incident{
		ID: "INC-46", Subject: incident.Subject{Kind: incident.KindIdentityCenterUser, Account: "123456789012", User: "alice@example.com"},
		Classification: incident.RepeatedFailures, Reason: "3 failures within 5m", Severity: incident.Medium,
		Stage: incident.StageUnknown, Status: incident.StatusOpen, Failures: 3, FirstSeen: fxT0, LastSeen: fxAt(2 * time.Minute),
		SourceIPs: []string{"198.51.100.20"}, Regions: []string{"eu-central-1"}, MFAUnknown: 3,
	}
}

func fxRecovered() *incident.Incident {
	inc := fxTokenExpiry()
	inc.Status, inc.RecoveredAt = incident.StatusRecovered, fxTimePtr(fxAt(12*time.Minute))
	return inc
}

func fxResolved() *incident.Incident {
	inc := fxTokenExpiry()
	inc.Status, inc.ResolvedAt = incident.StatusResolved, fxTimePtr(fxAt(2*time.Hour+5*time.Minute))
	return inc
}

func fxMerged() *incident.Incident {
	inc := fxTokenExpiry()
	inc.ID, inc.Status, inc.MergedInto = "INC-47", incident.StatusMerged, "INC-45"
	return inc
}

func fxPendingReset() incident.Reset {
	return incident.Reset{IncidentID: "INC-42", Status: incident.ResetPending, RequestedBy: "U0RESP01", RequestedAt: fxAt(20 * time.Minute)}
}

func fxDecidedReset(status incident.ResetStatus) incident.Reset {
	r := fxPendingReset()
	r.Status, r.DecidedBy, r.DecidedAt = status, "U0APPR02", fxAt(35*time.Minute)
	switch status {
	case incident.ResetDenied:
		r.Reason = "Could not reach Priya by video; she is on leave until Monday."
	case incident.ResetCompleted:
		r.Verification, r.Devices = "Video call with camera on", []string{"arn:aws:iam::123456789012:mfa/priya.raman"}
	case incident.ResetApproved:
		r.Verification = "In person"
		r.Command = "aws iam deactivate-mfa-device --user-name priya.raman --serial-number arn:aws:iam::123456789012:mfa/priya.raman"
	case incident.ResetFailed:
		r.Verification, r.Reason = "Call back on a number from the HR directory", "Called her desk phone."
		r.Error = "AccessDenied: User: arn:aws:sts::123456789012:assumed-role/mfabot is not authorized to perform: iam:DeactivateMFADevice"
	}
	return r
}

func fxTimeline() []incident.Entry {
	return []incident.Entry{
		{Time: fxT0, Actor: incident.SystemActor, Action: "open", Outcome: "medium", Detail: "token expiry likely"},
		{Time: fxAt(5 * time.Minute), Actor: "U0RESP01", Action: "investigate", Outcome: "done", Detail: "consistent with token expiry"},
		{Time: fxAt(6 * time.Minute), Actor: "U0RESP01", Action: "notify user", Outcome: "sent", Detail: "DM to <@U0PRIYA>"},
		{Time: fxAt(9 * time.Minute), Actor: "U0PRIYA", Action: "user answer", Outcome: "still failing"},
		{Time: fxAt(20 * time.Minute), Actor: "U0RESP01", Action: "request reset", Outcome: "pending"},
		{Time: fxAt(35 * time.Minute), Actor: "U0APPR02", Action: "approve reset", Outcome: "completed", Detail: "after Video call with camera on"},
	}
}

func fxFailedStepReport() investigate.Report {
	return investigate.Report{
		IncidentID: "INC-42", User: "priya.raman", Account: "123456789012", Window: time.Hour,
		Failures: []investigate.Login{
			{Time: fxT0, Outcome: "Failure", MFAUsed: "Yes", SourceIP: "198.51.100.7", Region: "eu-west-1", Error: "Failed authentication"},
			{Time: fxAt(3 * time.Minute), Outcome: "Failure", MFAUsed: "Yes", SourceIP: "198.51.100.7", Region: "eu-west-1", Error: "Failed authentication"},
		},
		Logins: []investigate.Login{
			{Time: fxAt(3 * time.Minute), Outcome: "Failure", MFAUsed: "Yes", SourceIP: "198.51.100.7", Region: "eu-west-1"},
			{Time: fxT0, Outcome: "Failure", MFAUsed: "Yes", SourceIP: "198.51.100.7", Region: "eu-west-1"},
			{Time: fxAt(-6 * time.Minute), Outcome: "Success", MFAUsed: "Yes", SourceIP: "198.51.100.7", Region: "eu-west-1"},
		},
		Steps: []investigate.Step{
			{Name: "failures (Logs Insights)"}, {Name: "last logins (Logs Insights)"},
			{Name: "MFA devices (IAM)", Err: "IAM ListMFADevices timed out after 10s"},
		},
		Finding: investigate.TokenExpiryConsistent,
		Why:     "The user signed in with MFA 6 minutes before the failures, from the same address.",
		Next:    "Notify the user: a fresh code and an automatic phone clock usually fix it.",
	}
}

func fxCompleteReport() investigate.Report {
	r := fxFailedStepReport()
	r.Steps[2].Err = ""
	r.Devices = []investigate.Device{{Serial: "arn:aws:iam::123456789012:mfa/priya.raman", Enabled: time.Date(2024, 5, 2, 10, 0, 0, 0, time.UTC)}}
	return r
}

func fxNoDeviceReport() investigate.Report {
	r := fxCompleteReport()
	r.Devices, r.Finding = []investigate.Device{}, investigate.NoMFADevice
	r.Why, r.Next = "The user has no MFA device registered.", "Ask the user to enrol a device; no reset is needed."
	return r
}

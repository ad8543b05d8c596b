package awsops

import "fmt"

// The runbook's Logs Insights queries. None of them filters on awsRegion:
// console sign-ins land in several regions (reference §2.5), and a
// multi-region trail delivers them all to one log group.

// loginFields are the fields the user queries return; investigate parses
// them.
const loginFields = "fields @timestamp, eventTime, sourceIPAddress, userAgent, awsRegion, errorMessage, additionalEventData.MFAUsed, responseElements.ConsoleLogin"

// FailedLoginsLimit and RecentLoginsLimit are the row limits of the user
// queries.
const (
	FailedLoginsLimit = 100
	RecentLoginsLimit = 10
)

// SignInEventsLimit is the row limit of SignInEventsQuery.
const SignInEventsLimit = 10000

// userLiteral returns user as a Logs Insights string literal. Only names
// in IAM's syntax are accepted, and that syntax has no quote or backslash,
// so the literal cannot be broken out of.
func userLiteral(user string) (string, error) {
	if err := CheckUserName(user); err != nil {
		return "", err
	}
	return `"` + user + `"`, nil
}

// FailedLoginsQuery returns the query for the user's failed console
// sign-ins, newest first (at most FailedLoginsLimit). It fails for an
// empty, hidden or malformed user name.
func FailedLoginsQuery(user string) (string, error) {
	lit, err := userLiteral(user)
	if err != nil {
		return "", fmt.Errorf("failed logins query: %w", err)
	}
	return loginFields +
		` | filter eventSource = "signin.amazonaws.com" and eventName = "ConsoleLogin" and responseElements.ConsoleLogin = "Failure" and userIdentity.userName = ` + lit +
		fmt.Sprintf(" | sort eventTime desc | limit %d", FailedLoginsLimit), nil
}

// RecentLoginsQuery returns the query for the user's last successful
// console sign-ins, newest first (at most RecentLoginsLimit), with
// additionalEventData.MFAUsed. They are the baseline of the user's usual
// addresses and browsers. It fails for an empty, hidden or malformed user
// name.
func RecentLoginsQuery(user string) (string, error) {
	lit, err := userLiteral(user)
	if err != nil {
		return "", fmt.Errorf("recent logins query: %w", err)
	}
	return loginFields +
		` | filter eventSource = "signin.amazonaws.com" and eventName = "ConsoleLogin" and responseElements.ConsoleLogin = "Success" and userIdentity.userName = ` + lit +
		fmt.Sprintf(" | sort eventTime desc | limit %d", RecentLoginsLimit), nil
}

// SignInEventsQuery returns the poller's query: every ConsoleLogin,
// CredentialVerification and UserAuthentication record, whole (@message),
// oldest first, so that a result cut at SignInEventsLimit rows is the
// start of the window and the next poll carries on from it.
func SignInEventsQuery() string {
	return `fields @timestamp, @message` +
		` | filter eventSource = "signin.amazonaws.com" and eventName in ["ConsoleLogin", "CredentialVerification", "UserAuthentication"]` +
		fmt.Sprintf(" | sort @timestamp asc | limit %d", SignInEventsLimit)
}

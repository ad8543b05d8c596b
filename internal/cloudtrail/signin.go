package cloudtrail

import "time"

// MFAUsed is the normalised value of additionalEventData.MFAUsed.
type MFAUsed string

// MFAUsed values. AWS writes "Yes", "YES" or "No"; a missing key is unknown,
// never "No".
const (
	MFAYes     MFAUsed = "yes"
	MFANo      MFAUsed = "no"
	MFAUnknown MFAUsed = "unknown"
)

// Outcome is whether a sign-in step succeeded.
type Outcome string

// Outcomes.
const (
	Success Outcome = "success"
	Failure Outcome = "failure"
)

// HiddenUserName is what CloudTrail writes instead of a user name that does
// not exist (it might be a password typed into the wrong box).
const HiddenUserName = "HIDDEN_DUE_TO_SECURITY_REASONS"

// Identity types that matter to detection.
const (
	IdentityIAMUser            = "IAMUser"
	IdentityRoot               = "Root"
	IdentityAssumedRole        = "AssumedRole"
	IdentityFederatedUser      = "FederatedUser"
	IdentityIdentityCenterUser = "IdentityCenterUser"
	IdentityUnknown            = "Unknown"
)

// Event names of the sign-in events mfabot reads.
const (
	EventConsoleLogin           = "ConsoleLogin"
	EventCredentialVerification = "CredentialVerification"
	EventUserAuthentication     = "UserAuthentication"
)

// SignIn is one console sign-in step, normalised from a CloudTrail record:
// an IAM user's or root's ConsoleLogin, or an IAM Identity Center
// CredentialVerification or UserAuthentication. Strings the record lacks are
// empty.
type SignIn struct {
	EventID string
	// Account is recipientAccountId, or userIdentity.accountId when the
	// record has none.
	Account string
	Time    time.Time
	Name    string
	Outcome Outcome
	MFAUsed MFAUsed

	IdentityType string
	// UserName is the IAM user name (or, for Identity Center, the typed
	// user name). It is empty for root and whenever CloudTrail hid it.
	UserName string
	// Hidden is set when CloudTrail replaced the typed name with
	// HIDDEN_DUE_TO_SECURITY_REASONS: no such user exists.
	Hidden      bool
	ARN         string
	PrincipalID string
	// IdentityCenterUserID is userIdentity.onBehalfOf.userId.
	IdentityCenterUserID string
	// CredentialType is Identity Center's factor (PASSWORD, TOTP, ...).
	CredentialType string
	// SAML is set when the sign-in came through a SAML provider.
	SAML bool

	SourceIP      string
	UserAgent     string
	Region        string
	ErrorMessage  string
	MFAIdentifier string
}

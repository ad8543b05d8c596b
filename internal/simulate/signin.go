package simulate

import (
	"math/rand/v2"
	"time"
)

// identityKind is the shape of a sign-in record's userIdentity.
type identityKind int

// Identity shapes of sign-in records (reference §2.2 and §2.6).
const (
	idIAMUser identityKind = iota
	idHidden
	idRoot
	idSAML
	idIdentityCenter
)

// Sign-in event names the generator writes.
const (
	evConsoleLogin           = "ConsoleLogin"
	evCheckMfa               = "CheckMfa"
	evCredentialChallenge    = "CredentialChallenge"
	evCredentialVerification = "CredentialVerification"
)

// Error messages AWS documents for failed console sign-ins.
const (
	errFailedAuth = "Failed authentication"
	errNoUsername = "No username found in supplied account"
)

// hiddenUserName is what CloudTrail writes instead of a mistyped user name.
const hiddenUserName = "HIDDEN_DUE_TO_SECURITY_REASONS"

// signIn describes one sign-in record; appendSignIn renders it.
type signIn struct {
	eventName string
	identity  identityKind
	account   string
	time      time.Time
	region    string
	ip, ua    string
	success   bool

	// user is the IAM user name, or the name typed into Identity Center;
	// path is the IAM path ("/" or "/eng/").
	user, path  string
	principalID string

	// role, session and samlProvider describe a SAML federated sign-in.
	role, session, samlProvider string

	// idcUserID, identityStore, credentialID, credentialType and
	// workflowID describe an Identity Center factor event.
	idcUserID, identityStore, credentialID string
	credentialType, workflowID             string

	// mfaUsed is the MFAUsed value; empty leaves the key out. mfaDevice
	// names the device in MFAIdentifier on successful MFA sign-ins.
	mfaUsed   string
	mfaDevice string
	errorMsg  string

	// version and eventType vary like real trails do; tls adds
	// tlsDetails and regional uses a regional sign-in endpoint.
	version, eventType string
	tls, regional      bool
}

// appendSignIn renders s as one compact CloudTrail record. r supplies the
// eventID and the other incidental random values.
func appendSignIn(b []byte, s *signIn, r *rand.PCG, tc *timeCache) []byte {
	b = append(b, `{"eventVersion":`...)
	b = appendStr(b, s.version)
	b = append(b, `,"userIdentity":`...)
	b = appendIdentity(b, s)
	b = append(b, `,"eventTime":"`...)
	b = tc.appendTime(b, s.time)
	b = append(b, `","eventSource":"signin.amazonaws.com",`...)
	b = appendKV(b, "eventName", s.eventName)
	b = appendKV(b, "awsRegion", s.region)
	b = appendKV(b, "sourceIPAddress", s.ip)
	b = appendKV(b, "userAgent", s.ua)
	if s.eventName == evConsoleLogin && !s.success {
		b = appendKV(b, "errorMessage", s.errorMsg)
	}
	b = append(b, `"requestParameters":null,"responseElements":`...)
	outcome := "Failure"
	if s.success {
		outcome = "Success"
	}
	switch s.eventName {
	case evConsoleLogin:
		b = append(b, `{"ConsoleLogin":"`...)
		b = append(b, outcome...)
		b = append(b, `"}`...)
	case evCheckMfa:
		b = append(b, `{"CheckMfa":"Success"}`...)
	default:
		b = append(b, "null"...)
	}
	b = append(b, `,"additionalEventData":`...)
	b = appendSignInData(b, s, r)
	if s.identity == idIdentityCenter {
		b = append(b, `,"requestID":"`...)
		b = appendUUID(b, newUUID(r))
		b = append(b, '"')
	}
	b = append(b, `,"eventID":"`...)
	b = appendUUID(b, newUUID(r))
	b = append(b, `","readOnly":false,`...)
	b = appendKV(b, "eventType", s.eventType)
	b = append(b, `"managementEvent":true,`...)
	b = appendKV(b, "recipientAccountId", s.account)
	b = append(b, `"eventCategory":"Management"`...)
	if s.identity == idIdentityCenter {
		b = append(b, `,"serviceEventDetails":{`...)
		b = appendStr(b, s.eventName)
		b = append(b, ':', '"')
		b = append(b, outcome...)
		b = append(b, '"', '}')
	}
	if s.tls {
		b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
		if s.regional {
			b = append(b, s.region...)
			b = append(b, '.')
		}
		b = append(b, `signin.aws.amazon.com"}`...)
	}
	return append(b, '}')
}

// appendIdentity renders the userIdentity object of a sign-in record.
func appendIdentity(b []byte, s *signIn) []byte {
	switch s.identity {
	case idRoot:
		b = append(b, `{"type":"Root",`...)
		b = appendKV(b, "principalId", s.account)
		b = appendKV(b, "arn", "arn:aws:iam::"+s.account+":root")
		b = appendKV(b, "accountId", s.account)
		return append(b, `"accessKeyId":""}`...)
	case idHidden:
		b = append(b, `{"type":"IAMUser",`...)
		b = appendKV(b, "accountId", s.account)
		return append(b, `"accessKeyId":"","userName":"`+hiddenUserName+`"}`...)
	case idSAML:
		b = append(b, `{"type":"AssumedRole",`...)
		b = appendKV(b, "principalId", s.principalID+":"+s.session)
		b = appendKV(b, "arn", "arn:aws:sts::"+s.account+":assumed-role/"+s.role+"/"+s.session)
		b = append(b, `"accountId":`...)
		b = appendStr(b, s.account)
		return append(b, '}')
	case idIdentityCenter:
		b = append(b, `{"type":"IdentityCenterUser",`...)
		b = appendKV(b, "accountId", s.account)
		b = append(b, `"onBehalfOf":{`...)
		b = appendKV(b, "userId", s.idcUserID)
		b = append(b, `"identityStoreArn":`...)
		b = appendStr(b, s.identityStore)
		b = append(b, `},"credentialId":`...)
		b = appendStr(b, s.credentialID)
		return append(b, '}')
	}
	// Only a successful ConsoleLogin names the user's ARN; failures and
	// CheckMfa carry an empty access key instead.
	signedIn := s.success && s.eventName == evConsoleLogin
	b = append(b, `{"type":"IAMUser",`...)
	b = appendKV(b, "principalId", s.principalID)
	if signedIn {
		b = appendKV(b, "arn", "arn:aws:iam::"+s.account+":user"+s.path+s.user)
	}
	b = appendKV(b, "accountId", s.account)
	if !signedIn {
		b = append(b, `"accessKeyId":"",`...)
	}
	b = append(b, `"userName":`...)
	b = appendStr(b, s.user)
	return append(b, '}')
}

// appendSignInData renders additionalEventData.
func appendSignInData(b []byte, s *signIn, r *rand.PCG) []byte {
	switch {
	case s.eventName == evCheckMfa:
		return append(b, `{"MfaType":"Virtual MFA"}`...)
	case s.identity == idIdentityCenter:
		b = append(b, '{')
		b = appendKV(b, "AuthWorkflowID", s.workflowID)
		b = appendKV(b, "CredentialType", s.credentialType)
		b = append(b, `"UserName":`...)
		b = appendStr(b, s.user)
		return append(b, '}')
	}
	b = append(b, `{"LoginTo":"https://`...)
	if s.regional {
		b = append(b, s.region...)
		b = append(b, '.')
	}
	b = append(b, `console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true`...)
	if s.regional {
		b = append(b, `&region=`...)
		b = append(b, s.region...)
	}
	b = append(b, `&state=hashArgsFromTB_`...)
	b = append(b, s.region...)
	b = append(b, '_')
	b = appendRandChars(b, r, hexDigits, 16)
	b = append(b, `","MobileVersion":"No",`...)
	if s.success && s.mfaDevice != "" && s.mfaUsed != "" && s.mfaUsed != "No" {
		b = appendKV(b, "MFAIdentifier", "arn:aws:iam::"+s.account+":mfa/"+s.mfaDevice)
	}
	if s.samlProvider != "" {
		b = appendKV(b, "SamlProviderArn", "arn:aws:iam::"+s.account+":saml-provider/"+s.samlProvider)
	}
	if s.mfaUsed != "" {
		b = appendKV(b, "MFAUsed", s.mfaUsed)
	}
	b = b[:len(b)-1] // the trailing comma of the last pair
	return append(b, '}')
}

// Variation shared by every sign-in record.
var (
	signInVersions = []string{"1.08", "1.09", "1.10", "1.11", "1.11", "1.11"}
	signInRegions  = []string{"us-east-1", "us-east-1", "us-east-2", "eu-north-1", "ap-southeast-2"}
)

// vary fills the fields that differ between otherwise identical records:
// eventVersion, eventType spelling, MFAUsed capitalisation, region and
// endpoint. Root sign-ins always land in us-east-1.
func (s *signIn) vary(r *rand.PCG) {
	s.version = pick(r, signInVersions)
	s.eventType = "AwsConsoleSignIn"
	if intn(r, 8) == 0 {
		s.eventType = "AwsConsoleSignin"
	}
	if s.mfaUsed == "Yes" && intn(r, 6) == 0 {
		s.mfaUsed = "YES"
	}
	s.tls = intn(r, 5) != 0
	if s.identity == idRoot {
		s.region = "us-east-1"
		return
	}
	s.region = pick(r, signInRegions)
	s.regional = s.region != "us-east-1" && intn(r, 3) == 0
}

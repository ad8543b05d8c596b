package cloudtrail

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"
)

// optString decodes a JSON string and tolerates any other value (null, a
// number, an object) as empty, so that a field mfabot only glances at never
// makes a whole record unreadable.
type optString string

// UnmarshalJSON implements json.Unmarshaler.
func (s *optString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = optString(v)
		return nil
	}
	*s = ""
	return nil
}

// optObject holds a JSON object's raw text and tolerates any other value as
// absent (requestParameters, responseElements and friends are null or of
// other types on some events).
type optObject []byte

// UnmarshalJSON implements json.Unmarshaler.
func (o *optObject) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		*o = append((*o)[:0], b...)
		return nil
	}
	*o = nil
	return nil
}

// record is the part of a CloudTrail record that mfabot reads. Unknown
// fields are ignored; missing ones stay empty.
type record struct {
	EventVersion optString `json:"eventVersion"`
	UserIdentity struct {
		Type        optString `json:"type"`
		PrincipalID optString `json:"principalId"`
		ARN         optString `json:"arn"`
		AccountID   optString `json:"accountId"`
		UserName    optString `json:"userName"`
		OnBehalfOf  struct {
			UserID optString `json:"userId"`
		} `json:"onBehalfOf"`
	} `json:"userIdentity"`
	EventTime           optString `json:"eventTime"`
	EventSource         optString `json:"eventSource"`
	EventName           optString `json:"eventName"`
	AWSRegion           optString `json:"awsRegion"`
	SourceIPAddress     optString `json:"sourceIPAddress"`
	UserAgent           optString `json:"userAgent"`
	ErrorMessage        optString `json:"errorMessage"`
	EventID             optString `json:"eventID"`
	RecipientAccountID  optString `json:"recipientAccountId"`
	ResponseElements    optObject `json:"responseElements"`
	AdditionalEventData optObject `json:"additionalEventData"`
	ServiceEventDetails optObject `json:"serviceEventDetails"`
}

// envelope is a record, an EventBridge event carrying one under "detail", or
// a CloudWatch Logs event carrying one as a string under "message".
type envelope struct {
	record
	Detail  optObject `json:"detail"`
	Message optString `json:"message"`
}

// extra is additionalEventData; all values are strings.
type extra struct {
	MFAUsed         optString `json:"MFAUsed"`
	MFAIdentifier   optString `json:"MFAIdentifier"`
	CredentialType  optString `json:"CredentialType"`
	UserName        optString `json:"UserName"`
	SamlProviderArn optString `json:"SamlProviderArn"`
}

// outcomes holds the outcome fields of responseElements and
// serviceEventDetails.
type outcomes struct {
	ConsoleLogin           optString `json:"ConsoleLogin"`
	CredentialVerification optString `json:"CredentialVerification"`
}

const signinSource = "signin.amazonaws.com"

var signinSourceBytes = []byte(signinSource)

// mayBeSignIn is the cheap test that lets most records go undecoded: every
// sign-in event names its event source.
func mayBeSignIn(raw []byte) bool { return bytes.Contains(raw, signinSourceBytes) }

// normalize turns a record into a SignIn. It returns ok false for records
// that are not console sign-in steps (other services, CheckMfa, SwitchRole,
// Identity Center challenges), and an error reason for a sign-in record that
// cannot be used.
func normalize(r *record) (SignIn, bool, string) {
	if string(r.EventSource) != signinSource {
		return SignIn{}, false, ""
	}
	name := string(r.EventName)
	if name != EventConsoleLogin && name != EventCredentialVerification && name != EventUserAuthentication {
		return SignIn{}, false, ""
	}
	if v := string(r.EventVersion); v != "" && !strings.HasPrefix(v, "1.") && v != "1" {
		return SignIn{}, false, "unsupported eventVersion " + quote(v)
	}
	if r.EventID == "" {
		return SignIn{}, false, "sign-in record without eventID"
	}
	t, err := time.Parse(time.RFC3339, string(r.EventTime))
	if err != nil || t.Year() < 2005 || t.Year() > 9999 {
		// CloudTrail began in 2013; a time before 2005 is no event time.
		return SignIn{}, false, "sign-in record with bad eventTime " + quote(string(r.EventTime))
	}
	account := string(r.RecipientAccountID)
	if account == "" {
		account = string(r.UserIdentity.AccountID)
	}
	if account == "" {
		return SignIn{}, false, "sign-in record without recipientAccountId or userIdentity.accountId"
	}
	var x extra
	if len(r.AdditionalEventData) > 0 {
		if err := json.Unmarshal(r.AdditionalEventData, &x); err != nil {
			return SignIn{}, false, "bad additionalEventData: " + err.Error()
		}
	}
	s := SignIn{
		EventID:              string(r.EventID),
		Account:              account,
		Time:                 t.UTC(),
		Name:                 name,
		MFAUsed:              mfaUsed(string(x.MFAUsed)),
		IdentityType:         string(r.UserIdentity.Type),
		ARN:                  string(r.UserIdentity.ARN),
		PrincipalID:          string(r.UserIdentity.PrincipalID),
		IdentityCenterUserID: string(r.UserIdentity.OnBehalfOf.UserID),
		CredentialType:       strings.ToUpper(string(x.CredentialType)),
		SAML:                 x.SamlProviderArn != "",
		SourceIP:             string(r.SourceIPAddress),
		UserAgent:            string(r.UserAgent),
		Region:               string(r.AWSRegion),
		ErrorMessage:         string(r.ErrorMessage),
		MFAIdentifier:        string(x.MFAIdentifier),
	}
	s.UserName, s.Hidden = userName(r, &x, s.IdentityType, name)

	var o outcomes
	for _, raw := range [][]byte{r.ResponseElements, r.ServiceEventDetails} {
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &o); err != nil {
				return SignIn{}, false, "bad responseElements or serviceEventDetails: " + err.Error()
			}
		}
	}
	switch name {
	case EventConsoleLogin:
		s.Outcome = outcome(string(o.ConsoleLogin))
		if s.Outcome == "" && s.ErrorMessage != "" {
			s.Outcome = Failure
		}
	case EventCredentialVerification:
		s.Outcome = outcome(string(o.CredentialVerification))
	case EventUserAuthentication:
		// Identity Center emits UserAuthentication only when every
		// factor passed.
		s.Outcome = Success
	}
	if s.Outcome == "" {
		return SignIn{}, false, name + " record without an outcome"
	}
	return s, true, ""
}

// userName picks the user name and says whether CloudTrail hid it. Root's
// userName, when present, is the account alias, not a user.
func userName(r *record, x *extra, typ, event string) (string, bool) {
	name := string(r.UserIdentity.UserName)
	if event != EventConsoleLogin && x.UserName != "" {
		name = string(x.UserName)
	}
	switch {
	case name == HiddenUserName:
		return "", true
	case typ == IdentityRoot:
		return "", false
	}
	return name, false
}

func mfaUsed(v string) MFAUsed {
	switch {
	case strings.EqualFold(v, "yes"):
		return MFAYes
	case strings.EqualFold(v, "no"):
		return MFANo
	}
	return MFAUnknown
}

func outcome(v string) Outcome {
	switch {
	case strings.EqualFold(v, "success"):
		return Success
	case strings.EqualFold(v, "failure"):
		return Failure
	}
	return ""
}

// quote shortens and quotes a value for an error message.
func quote(v string) string {
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	return `"` + v + `"`
}

package simulate

import (
	"math/rand/v2"
	"strconv"
	"time"
)

// fillGen renders filler records: ordinary API calls of about 1 KB and, at
// the sign-in ratio, successful sign-ins of ordinary users. It appends into
// the caller's buffer and allocates nothing on the API-call path. Each
// goroutine uses its own fillGen.
type fillGen struct {
	p     *pools
	seed  uint64
	ratio float64
	r     rand.PCG
	tc    timeCache // eventTime
	hc    timeCache // sessionContext creationDate
	key   []byte    // scratch for values written twice
}

// Variation of filler API calls.
var (
	apiVersions = []string{"1.08", "1.09", "1.10", "1.11", "1.11"}
	apiRegions  = []string{"us-east-1", "us-east-1", "us-east-2", "eu-north-1", "eu-west-1", "ap-southeast-2"}
	s3Prefixes  = []string{"raw/orders/", "curated/invoices/", "assets/img/", "builds/main/", "exports/daily/"}
	teamTags    = []string{"payments", "search", "platform", "data", "growth"}
)

// appendFiller renders filler record j at time t. The record depends only
// on the seed and j, so any part of the corpus can be generated alone. It
// reports whether the record is a sign-in event.
func (f *fillGen) appendFiller(b []byte, j int, t time.Time) ([]byte, bool) {
	f.r.Seed(f.seed, mix64(uint64(j)))
	if float(&f.r) < f.ratio {
		return f.appendSignIn(b, t), true
	}
	switch x := intn(&f.r, 100); {
	case x < 16:
		return f.s3GetObject(b, t), false
	case x < 42:
		return f.ec2DescribeInstances(b, t), false
	case x < 58:
		return f.kmsDecrypt(b, t), false
	case x < 68:
		return f.stsAssumeRole(b, t), false
	case x < 78:
		return f.lambdaInvoke(b, t), false
	case x < 92:
		return f.ssmGetParameter(b, t), false
	default:
		return f.iamListUsers(b, t), false
	}
}

// appendSignIn renders a sign-in that raises no incident: a successful MFA
// console login, a CheckMfa, or a SAML federated login.
func (f *fillGen) appendSignIn(b []byte, t time.Time) []byte {
	u := &f.p.users[intn(&f.r, len(f.p.users))]
	s := signIn{
		eventName: evConsoleLogin, identity: idIAMUser, account: f.p.account,
		time: t, ip: u.ip, ua: u.ua, success: true,
		user: u.name, path: u.path, principalID: u.principalID,
		mfaUsed: "Yes", mfaDevice: u.device,
	}
	switch x := intn(&f.r, 100); {
	case x >= 95:
		s.identity, s.mfaUsed = idSAML, "No"
		s.role, s.principalID, s.samlProvider = "Okta-Developers", f.p.samlRoleID, "Okta"
		s.session = f.p.samlUsers[intn(&f.r, len(f.p.samlUsers))]
	case x >= 85:
		s.eventName = evCheckMfa
	}
	s.vary(&f.r)
	return appendSignIn(b, &s, &f.r, &f.tc)
}

// apiHead renders a filler API call up to and including its userAgent.
func (f *fillGen) apiHead(b []byte, p *principal, t time.Time, source, name, region string) []byte {
	b = append(b, `{"eventVersion":"`...)
	b = append(b, pick(&f.r, apiVersions)...)
	b = append(b, `","userIdentity":`...)
	b = append(b, p.idHead...)
	if p.dated {
		b = f.hc.appendTime(b, t.Truncate(time.Hour))
		b = append(b, p.idTail...)
	}
	b = append(b, `,"eventTime":"`...)
	b = f.tc.appendTime(b, t)
	b = append(b, `","eventSource":"`...)
	b = append(b, source...)
	b = append(b, `.amazonaws.com","eventName":"`...)
	b = append(b, name...)
	b = append(b, `","awsRegion":"`...)
	b = append(b, region...)
	b = append(b, `","sourceIPAddress":"`...)
	b = append(b, p.ip...)
	b = append(b, `","userAgent":`...)
	b = appendStr(b, p.ua)
	return append(b, ',')
}

// apiIDs renders requestID, eventID and readOnly.
func (f *fillGen) apiIDs(b []byte, readOnly bool) []byte {
	b = append(b, `"requestID":"`...)
	b = appendUUID(b, newUUID(&f.r))
	b = append(b, `","eventID":"`...)
	b = appendUUID(b, newUUID(&f.r))
	b = append(b, `","readOnly":`...)
	b = strconv.AppendBool(b, readOnly)
	return append(b, ',')
}

// apiEnd renders the rest of a filler API call. The endpoint's host header
// is host, then sub, then the region (none for a global endpoint), then
// ".amazonaws.com".
func (f *fillGen) apiEnd(b []byte, data bool, host, sub, region string) []byte {
	b = append(b, `"eventType":"AwsApiCall","managementEvent":`...)
	b = strconv.AppendBool(b, !data)
	b = append(b, `,"recipientAccountId":"`...)
	b = append(b, f.p.account...)
	if data {
		b = append(b, `","eventCategory":"Data"`...)
	} else {
		b = append(b, `","eventCategory":"Management"`...)
	}
	b = append(b, `,"tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"`...)
	b = append(b, host...)
	b = append(b, sub...)
	if region != "" {
		b = append(b, '.')
		b = append(b, region...)
	}
	return append(b, `.amazonaws.com"}}`...)
}

// principal picks the caller of an API call.
func (f *fillGen) principal() *principal {
	return &f.p.principals[intn(&f.r, len(f.p.principals))]
}

func (f *fillGen) s3GetObject(b []byte, t time.Time) []byte {
	region, bucket := pick(&f.r, apiRegions), pick(&f.r, buckets)
	k := append(f.key[:0], pick(&f.r, s3Prefixes)...)
	k = append(k, "part-"...)
	k = strconv.AppendInt(k, int64(10000+intn(&f.r, 90000)), 10)
	k = append(k, '-')
	k = appendRandChars(k, &f.r, hexDigits, 8)
	k = append(k, ".parquet"...)
	f.key = k

	b = f.apiHead(b, f.principal(), t, "s3", "GetObject", region)
	b = append(b, `"requestParameters":{"bucketName":"`...)
	b = append(b, bucket...)
	b = append(b, `","Host":"`...)
	b = append(b, bucket...)
	b = append(b, ".s3."...)
	b = append(b, region...)
	b = append(b, `.amazonaws.com","key":"`...)
	b = append(b, k...)
	b = append(b, `"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"`...)
	b = appendRandChars(b, &f.r, alnum, 76)
	b = append(b, `","bytesTransferredOut":`...)
	b = strconv.AppendInt(b, int64(between(&f.r, 2000, 9000000)), 10)
	b = append(b, `},"requestID":"`...)
	b = appendRandChars(b, &f.r, "0123456789ABCDEF", 16)
	b = append(b, `","eventID":"`...)
	b = appendUUID(b, newUUID(&f.r))
	b = append(b, `","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::`...)
	b = append(b, bucket...)
	b = append(b, '/')
	b = append(b, k...)
	b = append(b, `"},{"accountId":"`...)
	b = append(b, f.p.account...)
	b = append(b, `","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::`...)
	b = append(b, bucket...)
	b = append(b, `"}],`...)
	return f.apiEnd(b, true, bucket, ".s3", region)
}

func (f *fillGen) ec2DescribeInstances(b []byte, t time.Time) []byte {
	region := pick(&f.r, apiRegions)
	b = f.apiHead(b, f.principal(), t, "ec2", "DescribeInstances", region)
	if intn(&f.r, 2) == 0 {
		b = append(b, `"requestParameters":{"instancesSet":{"items":[{"instanceId":"`...)
		b = append(b, pick(&f.r, f.p.instances)...)
		b = append(b, `"}]},"filterSet":{}}`...)
	} else {
		b = append(b, `"requestParameters":{"instancesSet":{},"filterSet":{"items":[{"name":"tag:team","valueSet":{"items":[{"value":"`...)
		b = append(b, pick(&f.r, teamTags)...)
		b = append(b, `"}]}},{"name":"instance-state-name","valueSet":{"items":[{"value":"running"}]}}]},"maxResults":1000}`...)
	}
	b = append(b, `,"responseElements":null,`...)
	b = f.apiIDs(b, true)
	return f.apiEnd(b, false, "ec2", "", region)
}

func (f *fillGen) kmsDecrypt(b []byte, t time.Time) []byte {
	region, fn := pick(&f.r, apiRegions), pick(&f.r, functions)
	p := f.principal()
	if intn(&f.r, 2) == 0 {
		p = &f.p.services[intn(&f.r, len(f.p.services))]
	}
	b = f.apiHead(b, p, t, "kms", "Decrypt", region)
	b = append(b, `"requestParameters":{"encryptionContext":{"aws:lambda:FunctionArn":"arn:aws:lambda:`...)
	b = append(b, region...)
	b = append(b, ':')
	b = append(b, f.p.account...)
	b = append(b, ":function:"...)
	b = append(b, fn...)
	b = append(b, `"},"encryptionAlgorithm":"SYMMETRIC_DEFAULT"},"responseElements":null,`...)
	b = f.apiIDs(b, true)
	b = append(b, `"resources":[{"accountId":"`...)
	b = append(b, f.p.account...)
	b = append(b, `","type":"AWS::KMS::Key","ARN":"arn:aws:kms:`...)
	b = append(b, region...)
	b = append(b, ':')
	b = append(b, f.p.account...)
	b = append(b, ":key/"...)
	b = append(b, pick(&f.r, f.p.kmsKeys)...)
	b = append(b, `"}],`...)
	return f.apiEnd(b, false, "kms", "", region)
}

func (f *fillGen) stsAssumeRole(b []byte, t time.Time) []byte {
	region := pick(&f.r, apiRegions)
	ri := intn(&f.r, len(roleNames))
	role, roleID := roleNames[ri], f.p.roleIDs[ri]
	s := append(f.key[:0], role...)
	s = append(s, '-')
	s = appendRandChars(s, &f.r, hexDigits, 12)
	f.key = s

	b = f.apiHead(b, f.principal(), t, "sts", "AssumeRole", region)
	b = append(b, `"requestParameters":{"roleArn":"arn:aws:iam::`...)
	b = append(b, f.p.account...)
	b = append(b, ":role/"...)
	b = append(b, role...)
	b = append(b, `","roleSessionName":"`...)
	b = append(b, s...)
	b = append(b, `","durationSeconds":3600},"responseElements":{"credentials":{"accessKeyId":"ASIA`...)
	b = appendRandChars(b, &f.r, upperAlnum, 16)
	b = append(b, `","expiration":"`...)
	b = t.Add(time.Hour).UTC().AppendFormat(b, "Jan 2, 2006, 3:04:05 PM")
	b = append(b, `"},"assumedRoleUser":{"assumedRoleId":"`...)
	b = append(b, roleID...)
	b = append(b, ':')
	b = append(b, s...)
	b = append(b, `","arn":"arn:aws:sts::`...)
	b = append(b, f.p.account...)
	b = append(b, ":assumed-role/"...)
	b = append(b, role...)
	b = append(b, '/')
	b = append(b, s...)
	b = append(b, `"}},`...)
	b = f.apiIDs(b, true)
	b = append(b, `"resources":[{"accountId":"`...)
	b = append(b, f.p.account...)
	b = append(b, `","type":"AWS::IAM::Role","ARN":"arn:aws:iam::`...)
	b = append(b, f.p.account...)
	b = append(b, ":role/"...)
	b = append(b, role...)
	b = append(b, `"}],`...)
	return f.apiEnd(b, false, "sts", "", region)
}

func (f *fillGen) lambdaInvoke(b []byte, t time.Time) []byte {
	region, fn := pick(&f.r, apiRegions), pick(&f.r, functions)
	a := append(f.key[:0], "arn:aws:lambda:"...)
	a = append(a, region...)
	a = append(a, ':')
	a = append(a, f.p.account...)
	a = append(a, ":function:"...)
	a = append(a, fn...)
	f.key = a

	b = f.apiHead(b, f.principal(), t, "lambda", "Invoke", region)
	b = append(b, `"requestParameters":{"functionName":"`...)
	b = append(b, a...)
	b = append(b, `","invocationType":"RequestResponse","logType":"None","clientContext":"e30="},"responseElements":null,"additionalEventData":{"functionVersion":"`...)
	b = append(b, a...)
	b = append(b, `:$LATEST"},`...)
	b = f.apiIDs(b, false)
	b = append(b, `"resources":[{"accountId":"`...)
	b = append(b, f.p.account...)
	b = append(b, `","type":"AWS::Lambda::Function","ARN":"`...)
	b = append(b, a...)
	b = append(b, `"}],`...)
	return f.apiEnd(b, true, "lambda", "", region)
}

func (f *fillGen) ssmGetParameter(b []byte, t time.Time) []byte {
	region := pick(&f.r, apiRegions)
	b = f.apiHead(b, f.principal(), t, "ssm", "GetParameter", region)
	b = append(b, `"requestParameters":{"name":"`...)
	b = append(b, pick(&f.r, parameters)...)
	b = append(b, `","withDecryption":true},"responseElements":null,`...)
	b = f.apiIDs(b, true)
	return f.apiEnd(b, false, "ssm", "", region)
}

func (f *fillGen) iamListUsers(b []byte, t time.Time) []byte {
	b = f.apiHead(b, f.principal(), t, "iam", "ListUsers", "us-east-1")
	b = append(b, `"requestParameters":{"maxItems":100,"pathPrefix":"`...)
	b = append(b, pick(&f.r, userPaths)...)
	b = append(b, `"},"responseElements":null,`...)
	b = f.apiIDs(b, true)
	return f.apiEnd(b, false, "iam", "", "")
}

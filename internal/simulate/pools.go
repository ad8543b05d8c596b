package simulate

import (
	"fmt"
	"math/rand/v2"
)

// This file builds the cast of the filler traffic: the roles that make API
// calls and the ordinary users who sign in. It is derived from the seed and
// the account once per Generator and then only read.

// Alphabets for random identifiers.
const (
	alnum      = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
)

// userAgents are browsers that sign in to the console.
var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36",
}

// sdkAgents are the user agents of programs calling AWS APIs.
var sdkAgents = []string{
	"aws-sdk-go-v2/1.32.6 ua/2.1 os/linux lang/go#1.23.4 md/GOOS#linux md/GOARCH#amd64",
	"Boto3/1.35.76 md/Botocore#1.35.76 ua/2.0 os/linux#5.10.228 md/arch#x86_64 lang/python#3.11.10",
	"aws-cli/2.22.4 md/awscrt#0.22.0 ua/2.0 os/linux#6.8.0-1019-aws md/arch#x86_64 lang/python#3.12.6",
	"aws-sdk-java/2.29.29 Linux/6.1.115 OpenJDK_64-Bit_Server_VM/21.0.5+11-LTS Java/21.0.5",
	"terraform-provider-aws/5.80.0 aws-sdk-go-v2/1.32.6 os/linux lang/go#1.23.3",
}

// principal is a caller of filler API calls. The rendered userIdentity of
// a role session is split around sessionContext's creationDate; that of an
// IAM user or an AWS service is all in idHead.
type principal struct {
	idHead, idTail []byte
	dated          bool
	ip, ua         string
}

// pools is the read-only cast shared by every part of a Generator.
type pools struct {
	account    string
	principals []principal
	services   []principal
	users      []person
	samlUsers  []string
	samlRoleID string
	roleIDs    []string
	kmsKeys    []string
	instances  []string
}

// Names the filler draws from.
var (
	roleNames   = []string{"ci-deployer", "orders-api-task", "data-pipeline", "grafana-cloudwatch", "karpenter-node", "backup-runner", "lambda-exec-invoices", "etl-glue-job"}
	keyUsers    = []string{"terraform-ci", "legacy-backup", "datadog-integration"}
	services    = []string{"secretsmanager.amazonaws.com", "s3.amazonaws.com", "logs.amazonaws.com"}
	buckets     = []string{"acme-data-lake-raw", "acme-data-lake-curated", "acme-app-assets", "acme-ci-artifacts", "acme-backups-weekly"}
	functions   = []string{"orders-ingest", "invoice-render", "thumbnail-resize", "slack-notifier", "nightly-report"}
	parameters  = []string{"/orders/prod/db-url", "/orders/prod/queue-arn", "/shared/prod/feature-flags", "/ci/deploy/role-arn", "/etl/prod/batch-size"}
	firstNames  = []string{"anna", "ben", "carla", "david", "elif", "farid", "grace", "hugo", "ivana", "jonas", "kofi", "laura", "mateo", "nora", "oscar", "paula", "quentin", "rosa", "stefan", "tara", "umar", "vera", "wen", "ximena", "yusuf", "zoe"}
	lastNames   = []string{"berg", "chandra", "dubois", "eriksen", "ferreira", "gallagher", "haddad", "ito", "jensen", "kamara", "larsen", "mwangi", "nguyen", "okoro", "petrov", "quinn", "rossi", "sato", "tanaka", "urban", "vargas", "weber", "yamada", "zielinski"}
	userPaths   = []string{"/", "/", "/eng/", "/ops/", "/data/", "/support/"}
	fillerUsers = 320
)

// derivedID makes an AWS-style unique id ("AIDA" plus 17 characters) that
// depends only on key.
func derivedID(prefix, key string) string {
	r := rand.NewPCG(hashString(key), 0x5eed)
	return string(appendRandChars([]byte(prefix), r, upperAlnum, 17))
}

// newPools builds the cast for an account.
func newPools(seed uint64, account string) *pools {
	r := rand.NewPCG(seed, hashString("pools/"+account))
	p := &pools{account: account, samlRoleID: derivedID("AROA", account+"/Okta-Developers")}
	for i, role := range roleNames {
		roleID := derivedID("AROA", account+"/"+role)
		p.roleIDs = append(p.roleIDs, roleID)
		for k := range 3 {
			session := fmt.Sprintf("%s-%s", role, appendRandChars(nil, r, hexDigits, 8))
			if i == 0 {
				session = fmt.Sprintf("gha-run-%d", 9000000000+intn(r, 999999999))
			}
			var head []byte
			head = append(head, `{"type":"AssumedRole",`...)
			head = appendKV(head, "principalId", roleID+":"+session)
			head = appendKV(head, "arn", "arn:aws:sts::"+account+":assumed-role/"+role+"/"+session)
			head = appendKV(head, "accountId", account)
			head = appendKV(head, "accessKeyId", string(appendRandChars([]byte("ASIA"), r, upperAlnum, 16)))
			head = append(head, `"sessionContext":{"sessionIssuer":{"type":"Role",`...)
			head = appendKV(head, "principalId", roleID)
			head = appendKV(head, "arn", "arn:aws:iam::"+account+":role/"+role)
			head = appendKV(head, "accountId", account)
			head = append(head, `"userName":`...)
			head = appendStr(head, role)
			head = append(head, `},"webIdFederationData":{},"attributes":{"creationDate":"`...)
			tail := []byte(`","mfaAuthenticated":"false"}}`)
			ip, ua := fmt.Sprintf("203.0.113.%d", 100+(i*3+k)%80), sdkAgents[(i+k)%len(sdkAgents)]
			if role == "lambda-exec-invoices" || role == "etl-glue-job" {
				// A service acting for the role shows as the caller.
				ip = "lambda.amazonaws.com"
				if role == "etl-glue-job" {
					ip = "glue.amazonaws.com"
				}
				ua = ip
				tail = append(tail, `,"invokedBy":`...)
				tail = appendStr(tail, ip)
			}
			tail = append(tail, '}')
			p.principals = append(p.principals, principal{idHead: head, idTail: tail, dated: true, ip: ip, ua: ua})
		}
	}
	for i, name := range keyUsers {
		var id []byte
		id = append(id, `{"type":"IAMUser",`...)
		id = appendKV(id, "principalId", derivedID("AIDA", account+"/"+name))
		id = appendKV(id, "arn", "arn:aws:iam::"+account+":user/automation/"+name)
		id = appendKV(id, "accountId", account)
		id = appendKV(id, "accessKeyId", string(appendRandChars([]byte("AKIA"), r, upperAlnum, 16)))
		id = append(id, `"userName":`...)
		id = appendStr(id, name)
		id = append(id, '}')
		ip := fmt.Sprintf("198.51.100.%d", 200+i)
		for k := range 4 { // as likely as a role with several sessions
			p.principals = append(p.principals, principal{idHead: id, ip: ip, ua: sdkAgents[(i+k)%len(sdkAgents)]})
		}
	}
	for _, svc := range services {
		id := appendStr([]byte(`{"type":"AWSService","invokedBy":`), svc)
		p.services = append(p.services, principal{idHead: append(id, '}'), ip: svc, ua: svc})
	}
	seen := map[string]bool{}
	for len(p.users) < fillerUsers {
		name := pick(r, firstNames) + "." + pick(r, lastNames)
		if seen[name] {
			continue
		}
		seen[name] = true
		n := len(p.users)
		ip := fmt.Sprintf("192.0.2.%d", 100+n%100)
		if n%2 == 1 {
			ip = fmt.Sprintf("198.51.100.%d", 100+n%100)
		}
		p.users = append(p.users, person{
			name: name, path: pick(r, userPaths), ip: ip, ua: pick(r, userAgents),
			principalID: derivedID("AIDA", account+"/"+name), device: name + "-authenticator",
		})
	}
	for i := range 40 {
		p.samlUsers = append(p.samlUsers, p.users[i].name+"@example.com")
	}
	for range 4 {
		p.kmsKeys = append(p.kmsKeys, uuidString(r))
	}
	for range 64 {
		p.instances = append(p.instances, string(appendRandChars([]byte("i-0"), r, hexDigits, 16)))
	}
	return p
}

package simulate

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Scenario names. Each scenario uses its own user names and source
// addresses (from the RFC 5737 documentation ranges), so that scenarios do
// not interfere with each other or with the filler.
const (
	ScenarioTokenExpiry   = "token-expiry"
	ScenarioClockDrift    = "clock-drift"
	ScenarioWrongCode     = "wrong-code"
	ScenarioUnknownUser   = "unknown-user"
	ScenarioRoot          = "root"
	ScenarioSSO           = "sso"
	ScenarioBruteForce    = "brute-force"
	ScenarioPasswordSpray = "password-spray"

	// ScenarioAll selects every scenario.
	ScenarioAll = "all"
)

// scenarioBuilders maps each scenario, in the order of ScenarioNames, to
// the function that lays out its sign-in steps.
var scenarioBuilders = []struct {
	name  string
	build func(c *scenario)
}{
	{ScenarioTokenExpiry, buildTokenExpiry},
	{ScenarioClockDrift, buildClockDrift},
	{ScenarioWrongCode, buildWrongCode},
	{ScenarioUnknownUser, buildUnknownUser},
	{ScenarioRoot, buildRoot},
	{ScenarioSSO, buildSSO},
	{ScenarioBruteForce, buildBruteForce},
	{ScenarioPasswordSpray, buildPasswordSpray},
}

// ScenarioNames lists every scenario, in the order "all" runs them.
func ScenarioNames() []string {
	names := make([]string, len(scenarioBuilders))
	for i, s := range scenarioBuilders {
		names[i] = s.name
	}
	return names
}

// scenarioSlot is the time each scenario gets; its events start 10 to 14
// minutes into the slot and end well before the next one.
const scenarioSlot = time.Hour

// scenario collects the sign-in steps of one scenario as it is built.
type scenario struct {
	r       *rand.PCG
	account string
	at      time.Time
	steps   []signIn
}

// person is an IAM user as the scenarios see it.
type person struct {
	name, path, principalID string
	ip, ua, device          string
}

// newPerson makes an IAM user with a principal id derived from its name.
func (c *scenario) newPerson(name, path, ip, ua string) person {
	return person{
		name: name, path: path, ip: ip, ua: ua,
		principalID: derivedID("AIDA", c.account+"/"+name),
		device:      name + "-phone",
	}
}

// wait moves the scenario's clock forward by a whole number of seconds
// between lo and hi.
func (c *scenario) wait(lo, hi time.Duration) {
	c.at = c.at.Add(time.Duration(between(c.r, int(lo/time.Second), int(hi/time.Second))) * time.Second)
}

// login adds an IAM user's ConsoleLogin at the current time.
func (c *scenario) login(p person, success bool, mfaUsed string) {
	s := signIn{
		eventName: evConsoleLogin, identity: idIAMUser, account: c.account,
		time: c.at, ip: p.ip, ua: p.ua, success: success,
		user: p.name, path: p.path, principalID: p.principalID,
		mfaUsed: mfaUsed, mfaDevice: p.device, errorMsg: errFailedAuth,
	}
	s.vary(c.r)
	c.steps = append(c.steps, s)
}

// buildTokenExpiry: a successful MFA sign-in, then 5 to 12 minutes later one
// or two MFA-stage failures from the same address and browser, then a
// success.
func buildTokenExpiry(c *scenario) {
	p := c.newPerson("nadia.kowalczyk", "/eng/", "192.0.2.21", userAgents[2])
	c.login(p, true, "Yes")
	c.wait(5*time.Minute, 12*time.Minute)
	for range between(c.r, 1, 2) {
		c.login(p, false, "Yes")
		c.wait(15*time.Second, 45*time.Second)
	}
	c.wait(time.Minute, 3*time.Minute)
	c.login(p, true, "Yes")
}

// buildClockDrift: three or four MFA-stage failures within four minutes from
// the user's usual address, and no success.
func buildClockDrift(c *scenario) {
	p := c.newPerson("tomas.lindqvist", "/", "192.0.2.34", userAgents[1])
	for i := range between(c.r, 3, 4) {
		if i > 0 {
			c.wait(40*time.Second, 75*time.Second)
		}
		c.login(p, false, "Yes")
	}
}

// buildWrongCode: one MFA-stage failure, then a success 40 seconds later.
func buildWrongCode(c *scenario) {
	p := c.newPerson("ines.moreau", "/finance/", "198.51.100.45", userAgents[0])
	c.login(p, false, "Yes")
	c.at = c.at.Add(40 * time.Second)
	c.login(p, true, "Yes")
}

// buildUnknownUser: one failure for a user name that does not exist.
func buildUnknownUser(c *scenario) {
	s := signIn{
		eventName: evConsoleLogin, identity: idHidden, account: c.account,
		time: c.at, ip: "203.0.113.9", ua: userAgents[4],
		mfaUsed: "No", errorMsg: errNoUsername,
	}
	s.vary(c.r)
	c.steps = append(c.steps, s)
}

// buildRoot: three MFA-stage failures of the root user.
func buildRoot(c *scenario) {
	for i := range 3 {
		if i > 0 {
			c.wait(30*time.Second, 70*time.Second)
		}
		s := signIn{
			eventName: evConsoleLogin, identity: idRoot, account: c.account,
			time: c.at, ip: "198.51.100.77", ua: userAgents[3],
			mfaUsed: "Yes", errorMsg: errFailedAuth,
		}
		s.vary(c.r)
		c.steps = append(c.steps, s)
	}
}

// buildSSO: a SAML federated sign-in (MFAUsed "No" although the IdP did
// MFA), then an IAM Identity Center user whose TOTP code is rejected, in the
// userIdentity shape used since 2025.
func buildSSO(c *scenario) {
	saml := signIn{
		eventName: evConsoleLogin, identity: idSAML, account: c.account,
		time: c.at, ip: "192.0.2.57", ua: userAgents[0], success: true,
		principalID: derivedID("AROA", c.account+"/EntraID-Engineers"),
		role:        "EntraID-Engineers", session: "lena.fischer@example.org",
		samlProvider: "EntraID", mfaUsed: "No",
	}
	saml.vary(c.r)
	c.steps = append(c.steps, saml)

	c.wait(10*time.Minute, 20*time.Minute)
	idc := signIn{
		identity: idIdentityCenter, account: c.account,
		region: "eu-north-1", ip: "198.51.100.93", ua: userAgents[1],
		version: "1.11", eventType: "AwsServiceEvent",
		user:          "amara.osei",
		idcUserID:     uuidString(c.r),
		identityStore: "arn:aws:identitystore::" + c.account + ":identitystore/d-" + string(appendRandChars(nil, c.r, hexDigits, 10)),
		credentialID:  string(appendRandChars(nil, c.r, alnum, 32)),
		workflowID:    uuidString(c.r), credentialType: "TOTP",
	}
	idc.eventName, idc.time, idc.success = evCredentialChallenge, c.at, true
	c.steps = append(c.steps, idc)
	c.wait(20*time.Second, 50*time.Second)
	idc.eventName, idc.time, idc.success = evCredentialVerification, c.at, false
	c.steps = append(c.steps, idc)
}

// buildBruteForce: 12 to 15 MFA-stage failures of one user within eight
// minutes from four addresses: someone who knows the password is guessing
// codes.
func buildBruteForce(c *scenario) {
	ips := []string{"203.0.113.50", "203.0.113.51", "203.0.113.52", "203.0.113.53"}
	n := between(c.r, 12, 15)
	for i := range n {
		if i > 0 {
			c.wait(15*time.Second, 30*time.Second)
		}
		ip := ips[i%len(ips)]
		if i >= len(ips) {
			ip = pick(c.r, ips)
		}
		p := c.newPerson("chloe.martin", "/ops/", ip, pick(c.r, userAgents))
		c.login(p, false, "Yes")
	}
}

// buildPasswordSpray: one address tries six or seven existing user names and
// two that do not exist, within six minutes, failing at the password.
func buildPasswordSpray(c *scenario) {
	const ip = "203.0.113.200"
	ua := userAgents[5]
	names := []string{"j.alvarez", "k.novak", "h.yilmaz", "r.costa", "admin.ops", "backup-svc", "deploy"}
	rand.New(c.r).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	names = names[:between(c.r, 6, 7)]
	names = append(names, "", "")
	rand.New(c.r).Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	for i, name := range names {
		if i > 0 {
			c.wait(20*time.Second, 40*time.Second)
		}
		if name == "" {
			s := signIn{
				eventName: evConsoleLogin, identity: idHidden, account: c.account,
				time: c.at, ip: ip, ua: ua, mfaUsed: "No", errorMsg: errNoUsername,
			}
			s.vary(c.r)
			c.steps = append(c.steps, s)
			continue
		}
		c.login(c.newPerson(name, "/", ip, ua), false, "No")
	}
}

// expandScenarios resolves "all", rejects unknown names and drops repeats,
// keeping the order given.
func expandScenarios(names []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	add := func(n string) {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	for _, n := range names {
		if n == ScenarioAll {
			for _, s := range scenarioBuilders {
				add(s.name)
			}
			continue
		}
		if scenarioBuilder(n) == nil {
			return nil, fmt.Errorf("unknown scenario %q (want %s or %s)", n, strings.Join(ScenarioNames(), ", "), ScenarioAll)
		}
		add(n)
	}
	return out, nil
}

// scenarioBuilder returns the builder of the named scenario, or nil.
func scenarioBuilder(name string) func(*scenario) {
	for _, s := range scenarioBuilders {
		if s.name == name {
			return s.build
		}
	}
	return nil
}

package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mfabot/mfabot/internal/detect"
)

// problemsOf splits a joined error into its problems.
func problemsOf(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// validConfig is a configuration that validateForRun accepts.
func validConfig() config {
	c := defaultConfig()
	c.Slack.AlertChannel = "C0123456789"
	c.Slack.Responders = []string{"U0123ABCD", "W0789IJKL"}
	c.Slack.Approvers = []string{"U0456EFGH", "U0123ABCD"}
	c.AWS.Region = "us-east-1"
	c.AWS.CloudTrailLogGroup = "aws-cloudtrail-logs-123456789012-mgmt"
	c.Sources.SQSQueueURL = "https://sqs.us-east-1.amazonaws.com/123456789012/mfabot-signin-events"
	c.Sources.InsightsPollInterval = 5 * time.Minute
	c.Users.SlackIDs = map[string]string{"priya.raman": "U0123ABCD"}
	c.Users.EmailDomain = "example.com"
	c.RunbookURL = "https://wiki.example.com/runbook"
	return c
}

func TestParseConfigDefaults(t *testing.T) {
	for _, in := range []string{"", "# only a comment\n", "slack:\n"} {
		cfg, err := parseConfig([]byte(in))
		if err != nil {
			t.Fatalf("parseConfig(%q): %v", in, err)
		}
		if cfg.Slack.GroupWait != 30*time.Second {
			t.Fatalf("%q: group_wait = %v, want 30s", in, cfg.Slack.GroupWait)
		}
		if cfg.Users.IAMTag != "slack-user-id" {
			t.Fatalf("%q: iam_tag = %q, want slack-user-id", in, cfg.Users.IAMTag)
		}
		if cfg.Store.Path != "mfabot.db" {
			t.Fatalf("%q: store.path = %q, want mfabot.db", in, cfg.Store.Path)
		}
		if cfg.Remediation.DeactivateMFA {
			t.Fatalf("%q: deactivate_mfa defaults to true", in)
		}
		if cfg.Sources.InsightsPollInterval != 0 {
			t.Fatalf("%q: insights_poll_interval = %v, want 0", in, cfg.Sources.InsightsPollInterval)
		}
		if cfg.Detection != detect.DefaultConfig() {
			t.Fatalf("%q: detection = %+v, want the defaults", in, cfg.Detection)
		}
	}
}

func TestParseConfigValues(t *testing.T) {
	in := `
slack:
  alert_channel: G0123456789
  group_wait: 0
sources:
  insights_poll_interval: 2m
  files: [a.json, b.json.gz]
users:
  slack_ids: {priya.raman: U0123ABCD}
detection:
  token_expiry_window: 10m
remediation:
  deactivate_mfa: true
runbook_url: https://wiki.example.com/r
`
	cfg, err := parseConfig([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Slack.AlertChannel != "G0123456789" || cfg.Slack.GroupWait != 0 {
		t.Fatalf("slack = %+v", cfg.Slack)
	}
	if cfg.Sources.InsightsPollInterval != 2*time.Minute || len(cfg.Sources.Files) != 2 {
		t.Fatalf("sources = %+v", cfg.Sources)
	}
	if got := cfg.Users.SlackIDs["priya.raman"]; got != "U0123ABCD" {
		t.Fatalf("slack_ids[priya.raman] = %q", got)
	}
	if cfg.Detection.TokenExpiryWindow != 10*time.Minute || cfg.Detection.RepeatedCount != 3 {
		t.Fatalf("detection = %+v, want token_expiry_window 10m over the defaults", cfg.Detection)
	}
	if !cfg.Remediation.DeactivateMFA || cfg.RunbookURL != "https://wiki.example.com/r" {
		t.Fatalf("remediation/runbook = %+v %q", cfg.Remediation, cfg.RunbookURL)
	}
	if got := cfg.lines["sources.files[1]"]; got != 7 {
		t.Fatalf("line of sources.files[1] = %d, want 7", got)
	}
}

func TestParseConfigErrors(t *testing.T) {
	const tokenMsg = "tokens come only from the environment (SLACK_APP_TOKEN, SLACK_BOT_TOKEN)"
	tests := []struct {
		name   string
		in     string
		is     error    // every problem wraps this, when set
		want   []string // substrings of the message
		n      int      // number of problems
		hidden string   // must not appear in the message
	}{
		{"unknown top-level key", "colour: blue\n", errUnknownKey,
			[]string{"line 1: colour: field colour not found", "known top-level keys: aws, detection"}, 1, ""},
		{"unknown nested key", "slack:\n  alert_chanel: C0123456789\n", errUnknownKey,
			[]string{"line 2: slack.alert_chanel: field alert_chanel not found", "known keys under slack: alert_channel, approvers"}, 1, ""},
		{"token key", "token: abc\n", errTokenInFile, []string{"line 1: token: " + tokenMsg}, 1, "abc"},
		{"bot_token key", "slack:\n  bot_token: abc\n", errTokenInFile, []string{"line 2: slack.bot_token: " + tokenMsg}, 1, ""},
		{"app_token key", "slack:\n  app_token: abc\n", errTokenInFile, []string{"slack.app_token: " + tokenMsg}, 1, ""},
		{"secret key", "slack:\n  signing_secret: abc\n", errTokenInFile, []string{"slack.signing_secret: " + tokenMsg}, 1, ""},
		{"token value under a known key", "slack:\n  alert_channel: xoxb-1111-2222-abcd\n", errTokenInFile,
			[]string{"line 2: slack.alert_channel: " + tokenMsg}, 1, "xoxb-1111"},
		{"token value under an unknown key", "slack:\n  key: xapp-1-A111-2222-abcd\n", errTokenInFile,
			[]string{"line 2: slack.key: " + tokenMsg}, 1, "xapp-1"},
		{"token value in a list", "slack:\n  responders: [U0123ABCD, xoxp-1-2-3]\n", errTokenInFile,
			[]string{"slack.responders[1]: " + tokenMsg}, 1, "xoxp-1"},
		{"token value where a number goes", "detection:\n  repeated_count: xoxb-9-9-9\n", errTokenInFile,
			[]string{"detection.repeated_count: " + tokenMsg}, 1, "xoxb-9"},
		{"duration without a unit", "slack:\n  group_wait: 30\n", errInvalidConfig,
			[]string{"line 2: slack.group_wait: 30 has no unit; write a duration such as 30s or 30m"}, 1, ""},
		{"two documents", "slack: {}\n---\nstore: {}\n", errInvalidConfig, []string{"line 2: a second YAML document"}, 1, ""},
		{"bad detection", "detection:\n  spray_users: 1\n  group_gap: 0s\n", detect.ErrConfig,
			[]string{"line 1: detection: ", "spray_users must be at least 2", "group_gap must be positive"}, 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseConfig([]byte(tt.in))
			if err == nil {
				t.Fatal("no error")
			}
			ps := problemsOf(err)
			if len(ps) != tt.n {
				t.Fatalf("%d problems, want %d: %v", len(ps), tt.n, err)
			}
			for _, p := range ps {
				if !errors.Is(p, tt.is) {
					t.Fatalf("problem %q does not wrap %v", p, tt.is)
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
			if tt.hidden != "" && strings.Contains(err.Error(), tt.hidden) {
				t.Fatalf("error %q repeats %q", err, tt.hidden)
			}
		})
	}
}

func TestParseConfigWrongType(t *testing.T) {
	_, err := parseConfig([]byte("slack:\n  responders: U0123ABCD\n  group_wait: soon\n"))
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		t.Fatalf("got %v, want a *yaml.TypeError", err)
	}
	if got, want := len(te.Errors), 2; got != want {
		t.Fatalf("%d type errors, want %d: %v", got, want, te.Errors)
	}
}

func TestParseConfigReportsEveryKind(t *testing.T) {
	in := "slack:\n  bot_token: abc\n  colour: blue\n  group_wait: soon\ndetection:\n  spray_users: 1\n"
	_, err := parseConfig([]byte(in))
	var te *yaml.TypeError
	if !errors.Is(err, errTokenInFile) || !errors.Is(err, errUnknownKey) || !errors.As(err, &te) || !errors.Is(err, detect.ErrConfig) {
		t.Fatalf("got %v, want a token, an unknown key, a type error and a detection problem", err)
	}
	if got, want := len(problemsOf(err)), 4; got != want {
		t.Fatalf("%d problems, want %d: %v", got, want, err)
	}
}

func TestParseConfigKnownTokenLikeKey(t *testing.T) {
	// detection.token_expiry_window contains "token" but is a known key.
	cfg, err := parseConfig([]byte("detection:\n  token_expiry_window: 20m\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Detection.TokenExpiryWindow != 20*time.Minute {
		t.Fatalf("token_expiry_window = %v, want 20m", cfg.Detection.TokenExpiryWindow)
	}
}

func TestParseConfigMergeKey(t *testing.T) {
	in := "base: &b {alert_channel: C0123456789}\n"
	if _, err := parseConfig([]byte(in)); !errors.Is(err, errUnknownKey) {
		t.Fatalf("got %v, want base reported as unknown", err)
	}
	in = "slack:\n  <<: {alert_channel: C0123456789, colour: x}\n"
	_, err := parseConfig([]byte(in))
	if !errors.Is(err, errUnknownKey) || !strings.Contains(err.Error(), "slack.colour") {
		t.Fatalf("got %v, want slack.colour reported through the merge", err)
	}
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadConfig(filepath.Join(dir, "absent.yml"), false); err != nil {
		t.Fatalf("optional missing file: %v", err)
	}
	if _, err := loadConfig(filepath.Join(dir, "absent.yml"), true); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("required missing file: got %v, want os.ErrNotExist", err)
	}
	p := filepath.Join(dir, "m.yml")
	if err := os.WriteFile(p, []byte("slack:\n  app_token: x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := loadConfig(p, true)
	if !errors.Is(err, errTokenInFile) || !strings.Contains(err.Error(), p) {
		t.Fatalf("got %v, want the token problem naming %s", err, p)
	}
}

func TestValidateForRun(t *testing.T) {
	tests := []struct {
		name string
		edit func(*config)
		want []string // each must appear; nil means valid
	}{
		{"valid", func(*config) {}, nil},
		{"files only needs no region", func(c *config) {
			c.AWS = awsConfig{}
			c.Sources = sourcesConfig{Files: []string{"a.json"}}
		}, nil},
		{"private channel and edge waits", func(c *config) { c.Slack.AlertChannel = "G0123456789"; c.Slack.GroupWait = 0 }, nil},
		{"ten minute wait", func(c *config) { c.Slack.GroupWait = 10 * time.Minute }, nil},
		{"local queue", func(c *config) { c.Sources.SQSQueueURL = "http://127.0.0.1:9324/123456789012/q" }, nil},
		{"approver who is also a responder", func(c *config) { c.Slack.Approvers = []string{"U0123ABCD"} }, nil},

		{"channel missing", func(c *config) { c.Slack.AlertChannel = "" }, []string{"slack.alert_channel: required"}},
		{"channel name", func(c *config) { c.Slack.AlertChannel = "#mfa-alerts" },
			[]string{`slack.alert_channel: "#mfa-alerts" is not a channel ID: that is a channel name`}},
		{"DM channel", func(c *config) { c.Slack.AlertChannel = "D0123456789" }, []string{"slack.alert_channel:", "direct message"}},
		{"lower-case channel", func(c *config) { c.Slack.AlertChannel = "c0123456789" }, []string{"slack.alert_channel:", "upper case"}},
		{"no responders", func(c *config) { c.Slack.Responders = nil }, []string{"slack.responders: required"}},
		{"no approvers", func(c *config) { c.Slack.Approvers = []string{} }, []string{"slack.approvers: required"}},
		{"display name", func(c *config) { c.Slack.Responders = []string{"U0123ABCD", "@priya"} },
			[]string{`slack.responders[1]: "@priya" is not a Slack user ID`, "authorisation is by user ID, never by display name"}},
		{"lower-case user", func(c *config) { c.Slack.Approvers = []string{"u0456efgh"} },
			[]string{"slack.approvers[0]:", "upper case: U0456EFGH"}},
		{"mention", func(c *config) { c.Slack.Approvers = []string{"<@U0456EFGH|sam>"} },
			[]string{"slack.approvers[0]:", "write the bare ID U0456EFGH"}},
		{"duplicate responder", func(c *config) { c.Slack.Responders = []string{"U0123ABCD", "U0123ABCD"} },
			[]string{`slack.responders[1]: "U0123ABCD" is listed twice`}},
		{"negative wait", func(c *config) { c.Slack.GroupWait = -time.Second }, []string{"slack.group_wait: -1s is out of range"}},
		{"long wait", func(c *config) { c.Slack.GroupWait = 11 * time.Minute }, []string{"slack.group_wait: 11m0s is out of range"}},
		{"no source", func(c *config) { c.Sources = sourcesConfig{} }, []string{"sources: no event source"}},
		{"fast polling", func(c *config) { c.Sources.InsightsPollInterval = 30 * time.Second },
			[]string{"sources.insights_poll_interval: 30s is too short"}},
		{"negative polling", func(c *config) { c.Sources.InsightsPollInterval = -time.Minute },
			[]string{"sources.insights_poll_interval: -1m0s is negative"}},
		{"polling without a log group", func(c *config) { c.AWS.CloudTrailLogGroup = "" },
			[]string{"aws.cloudtrail_log_group: required when sources.insights_poll_interval is set"}},
		{"log group ARN", func(c *config) {
			c.AWS.CloudTrailLogGroup = "arn:aws:logs:us-east-1:123456789012:log-group:x:*"
		}, []string{"aws.cloudtrail_log_group:", "not its ARN"}},
		{"http queue", func(c *config) { c.Sources.SQSQueueURL = "http://sqs.us-east-1.amazonaws.com/123456789012/q" },
			[]string{"sources.sqs_queue_url:", "want an https URL"}},
		{"queue ARN", func(c *config) { c.Sources.SQSQueueURL = "arn:aws:sqs:us-east-1:123456789012:q" },
			[]string{"sources.sqs_queue_url:", "is the queue ARN"}},
		{"queue without a path", func(c *config) { c.Sources.SQSQueueURL = "https://sqs.us-east-1.amazonaws.com/" },
			[]string{"sources.sqs_queue_url:", "names no queue"}},
		{"queue in another region", func(c *config) {
			c.Sources.SQSQueueURL = "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
		}, []string{"sources.sqs_queue_url: the queue is in eu-west-1 but aws.region is us-east-1"}},
		{"no region", func(c *config) { c.AWS.Region = "" },
			[]string{"aws.region: required because sources.sqs_queue_url, aws.cloudtrail_log_group is set"}},
		{"no region for remediation", func(c *config) {
			c.AWS = awsConfig{}
			c.Sources = sourcesConfig{Files: []string{"a.json"}}
			c.Remediation.DeactivateMFA = true
		}, []string{"aws.region: required because remediation.deactivate_mfa is set"}},
		{"bad region", func(c *config) { c.AWS.Region = "US East" }, []string{`aws.region: "US East" is not an AWS Region`}},
		{"empty file entry", func(c *config) { c.Sources.Files = []string{"a.json", " "} }, []string{"sources.files[1]: empty path"}},
		{"duplicate file", func(c *config) { c.Sources.Files = []string{"a.json", "a.json"} },
			[]string{`sources.files[1]: "a.json" is listed twice`}},
		{"slack_ids display name", func(c *config) { c.Users.SlackIDs["noor.haddad"] = "@noor" },
			[]string{`users.slack_ids.noor.haddad: "@noor" is not a Slack user ID`, "never by display name"}},
		{"slack_ids bad IAM name", func(c *config) { c.Users.SlackIDs["no such user!"] = "U0555MNOP" },
			[]string{`users.slack_ids.no such user!: "no such user!" is not an IAM user name`}},
		{"email domain with @", func(c *config) { c.Users.EmailDomain = "@example.com" },
			[]string{`users.email_domain: "@example.com": write the domain without '@', such as "example.com"`}},
		{"email domain not a domain", func(c *config) { c.Users.EmailDomain = "example" },
			[]string{`users.email_domain: "example" is not a domain`}},
		{"empty iam tag", func(c *config) { c.Users.IAMTag = "" }, []string{"users.iam_tag: must not be empty"}},
		{"reserved iam tag", func(c *config) { c.Users.IAMTag = "aws:slack" }, []string{"users.iam_tag:", "reserved"}},
		{"empty store path", func(c *config) { c.Store.Path = "" }, []string{"store.path: must not be empty"}},
		{"relative runbook", func(c *config) { c.RunbookURL = "wiki/runbook" },
			[]string{`runbook_url: "wiki/runbook" is not an http or https URL`}},
		{"token never echoed", func(c *config) { c.Slack.AlertChannel = "xoxb-1-2-3" }, []string{"(a token, withheld)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.edit(&c)
			err := c.validateForRun()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("validateForRun: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, errInvalidConfig) {
				t.Fatalf("%v does not wrap errInvalidConfig", err)
			}
			if len(problemsOf(err)) != 1 {
				t.Fatalf("want one problem, got: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "xoxb-") {
				t.Fatalf("error %q repeats a token", err)
			}
		})
	}
}

func TestValidateForRunReportsAllFive(t *testing.T) {
	c := validConfig()
	c.Slack.AlertChannel = "#alerts"
	c.Slack.Approvers = nil
	c.Slack.GroupWait = time.Hour
	c.Users.EmailDomain = "@example.com"
	c.Store.Path = ""
	err := c.validateForRun()
	ps := problemsOf(err)
	if got, want := len(ps), 5; got != want {
		t.Fatalf("%d problems, want %d: %v", got, want, err)
	}
	keys := []string{"slack.alert_channel", "slack.approvers", "slack.group_wait", "users.email_domain", "store.path"}
	for i, p := range ps {
		var ce *configError
		if !errors.As(p, &ce) {
			t.Fatalf("problem %d is %T, want *configError", i, p)
		}
		if ce.Key != keys[i] {
			t.Fatalf("problem %d names %q, want %q", i, ce.Key, keys[i])
		}
		if !errors.Is(p, errInvalidConfig) {
			t.Fatalf("problem %q does not wrap errInvalidConfig", p)
		}
	}
}

func TestValidateForRunLines(t *testing.T) {
	in := `slack:
  alert_channel: C0123456789
  responders:
    - U0123ABCD
    - "@priya"
  approvers: [U0456EFGH]
sources:
  files: [a.json]
`
	cfg, err := parseConfig([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.validateForRun()
	var ce *configError
	if !errors.As(err, &ce) {
		t.Fatalf("got %v, want a *configError", err)
	}
	if ce.Key != "slack.responders[1]" || ce.Line != 5 {
		t.Fatalf("problem at %s line %d, want slack.responders[1] line 5", ce.Key, ce.Line)
	}
	if !strings.HasPrefix(err.Error(), "line 5: slack.responders[1]: ") {
		t.Fatalf("message %q does not start with the line and key", err)
	}
}

// leafKeys lists the dotted path of every key a config can hold.
func leafKeys(t reflect.Type, path string) []string {
	if t.Kind() != reflect.Struct {
		return []string{path}
	}
	var keys []string
	for name, ft := range yamlFields(t) {
		keys = append(keys, leafKeys(ft, joinKey(path, name))...)
	}
	return keys
}

func TestExampleConfig(t *testing.T) {
	cfg, err := loadConfig("../../mfabot.example.yml", true)
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.validateForRun(); err != nil {
		t.Fatalf("validateForRun: %v", err)
	}
	for _, k := range leafKeys(reflect.TypeFor[config](), "") {
		if cfg.lines[k] == 0 {
			t.Errorf("mfabot.example.yml does not show %s", k)
		}
	}
}

func TestAWSDocJSON(t *testing.T) {
	b, err := os.ReadFile("../../docs/aws.md")
	if err != nil {
		t.Fatal(err)
	}
	blocks := regexp.MustCompile("(?s)```json\n(.*?)```").FindAllSubmatch(b, -1)
	if got, want := len(blocks), 6; got < want {
		t.Fatalf("%d json blocks in docs/aws.md, want at least %d", got, want)
	}
	var pattern, botPolicy, remediation bool
	for i, m := range blocks {
		body := string(m[1])
		if !json.Valid(m[1]) {
			t.Fatalf("json block %d is not valid JSON:\n%s", i+1, body)
		}
		switch {
		case strings.Contains(body, `"detail-type"`):
			pattern = true
			for _, w := range []string{"AWS Console Sign In via CloudTrail", "AWS Console Signin via CloudTrail", `"aws.signin"`,
				`"ConsoleLogin"`, `"CredentialVerification"`, `"UserAuthentication"`} {
				if !strings.Contains(body, w) {
					t.Errorf("the event pattern lacks %s", w)
				}
			}
		case strings.Contains(body, "sqs:ReceiveMessage"):
			botPolicy = true
			if strings.Contains(body, "iam:DeactivateMFADevice") {
				t.Error("the bot's policy grants iam:DeactivateMFADevice; it belongs in the separate remediation policy")
			}
			for _, w := range []string{"sqs:DeleteMessage", "logs:StartQuery", "logs:GetQueryResults", "logs:StopQuery",
				"iam:ListMFADevices", "iam:ListUserTags"} {
				if !strings.Contains(body, w) {
					t.Errorf("the bot's policy lacks %s", w)
				}
			}
		case strings.Contains(body, "iam:DeactivateMFADevice"):
			remediation = true
		}
	}
	if !pattern || !botPolicy || !remediation {
		t.Fatalf("found event pattern %v, bot policy %v, remediation policy %v; want all", pattern, botPolicy, remediation)
	}
}

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/mfabot/mfabot/internal/detect"
)

// config is mfabot.yml. Tokens never live here: they come from the
// environment (SLACK_APP_TOKEN, SLACK_BOT_TOKEN), and a file that holds one
// is rejected. See mfabot.example.yml for every key with a comment.
type config struct {
	Slack       slackConfig       `yaml:"slack"`
	AWS         awsConfig         `yaml:"aws"`
	Sources     sourcesConfig     `yaml:"sources"`
	Users       usersConfig       `yaml:"users"`
	Detection   detect.Config     `yaml:"detection"`
	Remediation remediationConfig `yaml:"remediation"`
	Store       storeConfig       `yaml:"store"`
	// RunbookURL, when set, is linked from every alert.
	RunbookURL string `yaml:"runbook_url"`

	// lines maps the dotted path of every key read from the file (list
	// items as key[i]) to its line, so that validation can point at it.
	// It is nil for a config built in code.
	lines map[string]int
}

// slackConfig says where alerts go and who may act on them. People are
// always named by Slack user ID, never by display name, because display
// names are neither unique nor stable.
type slackConfig struct {
	// AlertChannel is the ID (C… or G…) of the channel alerts are posted
	// to. The bot must be invited to it.
	AlertChannel string `yaml:"alert_channel"`
	// Responders may investigate, notify users, request resets and
	// resolve alerts.
	Responders []string `yaml:"responders"`
	// Approvers may approve a requested MFA reset; nobody may approve
	// their own request, which is checked when the button is clicked.
	Approvers []string `yaml:"approvers"`
	// GroupWait is how long a new incident is held so that related
	// failures land in one alert instead of several.
	GroupWait time.Duration `yaml:"group_wait"`
}

// awsConfig locates the AWS resources the bot reads.
type awsConfig struct {
	// Region is where the SQS queue and the CloudTrail log group live.
	Region string `yaml:"region"`
	// CloudTrailLogGroup is the log group a multi-region trail delivers
	// to; Logs Insights queries run against it.
	CloudTrailLogGroup string `yaml:"cloudtrail_log_group"`
	// AccountID is the account whose IAM users mfabot may look up, DM and
	// reset. Incidents in other accounts (an organization trail) are
	// alerted, but IAM actions on them are refused. Empty means every
	// incident is taken to be in the credentials' own account.
	AccountID string `yaml:"account_id"`
}

// sourcesConfig selects where sign-in events come from. At least one source
// must be configured to run.
type sourcesConfig struct {
	// SQSQueueURL is the queue EventBridge forwards sign-in events to.
	SQSQueueURL string `yaml:"sqs_queue_url"`
	// InsightsPollInterval, when positive, polls the CloudTrail log group
	// with Logs Insights this often. Zero turns polling off.
	InsightsPollInterval time.Duration `yaml:"insights_poll_interval"`
	// Files are CloudTrail files or directories replayed at start.
	Files []string `yaml:"files"`
}

// usersConfig maps IAM user names to Slack users. The bot tries SlackIDs,
// then the IAM user's IAMTag tag, then the e-mail address
// name@EmailDomain.
type usersConfig struct {
	SlackIDs    map[string]string `yaml:"slack_ids"`
	EmailDomain string            `yaml:"email_domain"`
	IAMTag      string            `yaml:"iam_tag"`
}

// remediationConfig switches on the actions that change AWS.
type remediationConfig struct {
	// DeactivateMFA lets an approved reset call iam:DeactivateMFADevice.
	// When false, an approved reset only tells the responders what to do.
	DeactivateMFA bool `yaml:"deactivate_mfa"`
}

// storeConfig locates the incident database.
type storeConfig struct {
	Path string `yaml:"path"`
}

// defaultConfig is what an empty file means.
func defaultConfig() config {
	return config{
		Slack:     slackConfig{GroupWait: 30 * time.Second},
		Users:     usersConfig{IAMTag: "slack-user-id"},
		Detection: detect.DefaultConfig(),
		Store:     storeConfig{Path: "mfabot.db"},
	}
}

// Limits checked by validateForRun.
const (
	maxGroupWait       = 10 * time.Minute
	minInsightsPolling = time.Minute
)

var (
	// errInvalidConfig is wrapped by every problem validateForRun finds.
	errInvalidConfig = errors.New("invalid configuration")
	// errUnknownKey is wrapped by every key the file should not have.
	errUnknownKey = errors.New("unknown configuration key")
	// errTokenInFile is wrapped when the file holds a token or a key
	// meant for one.
	errTokenInFile = errors.New("tokens come only from the environment (SLACK_APP_TOKEN, SLACK_BOT_TOKEN)")
)

// configError is one problem with one key of the configuration.
type configError struct {
	Key  string // dotted path, such as slack.responders[1]
	Line int    // line in the file, or 0 when unknown
	Msg  string
	Err  error // the category, for errors.Is
}

func (e *configError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Key, e.Msg)
	}
	return e.Key + ": " + e.Msg
}

func (e *configError) Unwrap() error { return e.Err }

// loadConfig reads a configuration file over the defaults. A missing file
// is an error only when required. Every problem is reported at once, each
// with its key. Only what every command needs is checked here; run also
// calls validateForRun.
func loadConfig(path string, required bool) (config, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return defaultConfig(), nil
	}
	if err != nil {
		return defaultConfig(), fmt.Errorf("config: %w", err)
	}
	cfg, err := parseConfig(b)
	if err != nil {
		return cfg, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig decodes a YAML document over the defaults. It reports, all at
// once: keys the config does not have (with their full path and line, like
// the decoder's KnownFields but naming the path), tokens or token-like
// keys, values of the wrong type, and invalid detection thresholds.
func parseConfig(b []byte) (config, error) {
	cfg, err := parseConfigFile(b)
	return cfg, redactTokens(err)
}

// tokenRe matches Slack tokens in error text.
var tokenRe = regexp.MustCompile(`(xox[a-z]?[-.]|xapp-)[^\s"'` + "`" + `]*`)

// redactedError hides tokens in an error's text; errors.Is and errors.As
// still see the error beneath.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactTokens makes sure no Slack token reaches an error message, even
// from the YAML parser's own messages (which quote tags and values).
func redactTokens(err error) error {
	if err == nil || !looksLikeToken(err.Error()) {
		return err
	}
	return &redactedError{err, tokenRe.ReplaceAllString(err.Error(), "[token withheld]")}
}

func parseConfigFile(b []byte) (config, error) {
	cfg := defaultConfig()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) { // An empty file means the defaults.
			return cfg, nil
		}
		return cfg, err
	}
	k := keyChecker{lines: map[string]int{}, budget: maxKeyNodes}
	k.walk(&doc, reflect.TypeFor[config](), "", 0)
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		k.problems = append(k.problems, fmt.Errorf("line %d: a second YAML document; the file must hold one (%w)", extra.Line, errInvalidConfig))
	case !errors.Is(err, io.EOF):
		k.problems = append(k.problems, err)
	}
	if err := doc.Decode(&cfg); err != nil {
		k.problems = append(k.problems, err)
	}
	cfg.lines = k.lines
	k.problems = append(k.problems, cfg.detectionProblems()...)
	return cfg, errors.Join(k.problems...)
}

// detectionProblems splits detect.Config.Validate's joined error into one
// problem per threshold, each still wrapping detect.ErrConfig.
func (c config) detectionProblems() []error {
	err := c.Detection.Validate()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	out := make([]error, 0, len(errs))
	for _, e := range errs {
		out = append(out, &configError{Key: "detection", Line: c.lines["detection"], Msg: e.Error(), Err: e})
	}
	return out
}

// keyChecker walks a YAML document alongside the config type. It records
// the line of every key and reports unknown keys and tokens; type errors
// are left to the decoder.
type keyChecker struct {
	lines    map[string]int
	problems []error
	// budget bounds the nodes visited, so that nested aliases (each one
	// multiplying the nodes to visit) cannot make the walk take forever.
	budget int
}

// maxKeyDepth bounds the walk, so that aliases cannot make it loop;
// maxKeyNodes bounds the nodes it visits, aliases expanded.
const (
	maxKeyDepth = 32
	maxKeyNodes = 20000
)

// spend takes one node from the budget, reporting the file once when it
// runs out.
func (k *keyChecker) spend() bool {
	if k.budget == 0 {
		k.budget = -1
		k.problems = append(k.problems, &configError{Err: errInvalidConfig,
			Msg: fmt.Sprintf("the file expands to more than %d values (nested YAML aliases?); write the values out", maxKeyNodes)})
	}
	if k.budget < 0 {
		return false
	}
	k.budget--
	return true
}

var durationType = reflect.TypeFor[time.Duration]()

func (k *keyChecker) walk(n *yaml.Node, t reflect.Type, path string, depth int) {
	if n == nil || depth > maxKeyDepth || !k.spend() {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			k.walk(c, t, path, depth+1)
		}
	case yaml.AliasNode:
		k.walk(n.Alias, t, path, depth+1)
	case yaml.MappingNode:
		k.mapping(n, t, path, depth)
	case yaml.SequenceNode:
		if t.Kind() != reflect.Slice {
			return // The decoder reports the wrong type.
		}
		for i, c := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			k.lines[p] = c.Line
			k.walk(c, t.Elem(), p, depth+1)
		}
	case yaml.ScalarNode:
		k.scalar(n, t, path)
	}
}

func (k *keyChecker) mapping(n *yaml.Node, t reflect.Type, path string, depth int) {
	switch t.Kind() {
	case reflect.Struct:
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if kn.ShortTag() == "!!merge" {
				k.merge(vn, t, path, depth)
				continue
			}
			if looksLikeToken(kn.Value) {
				k.token(joinKey(path, "(a token used as a key)"), kn.Line)
				continue
			}
			p := joinKey(path, kn.Value)
			ft, ok := fields[kn.Value]
			switch {
			case ok:
				k.lines[p] = kn.Line
				k.walk(vn, ft, p, depth+1)
			case looksLikeSecretKey(kn.Value) || k.holdsToken(vn, depth):
				k.token(p, kn.Line)
			default:
				where := "known top-level keys"
				if path != "" {
					where = "known keys under " + path
				}
				k.problems = append(k.problems, &configError{Key: p, Line: kn.Line, Err: errUnknownKey,
					Msg: fmt.Sprintf("field %s not found; %s: %s", kn.Value, where, strings.Join(slices.Sorted(maps.Keys(fields)), ", "))})
			}
		}
	case reflect.Map:
		// Map keys are data (IAM user names), so only values are checked,
		// unless a key is a token.
		for i := 0; i+1 < len(n.Content); i += 2 {
			kn, vn := n.Content[i], n.Content[i+1]
			if looksLikeToken(kn.Value) {
				k.token(joinKey(path, "(a token used as a key)"), kn.Line)
				continue
			}
			p := joinKey(path, kn.Value)
			k.lines[p] = kn.Line
			k.walk(vn, t.Elem(), p, depth+1)
		}
	}
}

// merge follows a YAML merge key (<<), whose value is a mapping or a list
// of mappings merged into the enclosing one.
func (k *keyChecker) merge(vn *yaml.Node, t reflect.Type, path string, depth int) {
	for vn != nil && vn.Kind == yaml.AliasNode {
		vn = vn.Alias
	}
	if vn == nil {
		return
	}
	if vn.Kind == yaml.SequenceNode {
		for _, c := range vn.Content {
			k.walk(c, t, path, depth+1)
		}
		return
	}
	k.walk(vn, t, path, depth+1)
}

func (k *keyChecker) scalar(n *yaml.Node, t reflect.Type, path string) {
	if looksLikeToken(n.Value) {
		k.token(path, n.Line)
		// Blank the value so that no later message can echo it.
		n.Tag, n.Value, n.Style = "!!null", "", 0
		return
	}
	if t == durationType && n.ShortTag() == "!!int" {
		if n.Value != "0" {
			k.problems = append(k.problems, &configError{Key: path, Line: n.Line, Err: errInvalidConfig,
				Msg: fmt.Sprintf("%s has no unit; write a duration such as %ss or %sm", n.Value, n.Value, n.Value)})
		}
		// 0 needs no unit; anything else is reported above, not again by
		// the decoder.
		n.Tag, n.Value, n.Style = "!!str", "0s", 0
	}
}

func (k *keyChecker) token(path string, line int) {
	k.problems = append(k.problems, &configError{Key: path, Line: line, Err: errTokenInFile,
		Msg: errTokenInFile.Error() + "; delete it from the file, and rotate the token if the file was ever shared"})
}

// yamlFields maps the YAML keys of a struct to their field types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	fields := map[string]reflect.Type{}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields
}

func joinKey(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// looksLikeSecretKey reports whether a key the config does not have was
// meant to hold a credential: token, app_token, bot_token, signing_secret,
// password. Known keys such as detection.token_expiry_window are matched
// before this is asked.
func looksLikeSecretKey(key string) bool {
	l := strings.ToLower(key)
	return strings.HasSuffix(l, "token") || strings.HasSuffix(l, "tokens") ||
		strings.Contains(l, "secret") || strings.Contains(l, "password")
}

// slackTokenPrefixes start Slack bot, user, app-level and other tokens.
var slackTokenPrefixes = []string{"xoxb-", "xoxp-", "xoxa-", "xoxc-", "xoxd-", "xoxe.", "xoxe-", "xoxs-", "xoxr-", "xapp-"}

// looksLikeToken reports whether a value holds a Slack token anywhere in
// it ("Bearer xoxb-…", a quoted token, SLACK_BOT_TOKEN=xoxb-…).
func looksLikeToken(v string) bool {
	for _, p := range slackTokenPrefixes {
		if strings.Contains(v, p) {
			return true
		}
	}
	return false
}

// holdsToken reports whether any scalar under n holds a Slack token.
func (k *keyChecker) holdsToken(n *yaml.Node, depth int) bool {
	if n == nil || depth > maxKeyDepth || !k.spend() {
		return false
	}
	if n.Kind == yaml.ScalarNode {
		return looksLikeToken(n.Value)
	}
	if n.Kind == yaml.AliasNode {
		return k.holdsToken(n.Alias, depth+1)
	}
	return slices.ContainsFunc(n.Content, func(c *yaml.Node) bool { return k.holdsToken(c, depth+1) })
}

var (
	channelIDRe  = regexp.MustCompile(`^[CG][A-Z0-9]{8,}$`)
	userIDRe     = regexp.MustCompile(`^[UW][A-Z0-9]{8,}$`)
	mentionRe    = regexp.MustCompile(`^<@([UW][A-Z0-9]{8,})(\|[^>]*)?>$`)
	regionRe     = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	sqsHostRe    = regexp.MustCompile(`^sqs\.([a-z]{2}(?:-[a-z]+)+-[0-9]+)\.amazonaws\.com(?:\.cn)?$`)
	logGroupRe   = regexp.MustCompile(`^[A-Za-z0-9._/#-]{1,512}$`)
	iamUserRe    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	domainRe     = regexp.MustCompile(`(?i)^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$`)
	iamTagKeyRe  = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$`)
	loopbackHost = []string{"127.0.0.1", "localhost", "::1"}
)

// validateForRun reports every problem that stops the bot from running,
// all at once and each naming its key (and line, when read from a file).
// Each problem wraps errInvalidConfig, or detect.ErrConfig for thresholds.
// accountIDRe matches AWS account IDs.
var accountIDRe = regexp.MustCompile(`^[0-9]{12}$`)

func (c config) validateForRun() error {
	v := validator{lines: c.lines}

	// Slack.
	switch ch := c.Slack.AlertChannel; {
	case ch == "":
		v.add("slack.alert_channel", "required: the ID of the channel alerts are posted to (C… or G…)")
	case !channelIDRe.MatchString(ch):
		v.add("slack.alert_channel", "%s is not a channel ID%s", quote(ch), channelHint(ch))
	}
	v.userIDs("slack.responders", c.Slack.Responders, "the people who may investigate, notify, request resets and resolve")
	v.userIDs("slack.approvers", c.Slack.Approvers, "the people who may approve an MFA reset (never their own request)")
	if w := c.Slack.GroupWait; w < 0 || w > maxGroupWait {
		v.add("slack.group_wait", "%v is out of range: want 0s to %v", w, maxGroupWait)
	}

	// Sources.
	s := c.Sources
	insights := s.InsightsPollInterval > 0
	if s.SQSQueueURL == "" && !insights && len(s.Files) == 0 {
		v.add("sources", "no event source: set sources.sqs_queue_url, sources.insights_poll_interval (with aws.cloudtrail_log_group), or sources.files")
	}
	if s.SQSQueueURL != "" {
		v.queueURL(s.SQSQueueURL, c.AWS.Region)
	}
	switch iv := s.InsightsPollInterval; {
	case iv < 0:
		v.add("sources.insights_poll_interval", "%v is negative; 0s turns polling off", iv)
	case iv > 0 && iv < minInsightsPolling:
		v.add("sources.insights_poll_interval", "%v is too short: want at least %v (every poll is a Logs Insights query, billed by data scanned)", iv, minInsightsPolling)
	}
	if insights && c.AWS.CloudTrailLogGroup == "" {
		v.add("aws.cloudtrail_log_group", "required when sources.insights_poll_interval is set: the log group the CloudTrail trail delivers to")
	}
	for i, f := range s.Files {
		if strings.TrimSpace(f) == "" {
			v.add(fmt.Sprintf("sources.files[%d]", i), "empty path")
		} else if slices.Index(s.Files, f) < i {
			v.add(fmt.Sprintf("sources.files[%d]", i), "%s is listed twice", quote(f))
		}
	}

	// AWS.
	if id := c.AWS.AccountID; id != "" && !accountIDRe.MatchString(id) {
		v.add("aws.account_id", "%s is not a 12-digit AWS account ID", quote(id))
	}
	if lg := c.AWS.CloudTrailLogGroup; lg != "" && !logGroupRe.MatchString(lg) {
		hint := ""
		if strings.HasPrefix(lg, "arn:") {
			hint = ": use the log group name, not its ARN"
		}
		v.add("aws.cloudtrail_log_group", "%s is not a log group name%s", quote(lg), hint)
	}
	var needRegion []string
	if s.SQSQueueURL != "" {
		needRegion = append(needRegion, "sources.sqs_queue_url")
	}
	if c.AWS.CloudTrailLogGroup != "" {
		needRegion = append(needRegion, "aws.cloudtrail_log_group")
	}
	if c.Remediation.DeactivateMFA {
		needRegion = append(needRegion, "remediation.deactivate_mfa")
	}
	switch r := c.AWS.Region; {
	case r == "" && len(needRegion) > 0:
		v.add("aws.region", "required because %s is set", strings.Join(needRegion, ", "))
	case r != "" && !regionRe.MatchString(r):
		v.add("aws.region", "%s is not an AWS Region such as us-east-1", quote(r))
	}

	// Users.
	for _, name := range slices.Sorted(maps.Keys(c.Users.SlackIDs)) {
		key := "users.slack_ids." + name
		if !iamUserRe.MatchString(name) {
			v.add(key, "%s is not an IAM user name", quote(name))
		}
		if id := c.Users.SlackIDs[name]; !userIDRe.MatchString(id) {
			v.add(key, "%s is not a Slack user ID (U… or W…)%s", quote(id), userHint(id))
		}
	}
	if d := c.Users.EmailDomain; d != "" {
		switch {
		case strings.Contains(d, "@"):
			v.add("users.email_domain", "%s: write the domain without '@', such as %s", quote(d), quote(d[strings.LastIndex(d, "@")+1:]))
		case !domainRe.MatchString(d):
			v.add("users.email_domain", "%s is not a domain such as example.com", quote(d))
		}
	}
	switch tag := c.Users.IAMTag; {
	case tag == "":
		v.add("users.iam_tag", "must not be empty (the default is slack-user-id)")
	case strings.HasPrefix(strings.ToLower(tag), "aws:"):
		v.add("users.iam_tag", "%s: the aws: prefix is reserved by AWS", quote(tag))
	case !iamTagKeyRe.MatchString(tag):
		v.add("users.iam_tag", "%s is not an IAM tag key", quote(tag))
	}

	// The rest.
	if strings.TrimSpace(c.Store.Path) == "" {
		v.add("store.path", "must not be empty")
	}
	if u := c.RunbookURL; u != "" {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			v.add("runbook_url", "%s is not an http or https URL", quote(u))
		}
	}
	v.problems = append(v.problems, c.detectionProblems()...)
	return redactTokens(errors.Join(v.problems...))
}

// validator collects problems for validateForRun.
type validator struct {
	lines    map[string]int
	problems []error
}

func (v *validator) add(key, format string, args ...any) {
	v.problems = append(v.problems, &configError{Key: key, Line: v.lines[key], Msg: fmt.Sprintf(format, args...), Err: errInvalidConfig})
}

// userIDs checks a required list of Slack user IDs.
func (v *validator) userIDs(key string, ids []string, who string) {
	if len(ids) == 0 {
		v.add(key, "required: the Slack user IDs (U… or W…) of %s", who)
		return
	}
	for i, id := range ids {
		k := fmt.Sprintf("%s[%d]", key, i)
		switch {
		case !userIDRe.MatchString(id):
			v.add(k, "%s is not a Slack user ID (U… or W…)%s", quote(id), userHint(id))
		case slices.Index(ids, id) < i:
			v.add(k, "%s is listed twice", quote(id))
		}
	}
}

// queueURL checks the SQS queue URL and that it is in the configured
// Region.
func (v *validator) queueURL(raw, region string) {
	const key = "sources.sqs_queue_url"
	const want = "want an https URL such as https://sqs.us-east-1.amazonaws.com/123456789012/mfabot-signin-events (plain http only to 127.0.0.1 for tests)"
	if strings.HasPrefix(raw, "arn:") {
		v.add(key, "%s is the queue ARN; %s", quote(raw), want)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		v.add(key, "%s is not a URL; %s", quote(raw), want)
		return
	}
	host := u.Hostname()
	loopback := slices.Contains(loopbackHost, host)
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		loopback = true
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && loopback:
	default:
		v.add(key, "%s: %s", quote(raw), want)
		return
	}
	if strings.Trim(u.Path, "/") == "" {
		v.add(key, "%s names no queue; %s", quote(raw), want)
		return
	}
	if m := sqsHostRe.FindStringSubmatch(host); m != nil && regionRe.MatchString(region) && m[1] != region {
		v.add(key, "the queue is in %s but aws.region is %s; put the queue in aws.region", m[1], region)
	}
}

// channelHint explains a value that is not a channel ID.
func channelHint(ch string) string {
	switch {
	case strings.HasPrefix(ch, "#"):
		return ": that is a channel name; use the channel ID from the channel's details (About → Channel ID)"
	case strings.HasPrefix(ch, "D"):
		return ": that looks like a direct message; alerts need a channel"
	case channelIDRe.MatchString(strings.ToUpper(ch)):
		return ": channel IDs are upper case"
	}
	return ": want C… or G… followed by upper-case letters and digits"
}

// userHint explains a value that is not a Slack user ID. Authorisation is by
// user ID only, so names are refused rather than looked up.
func userHint(id string) string {
	switch {
	case strings.HasPrefix(id, "@"):
		return ": authorisation is by user ID, never by display name; copy the member ID from the person's Slack profile (⋮ → Copy member ID)"
	case mentionRe.MatchString(id):
		return "; write the bare ID " + mentionRe.FindStringSubmatch(id)[1]
	case userIDRe.MatchString(strings.ToUpper(id)):
		return "; user IDs are upper case: " + strings.ToUpper(id)
	}
	return "; copy the member ID from the person's Slack profile (⋮ → Copy member ID)"
}

// quote quotes a value for a message, never repeating a token.
func quote(s string) string {
	if looksLikeToken(s) {
		return "(a token, withheld)"
	}
	return fmt.Sprintf("%q", s)
}

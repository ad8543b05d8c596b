package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// fzTokenRe matches a Slack token in text, as mfabot defines them
// (slackTokenPrefixes), at the start of a word: also inside a value such
// as "Bearer xoxb-…" or “xoxb-…”.
var fzTokenRe = regexp.MustCompile(`(?:^|[^A-Za-z0-9])((?:xox[bpasr]-|xoxe[-.]|xapp-)[^\s"',:#\]}]+)`)

// fzShown is how much of a token an error message may not repeat: its
// first 12 characters. yaml's type errors show the first 7 characters of a
// long value ("xoxb-12..."), which holds nothing secret; real tokens are
// over 40 characters long.
const fzShown = 12

// fzTokenSet holds the first fzShown characters of every token of a YAML
// input, found in its raw text and in every decoded scalar (so that
// escapes such as "\x78oxb-…" count too), keys and values, every document.
type fzTokenSet struct {
	all []string
	// values holds the tokens that are a whole value, as looksLikeToken
	// sees them: the ones mfabot must never repeat (quote withholds
	// them, keyChecker blanks them).
	values map[string]bool
	// keys holds tokens in mapping keys, and embedded those inside a
	// longer value (fzTokenKey and fzEmbeddedToken are regression seeds).
	keys, embedded map[string]bool
}

func fzTokens(data []byte) fzTokenSet {
	ts := fzTokenSet{values: map[string]bool{}, keys: map[string]bool{}, embedded: map[string]bool{}}
	add := func(set map[string]bool, tok string) {
		if len(tok) >= fzShown {
			ts.all = append(ts.all, tok[:fzShown])
			set[tok[:fzShown]] = true
		}
	}
	scan := func(set map[string]bool, s string) {
		for _, m := range fzTokenRe.FindAllStringSubmatch(s, -1) {
			add(set, m[1])
		}
	}
	scan(ts.embedded, string(data))
	dec := yaml.NewDecoder(bytes.NewReader(data))
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node, key bool)
	walk = func(n *yaml.Node, key bool) {
		if n == nil || seen[n] {
			return
		}
		seen[n] = true
		switch {
		case key:
			scan(ts.keys, n.Value)
		case looksLikeToken(n.Value):
			add(ts.values, strings.TrimSpace(n.Value))
		default:
			scan(ts.embedded, n.Value)
		}
		walk(n.Alias, false)
		for i, c := range n.Content {
			walk(c, n.Kind == yaml.MappingNode && i%2 == 0)
		}
	}
	for range 8 {
		var doc yaml.Node
		if dec.Decode(&doc) != nil {
			break
		}
		walk(&doc, false)
	}
	return ts
}

// fzTokenValue reports whether the first document of a YAML input has a
// value (any scalar but a mapping key) that looksLikeToken.
func fzTokenValue(data []byte) bool {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return false
	}
	seen := map[*yaml.Node]bool{}
	var walk func(n *yaml.Node) bool
	walk = func(n *yaml.Node) bool {
		if n == nil || seen[n] {
			return false
		}
		seen[n] = true
		if n.Kind == yaml.ScalarNode {
			return looksLikeToken(n.Value)
		}
		for i, c := range n.Content {
			if n.Kind == yaml.MappingNode && i%2 == 0 {
				continue
			}
			if walk(c) {
				return true
			}
		}
		return walk(n.Alias)
	}
	return walk(&doc)
}

// fzAliasBomb is a regression seed (a bug now fixed): keyChecker (holdsToken and
// walk) visits every alias expansion, so a few hundred bytes of nested
// aliases take exponential time (each line below multiplies it by ten;
// this one runs for hours). See testdata/fuzz/FuzzParseConfig.
const fzAliasBomb = "a0: &a0 [x]\n" +
	"a1: &a1 [*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0,*a0]\n" +
	"a2: &a2 [*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1,*a1]\n" +
	"a3: &a3 [*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2,*a2]\n" +
	"a4: &a4 [*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3,*a3]\n" +
	"a5: &a5 [*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4,*a4]\n" +
	"a6: &a6 [*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5,*a5]\n" +
	"a7: &a7 [*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6,*a6]\n" +
	"a8: &a8 [*a7,*a7,*a7,*a7,*a7,*a7,*a7,*a7,*a7,*a7]\n" +
	"a9: &a9 [*a8,*a8,*a8,*a8,*a8,*a8,*a8,*a8,*a8,*a8]\n" +
	"a10: &a10 [*a9,*a9,*a9,*a9,*a9,*a9,*a9,*a9,*a9,*a9]\n" +
	"a11: &a11 [*a10,*a10,*a10,*a10,*a10,*a10,*a10,*a10,*a10,*a10]\n" +
	"a12: &a12 [*a11,*a11,*a11,*a11,*a11,*a11,*a11,*a11,*a11,*a11]\n"

// fzTokenKey is a regression seed (a bug now fixed): keyChecker.mapping reports
// a key that looks like a token as an unknown key, repeating it in full
// ("slack.xoxb-…: field xoxb-… not found"). See
// testdata/fuzz/FuzzParseConfig.
const fzTokenKey = "slack:\n  xoxb-0000000000-0000000000-FAKEfuzzTOKENnotREAL: true\n"

// fzEmbeddedToken is a regression seed (a bug now fixed): looksLikeToken only
// looks at the start of a value, so a token pasted with smart quotes (or
// after "Bearer ", or as SLACK_BOT_TOKEN=xoxb-…) is neither rejected by
// parseConfig nor withheld by quote(), and validateForRun repeats it in
// full. See testdata/fuzz/FuzzParseConfig.
const fzEmbeddedToken = "slack:\n  alert_channel: “xoxb-0000000000-0000000000-FAKEfuzzTOKENnotREAL”\n"

// FuzzParseConfig parses YAML configuration files, and validates the ones
// that parse.
//
// Invariants: no panic and no hang; no error message (of parseConfig, or
// of validateForRun after a clean parse) repeats a token of the input:
// the first 12 characters of a Slack token (a prefix of
// slackTokenPrefixes at the start of a word), found in the raw text or in
// a decoded key or value; a file with a token value (anywhere but a
// mapping key: the keys of users.slack_ids are data) is rejected.
func FuzzParseConfig(f *testing.F) {
	// The example configuration without its comments: small seeds keep
	// the fuzzer's minimisation of new inputs quick.
	example, err := os.ReadFile("../../mfabot.example.yml")
	if err != nil {
		f.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(example), "\n") {
		if t := strings.TrimSpace(l); t != "" && !strings.HasPrefix(t, "#") {
			lines = append(lines, l)
		}
	}
	f.Add([]byte(strings.Join(lines, "\n") + "\n"))
	for _, s := range []string{
		"", "# nothing\n", "---\n", "slack:\n  alert_channel: C0123456789\n",
		"slack:\n  alert_channel: C0123456789\n  responders: [U0123ABCD, W0789IJKL]\n  approvers: [U0456EFGH]\n  group_wait: 45s\n" +
			"aws:\n  region: eu-north-1\n  cloudtrail_log_group: org-trail/cloudtrail\nsources:\n  insights_poll_interval: 2m\n",
		"slack:\n  bot_token: abc\n  colour: blue\n  group_wait: soon\ndetection:\n  spray_users: 1\n",
		"slack:\n  alert_channel: xoxb-1111-2222-abcd\n",
		"slack:\n  key: xapp-1-A111-2222-abcd\n",
		"slack:\n  responders: [U0123ABCD, xoxp-1-2-3]\n",
		"detection:\n  repeated_count: xoxb-9-9-9\n",
		"slack:\n  group_wait: \"\\x78oxb-1234-5678\"\n",
		"slack:\n  group_wait: '  xoxe.xoxp-1-abcdef'\n",
		"users:\n  slack_ids:\n    priya.raman: xoxs-1234-5678\n",
		"aws: &x {region: xoxr-1234-5678}\nslack: {<<: *x}\n",
		"slack:\n  <<: {alert_channel: C0123456789, colour: x}\n",
		"base: &b {alert_channel: C0123456789}\nslack:\n  <<: *b\n",
		"slack:\n  group_wait: 30\n",
		"slack:\n  group_wait: 0\nsources:\n  insights_poll_interval: 5\n",
		"slack: [1, 2]\n", "- a\n- b\n", "slack:\n  responders: {a: b}\n", "a: b\n---\nc: d\n",
		"slack:\n\talert_channel: x\n", "slack: {alert_channel: [}\n", "runbook_url: !!binary aGVsbG8=\n",
		"store:\n  path: \"\"\nusers:\n  iam_tag: \"aws:x\"\n  email_domain: \"@example.com\"\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 4096 {
			return
		}
		tokens := fzTokens(data)
		cfg, err := parseConfig(data)
		if err == nil && fzTokenValue(data) {
			t.Fatalf("parseConfig(%q) accepted a token value", data)
		}
		if err == nil {
			err = cfg.validateForRun()
		}
		if err == nil {
			return
		}
		msg := err.Error()
		for _, frag := range tokens.all {
			switch {
			case !strings.Contains(msg, frag):
			default:
				t.Fatalf("parseConfig(%q): error repeats token %q:\n%s", data, frag, msg)
			}
		}
	})
}

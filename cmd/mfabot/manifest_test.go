package main

import (
	"os"
	"slices"
	"testing"

	"go.yaml.in/yaml/v3"
)

// wantBotScopes are exactly the bot scopes mfabot uses. Adding a scope to
// manifest.yml means adding it here, with the reason as a comment there.
var wantBotScopes = []string{
	"channels:history", // message events for thread replies, public alert channel
	"chat:write",       // alerts, updates, thread lines, DMs, ephemerals
	"commands",         // /mfa
	"groups:history",   // message events for thread replies, private alert channel
	"im:history",       // re-reading the bot's DMs after a crash (no events)
	"im:write",         // conversations.open for DMs
	"users:read",       // needed with users:read.email
	"users:read.email", // users.lookupByEmail
}

// wantBotEvents are the bot events, one per history scope.
var wantBotEvents = []string{"message.channels", "message.groups"}

// slackManifest is the part of an app manifest that the tests check.
type slackManifest struct {
	Metadata struct {
		Major int `yaml:"major_version"`
		Minor int `yaml:"minor_version"`
	} `yaml:"_metadata"`
	DisplayInformation struct {
		Name        string `yaml:"name"`
		Description string `yaml:"description"`
	} `yaml:"display_information"`
	Features struct {
		AppHome struct {
			MessagesTab         *bool `yaml:"messages_tab_enabled"`
			MessagesTabReadOnly *bool `yaml:"messages_tab_read_only_enabled"`
		} `yaml:"app_home"`
		BotUser struct {
			DisplayName  string `yaml:"display_name"`
			AlwaysOnline bool   `yaml:"always_online"`
		} `yaml:"bot_user"`
		SlashCommands []struct {
			Command     string `yaml:"command"`
			Description string `yaml:"description"`
			UsageHint   string `yaml:"usage_hint"`
		} `yaml:"slash_commands"`
	} `yaml:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot  []string `yaml:"bot"`
			User []string `yaml:"user"`
		} `yaml:"scopes"`
	} `yaml:"oauth_config"`
	Settings struct {
		EventSubscriptions struct {
			BotEvents  []string `yaml:"bot_events"`
			UserEvents []string `yaml:"user_events"`
		} `yaml:"event_subscriptions"`
		Interactivity struct {
			IsEnabled bool `yaml:"is_enabled"`
		} `yaml:"interactivity"`
		OrgDeployEnabled     *bool `yaml:"org_deploy_enabled"`
		SocketModeEnabled    bool  `yaml:"socket_mode_enabled"`
		TokenRotationEnabled *bool `yaml:"token_rotation_enabled"`
	} `yaml:"settings"`
}

func readManifest(t *testing.T) (slackManifest, *yaml.Node) {
	t.Helper()
	b, err := os.ReadFile("../../manifest.yml")
	if err != nil {
		t.Fatal(err)
	}
	var m slackManifest
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest.yml: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("manifest.yml: %v", err)
	}
	return m, &doc
}

func TestManifestFields(t *testing.T) {
	m, _ := readManifest(t)
	if m.Metadata.Major != 1 || m.Metadata.Minor != 1 {
		t.Fatalf("_metadata = %d.%d, want 1.1", m.Metadata.Major, m.Metadata.Minor)
	}
	if m.DisplayInformation.Name != "mfabot" {
		t.Fatalf("display_information.name = %q, want mfabot", m.DisplayInformation.Name)
	}
	if d := m.DisplayInformation.Description; d == "" || len([]rune(d)) > 140 {
		t.Fatalf("display_information.description has %d characters, want 1 to 140", len([]rune(d)))
	}
	if b := m.Features.BotUser; b.DisplayName != "mfabot" || !b.AlwaysOnline {
		t.Fatalf("features.bot_user = %+v, want display_name mfabot, always_online", b)
	}
	h := m.Features.AppHome
	if h.MessagesTab == nil || !*h.MessagesTab {
		t.Fatal("features.app_home.messages_tab_enabled must be true: DMs fail with messages_tab_disabled otherwise")
	}
	if h.MessagesTabReadOnly == nil || *h.MessagesTabReadOnly {
		t.Fatal("features.app_home.messages_tab_read_only_enabled must be false")
	}
	if got := len(m.Features.SlashCommands); got != 1 {
		t.Fatalf("%d slash commands, want 1", got)
	}
	c := m.Features.SlashCommands[0]
	if c.Command != "/mfa" {
		t.Fatalf("command = %q, want /mfa", c.Command)
	}
	if c.Description == "" {
		t.Fatal("/mfa has no description")
	}
	if want := "list | show ID | stats | note ID text | help"; c.UsageHint != want {
		t.Fatalf("usage_hint = %q, want %q", c.UsageHint, want)
	}
	s := m.Settings
	if !s.SocketModeEnabled {
		t.Fatal("settings.socket_mode_enabled must be true")
	}
	if !s.Interactivity.IsEnabled {
		t.Fatal("settings.interactivity.is_enabled must be true: buttons need it")
	}
	if s.TokenRotationEnabled == nil || *s.TokenRotationEnabled {
		t.Fatal("settings.token_rotation_enabled must be false")
	}
	if s.OrgDeployEnabled == nil || *s.OrgDeployEnabled {
		t.Fatal("settings.org_deploy_enabled must be false")
	}
	if len(m.OAuthConfig.Scopes.User) != 0 || len(s.EventSubscriptions.UserEvents) != 0 {
		t.Fatal("mfabot asks for no user scopes and no user events")
	}
}

func TestManifestScopesExact(t *testing.T) {
	m, doc := readManifest(t)
	got := slices.Sorted(slices.Values(m.OAuthConfig.Scopes.Bot))
	if !slices.Equal(got, wantBotScopes) {
		t.Fatalf("bot scopes = %v, want exactly %v; update wantBotScopes only with a reason", got, wantBotScopes)
	}
	events := slices.Sorted(slices.Values(m.Settings.EventSubscriptions.BotEvents))
	if !slices.Equal(events, wantBotEvents) {
		t.Fatalf("bot_events = %v, want %v", events, wantBotEvents)
	}
	// Every scope says why it is there.
	for _, n := range nodeAt(t, doc, "oauth_config", "scopes", "bot").Content {
		if n.LineComment == "" {
			t.Errorf("line %d: scope %s has no comment saying why", n.Line, n.Value)
		}
	}
}

func TestManifestHasNoURLs(t *testing.T) {
	_, doc := readManifest(t)
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				switch k := n.Content[i]; k.Value {
				case "url", "request_url", "message_menu_options_url", "redirect_urls":
					t.Errorf("line %d: %s has no place in a Socket Mode manifest", k.Line, k.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(doc)
}

// nodeAt follows mapping keys from the document root.
func nodeAt(t *testing.T, doc *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	n := doc.Content[0]
	for _, k := range keys {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			t.Fatalf("manifest.yml has no %s", k)
		}
		n = next
	}
	return n
}

package handlers

import (
	"context"
	"log/slog"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/investigate"
	"github.com/mfabot/mfabot/store"
)

// Poster posts and updates messages (chat.postMessage, chat.update).
type Poster interface {
	PostMessageContext(ctx context.Context, channelID string, options ...slack.MsgOption) (string, string, error)
	UpdateMessageContext(ctx context.Context, channelID, timestamp string, options ...slack.MsgOption) (string, string, string, error)
}

// Ephemeral answers one person in a channel (chat.postEphemeral).
type Ephemeral interface {
	PostEphemeralContext(ctx context.Context, channelID, userID string, options ...slack.MsgOption) (string, error)
}

// DMOpener opens a direct message channel (conversations.open).
type DMOpener interface {
	OpenConversationContext(ctx context.Context, params *slack.OpenConversationParameters) (*slack.Channel, bool, bool, error)
}

// UserFinder finds a Slack user by e-mail (users.lookupByEmail).
type UserFinder interface {
	GetUserByEmailContext(ctx context.Context, email string) (*slack.User, error)
}

// ViewOpener opens a modal (views.open).
type ViewOpener interface {
	OpenViewContext(ctx context.Context, triggerID string, view slack.ModalViewRequest) (*slack.ViewResponse, error)
}

// History reads messages back (conversations.history and .replies), to
// find a message whose posting was cut short by a crash.
type History interface {
	GetConversationHistoryContext(ctx context.Context, params *slack.GetConversationHistoryParameters) (*slack.GetConversationHistoryResponse, error)
	GetConversationRepliesContext(ctx context.Context, params *slack.GetConversationRepliesParameters) ([]slack.Message, bool, string, error)
}

// Slack is every Slack call the handlers make; *slack.Client and
// *socketmode.Client satisfy it.
type Slack interface {
	Poster
	Ephemeral
	DMOpener
	UserFinder
	ViewOpener
	History
}

// IAMUsers reads an IAM user's tag (the Slack user ID mapping).
type IAMUsers interface {
	UserTag(ctx context.Context, user, key string) (string, bool, error)
}

// MFAResetter lists and deactivates an IAM user's MFA devices.
type MFAResetter interface {
	MFADevices(ctx context.Context, user string) ([]investigate.Device, error)
	DeactivateMFADevices(ctx context.Context, user string, serials []string) ([]string, error)
}

// Investigator runs the runbook's investigation of an incident.
type Investigator interface {
	Run(ctx context.Context, inc *incident.Incident) investigate.Report
}

// Config is what the handlers need to know about the deployment.
type Config struct {
	// AlertChannel is the channel ID alerts go to.
	AlertChannel string
	// Responders may act on alerts; Approvers may approve MFA resets.
	// Both are Slack user IDs, never display names.
	Responders []string
	Approvers  []string
	// GroupWait delays a new incident's first post so that correlated
	// events shape it.
	GroupWait time.Duration
	// DeactivateMFA lets mfabot call DeactivateMFADevice after approval;
	// otherwise it posts the command for an admin.
	DeactivateMFA bool
	// SlackIDs maps IAM user names to Slack user IDs; IAMTag names the IAM
	// user tag holding a Slack user ID; EmailDomain makes
	// <iam user>@<domain> for users.lookupByEmail.
	SlackIDs    map[string]string
	IAMTag      string
	EmailDomain string
	// Account is the AWS account whose IAM users mfabot may act on; IAM
	// actions on incidents in other accounts are refused. Empty means
	// every incident's account.
	Account string
	// Region and LogGroup build console links; RunbookURL is linked from
	// every alert.
	Region     string
	LogGroup   string
	RunbookURL string
}

// App is mfabot's behaviour. Its methods are called by the bot's workers
// (clicks, submissions, messages, commands), by event sources (Record) and
// by the syncer loop (Sync).
type App struct {
	Store        *store.Store
	Engine       *detect.Engine
	Slack        Slack
	IAM          IAMUsers
	MFA          MFAResetter
	Investigator Investigator
	Cfg          Config
	Now          func() time.Time
	Log          *slog.Logger
	// Wake, when set, is called after changes that leave Slack work
	// waiting, so that the syncer runs at once.
	Wake func()
}

func (a *App) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

func (a *App) wake() {
	if a.Wake != nil {
		a.Wake()
	}
}

func (a *App) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.New(slog.DiscardHandler)
}

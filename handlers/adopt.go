package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
)

// Messages whose first post is guarded against a crash, by the button that
// identifies them.
const (
	postAlert  = "alert"
	postPrompt = "prompt"
	postDM     = "dm"
)

// markerAction is the button that only that message of an incident has.
var markerAction = map[string]string{postAlert: ActionResolve, postPrompt: ActionApproveReset, postDM: ActionUserRecovered}

// beginPost records that a first post of message kind is about to be made.
// If mfabot dies between Slack's answer and recording the message's ts, the
// next attempt finds the message (see adopt) instead of posting a second.
func (a *App) beginPost(ctx context.Context, id, kind string) error {
	return a.withAlert(context.WithoutCancel(ctx), id, func(cur *incident.Alert) error {
		if cur.Posting == nil {
			cur.Posting = map[string]time.Time{}
		}
		if _, ok := cur.Posting[kind]; !ok {
			cur.Posting[kind] = a.now()
		}
		return nil
	})
}

// adopt looks for a message of kind that an earlier attempt posted but did
// not record: in channel (or in the thread threadTS), since the attempt
// began, carrying the incident's identifying button. It returns its ts, or
// "" when there is none or no attempt was made.
func (a *App) adopt(ctx context.Context, al *incident.Alert, kind, channel, threadTS string) (string, error) {
	return a.find(ctx, al, kind, channel, threadTS, func(m slack.Message) bool { return carries(m, markerAction[kind], al.IncidentID) })
}

// find is adopt with any test of the message.
func (a *App) find(ctx context.Context, al *incident.Alert, kind, channel, threadTS string, match func(slack.Message) bool) (string, error) {
	since, ok := al.Posting[kind]
	if !ok {
		return "", nil
	}
	var msgs []slack.Message
	if threadTS == "" {
		resp, err := a.Slack.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Oldest: slackTS(since.Add(-time.Minute)), Limit: 200})
		if err != nil {
			return "", fmt.Errorf("look for an unrecorded %s: %w", kind, err)
		}
		msgs = resp.Messages
	} else {
		var err error
		msgs, _, _, err = a.Slack.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: threadTS, Limit: 200})
		if err != nil {
			return "", fmt.Errorf("look for an unrecorded %s: %w", kind, err)
		}
	}
	for _, m := range msgs {
		if match(m) {
			a.log().Warn("found a message posted before a crash; adopting it instead of posting again",
				"incident", al.IncidentID, "message", kind, "ts", m.Timestamp)
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// carries reports whether a message has the button action with value id.
func carries(m slack.Message, action, id string) bool {
	raw, err := json.Marshal(m.Blocks)
	if err != nil {
		return false
	}
	s := string(raw)
	return strings.Contains(s, `"action_id":"`+action+`"`) && strings.Contains(s, `"value":"`+id+`"`)
}

// slackTS formats a time as a Slack message ts.
func slackTS(t time.Time) string {
	return strconv.FormatInt(t.Unix(), 10) + ".000000"
}

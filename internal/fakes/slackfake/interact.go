package slackfake

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"
)

// triggerTTL is how long a trigger_id can be exchanged.
const triggerTTL = 3 * time.Second

// trigger is a trigger_id handed to the bot in an interaction.
type trigger struct {
	created time.Time
	user    string
	used    bool
}

// newTriggerLocked issues a fresh trigger_id such as "1772612200.4821.9f2c…".
func (s *Server) newTriggerLocked(userID string) string {
	now := s.now()
	id := fmt.Sprintf("%d.%d.%s", now.Unix(), 1000+rand.IntN(9000000), randHex(16))
	s.triggers[id] = &trigger{created: now, user: userID}
	return id
}

// actionTSLocked returns an action_ts in message ts format.
func (s *Server) actionTSLocked() string {
	us := s.now().UnixMicro()
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

func (s *Server) userRef(u *User) map[string]any {
	return map[string]any{"id": u.ID, "username": u.Name, "name": u.Name, "team_id": s.opts.TeamID}
}

func (s *Server) teamRef() map[string]any {
	return map[string]any{"id": s.opts.TeamID, "domain": s.opts.TeamDomain}
}

// channelName returns the name Slack shows in payloads for a conversation.
func channelName(ch *channelState) string {
	if ch.imUser != "" {
		return "directmessage"
	}
	return ch.name
}

// actorLocked looks up the acting user and, if channelID is not empty, a
// conversation the user can see (the user's DM with the bot is opened on demand).
func (s *Server) actorLocked(userID, channelID string) (*User, *channelState, error) {
	u, ok := s.users[userID]
	if !ok {
		return nil, nil, fmt.Errorf("slackfake: unknown user %q", userID)
	}
	if channelID == "" {
		return u, nil, nil
	}
	if channelID == dmIDFor(userID) {
		ch, _ := s.openDMLocked(userID)
		return u, ch, nil
	}
	ch, ok := s.channels[channelID]
	if !ok {
		return nil, nil, fmt.Errorf("slackfake: unknown channel %q", channelID)
	}
	if !ch.isMember(userID) {
		return nil, nil, fmt.Errorf("slackfake: user %s is not in channel %s", userID, channelID)
	}
	return u, ch, nil
}

// ClickButton makes the user click the element with actionID in the message
// messageTS of channelID, as Slack does: it sends an interactive block_actions
// envelope carrying the stored message, a fresh trigger_id (valid 3s, single
// use) and a response_url served by the fake. An empty value uses the
// element's own value. Ephemeral messages are found too (container.is_ephemeral).
// It returns the envelope id once the envelope is written. Like the other
// senders it waits for an open Socket Mode connection if there is none.
func (s *Server) ClickButton(ctx context.Context, userID, channelID, messageTS, actionID, value string) (string, error) {
	s.mu.Lock()
	u, ch, err := s.actorLocked(userID, channelID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	var (
		blocks    json.RawMessage
		message   map[string]any
		threadTS  string
		ephemeral bool
	)
	if m, ok := ch.byTS[messageTS]; ok && !m.Deleted {
		blocks, message, threadTS = m.Blocks, s.messageJSON(m), m.ThreadTS
	} else if e := s.findEphemeralLocked(ch.id, messageTS, userID); e != nil {
		blocks, ephemeral = e.Blocks, true
	} else {
		s.mu.Unlock()
		return "", fmt.Errorf("slackfake: no message %s in channel %s", messageTS, channelID)
	}
	blockID, elem, found := findAction(blocks, actionID)
	if !found {
		s.mu.Unlock()
		return "", fmt.Errorf("slackfake: message %s has no element with action_id %q", messageTS, actionID)
	}
	if value == "" {
		value, _ = elem["value"].(string)
	}
	action := map[string]any{"type": elem["type"], "action_id": actionID, "block_id": blockID, "value": value, "action_ts": s.actionTSLocked()}
	for _, k := range []string{"text", "style"} {
		if v, ok := elem[k]; ok {
			action[k] = v
		}
	}
	container := map[string]any{"type": "message", "message_ts": messageTS, "channel_id": ch.id, "is_ephemeral": ephemeral}
	if threadTS != "" && threadTS != messageTS {
		container["thread_ts"] = threadTS
	}
	payload := map[string]any{
		"type": "block_actions", "user": s.userRef(u), "team": s.teamRef(), "api_app_id": s.opts.AppID,
		"token": "fake-verification-token", "container": container, "trigger_id": s.newTriggerLocked(userID),
		"channel": map[string]any{"id": ch.id, "name": channelName(ch)}, "is_enterprise_install": false,
		"response_url": s.newResponseURLLocked(&responseTarget{channel: ch.id, messageTS: messageTS, user: userID, ephemeral: ephemeral}),
		"actions":      []any{action}, "state": map[string]any{"values": map[string]any{}},
	}
	if message != nil {
		payload["message"] = message
	}
	s.mu.Unlock()
	return s.sendPayload(ctx, &pendingEnvelope{typ: "interactive"}, payload)
}

// sendPayload marshals the payload into p and sends the envelope.
func (s *Server) sendPayload(ctx context.Context, p *pendingEnvelope, payload any) (string, error) {
	raw, err := json.Marshal(payload)
	if err != nil {
		return "", err
	}
	p.payload = raw
	return s.send(ctx, p)
}

// findAction finds the element with actionID in an actions block, a section
// accessory or an input block, and returns its block_id and the element.
func findAction(blocks json.RawMessage, actionID string) (string, map[string]any, bool) {
	var list []map[string]any
	if json.Unmarshal(blocks, &list) != nil {
		return "", nil, false
	}
	for _, b := range list {
		var elems []any
		if arr, ok := b["elements"].([]any); ok {
			elems = append(elems, arr...)
		}
		for _, k := range []string{"accessory", "element"} {
			if e, ok := b[k]; ok {
				elems = append(elems, e)
			}
		}
		for _, e := range elems {
			if m, ok := e.(map[string]any); ok && m["action_id"] == actionID {
				id, _ := b["block_id"].(string)
				return id, m, true
			}
		}
	}
	return "", nil, false
}

// SlashCommand makes the user run the slash command (with its leading "/")
// in channelID. The slash_commands envelope accepts a response payload; an
// inline {"text"|"blocks","response_type"} in the ack is shown as an ephemeral
// message, or posted when response_type is "in_channel". Without an ack by
// the deadline a Timeout with "operation_timeout" is recorded.
func (s *Server) SlashCommand(ctx context.Context, userID, channelID, command, text string) (string, error) {
	s.mu.Lock()
	u, ch, err := s.actorLocked(userID, channelID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	payload := map[string]any{
		"token": "fake-verification-token", "team_id": s.opts.TeamID, "team_domain": s.opts.TeamDomain,
		"channel_id": ch.id, "channel_name": channelName(ch), "user_id": u.ID, "user_name": u.Name,
		"command": command, "text": text, "api_app_id": s.opts.AppID, "is_enterprise_install": false,
		"response_url": s.newResponseURLLocked(&responseTarget{channel: ch.id, user: userID}),
		"trigger_id":   s.newTriggerLocked(userID),
	}
	s.mu.Unlock()
	return s.sendPayload(ctx, &pendingEnvelope{typ: "slash_commands", accepts: true, channel: ch.id, user: userID}, payload)
}

// PostUserMessage stores a message the user writes in channelID (in the
// thread threadTS when set) and delivers a message event_callback through
// events_api. The user's DM with the bot is addressed by its D… id (see
// DMChannel; it is derived from the user id and opened on demand). As in
// Slack, no event is sent when the bot is not in the channel; the envelope id
// is then "".
func (s *Server) PostUserMessage(ctx context.Context, userID, channelID, threadTS, text string) (string, error) {
	s.mu.Lock()
	u, ch, err := s.actorLocked(userID, channelID)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	m := &Message{User: u.ID, Text: text}
	s.addMessageLocked(ch, m, threadTS)
	if ch.imUser == "" && !ch.members[s.opts.BotUserID] {
		s.mu.Unlock()
		return "", nil
	}
	chType := "channel"
	switch {
	case ch.imUser != "":
		chType = "im"
	case ch.private:
		chType = "group"
	}
	event := map[string]any{"type": "message", "channel": ch.id, "user": u.ID, "text": text, "ts": m.TS,
		"event_ts": m.TS, "channel_type": chType, "team": s.opts.TeamID, "client_msg_id": newUUID()}
	if m.ThreadTS != "" {
		event["thread_ts"] = m.ThreadTS
	}
	eventID := randID("Ev", 10)
	payload := map[string]any{
		"token": "fake-verification-token", "team_id": s.opts.TeamID, "api_app_id": s.opts.AppID,
		"event": event, "type": "event_callback", "event_id": eventID, "event_time": s.now().Unix(),
		"authorizations": []any{map[string]any{"enterprise_id": nil, "team_id": s.opts.TeamID,
			"user_id": s.opts.BotUserID, "is_bot": true, "is_enterprise_install": false}},
		"is_ext_shared_channel": false, "event_context": "4-" + randHex(12),
	}
	s.mu.Unlock()
	return s.sendPayload(ctx, &pendingEnvelope{typ: "events_api", eventID: eventID}, payload)
}

// SubmitView makes the user submit the modal viewID with the given input
// values (block_id -> action_id -> value; for select elements the value is
// the selected option's value). The view_submission envelope carries the
// view's callback_id and private_metadata and accepts a response payload
// (response_action errors, update, push or clear).
func (s *Server) SubmitView(ctx context.Context, userID, viewID string, values map[string]map[string]string) (string, error) {
	s.mu.Lock()
	u, _, err := s.actorLocked(userID, "")
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	v, ok := s.views[viewID]
	switch {
	case !ok:
		err = fmt.Errorf("slackfake: unknown view %q", viewID)
	case v.Closed:
		err = fmt.Errorf("slackfake: view %s is closed", viewID)
	case v.UserID != userID:
		err = fmt.Errorf("slackfake: view %s belongs to %s, not %s", viewID, v.UserID, userID)
	}
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	view := s.viewJSON(v)
	state, err := viewState(v.JSON, values)
	if err != nil {
		s.mu.Unlock()
		return "", err
	}
	view["state"] = map[string]any{"values": state}
	payload := map[string]any{
		"type": "view_submission", "team": s.teamRef(), "user": s.userRef(u), "api_app_id": s.opts.AppID,
		"token": "fake-verification-token", "trigger_id": s.newTriggerLocked(userID), "view": view,
		"response_urls": []any{}, "is_enterprise_install": false,
	}
	s.mu.Unlock()
	return s.sendPayload(ctx, &pendingEnvelope{typ: "interactive", accepts: true, viewID: viewID}, payload)
}

// viewState builds state.values for the submitted values, typed after the
// view's input elements.
func viewState(viewRaw json.RawMessage, values map[string]map[string]string) (map[string]any, error) {
	var view struct {
		Blocks json.RawMessage `json:"blocks"`
	}
	_ = json.Unmarshal(viewRaw, &view)
	out := map[string]any{}
	for blockID, actions := range values {
		vals := map[string]any{}
		for actionID, val := range actions {
			bid, elem, ok := findAction(view.Blocks, actionID)
			if !ok || bid != blockID {
				return nil, fmt.Errorf("slackfake: view has no input %s/%s", blockID, actionID)
			}
			typ, _ := elem["type"].(string)
			st := map[string]any{"type": typ}
			switch typ {
			case "static_select", "radio_buttons", "external_select":
				st["selected_option"] = map[string]any{"text": map[string]any{"type": "plain_text", "text": val}, "value": val}
			case "users_select":
				st["selected_user"] = val
			case "conversations_select":
				st["selected_conversation"] = val
			case "channels_select":
				st["selected_channel"] = val
			case "datepicker":
				st["selected_date"] = val
			default:
				st["value"] = val
			}
			vals[actionID] = st
		}
		out[blockID] = vals
	}
	return out, nil
}

package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Text limits of chat methods.
const (
	maxPostTextChars   = 40000
	maxUpdateTextChars = 4000
)

// channelState is a channel or DM with its messages.
type channelState struct {
	id, name          string
	members           map[string]bool
	private, archived bool
	imUser            string // the other member of a DM, "" for channels
	msgs              []*Message
	byTS              map[string]*Message
}

func newChannelState(id, name string, members []string, private, archived bool) *channelState {
	c := &channelState{id: id, name: name, members: map[string]bool{}, private: private, archived: archived, byTS: map[string]*Message{}}
	for _, m := range members {
		c.members[m] = true
	}
	return c
}

// add appends a message; timestamps are monotonic, so msgs stays in ts order.
func (c *channelState) add(m *Message) {
	c.msgs = append(c.msgs, m)
	c.byTS[m.TS] = m
}

// isMember reports whether the user can see the conversation.
func (c *channelState) isMember(userID string) bool {
	if c.imUser != "" {
		return userID == c.imUser
	}
	return c.members[userID]
}

// nextTSLocked returns a new message timestamp "seconds.microseconds",
// strictly increasing across the whole server.
func (s *Server) nextTSLocked() string {
	us := s.now().UnixMicro()
	if us <= s.lastTS {
		us = s.lastTS + 1
	}
	s.lastTS = us
	return fmt.Sprintf("%d.%06d", us/1_000_000, us%1_000_000)
}

// dmIDFor derives the stable DM channel id of a user.
func dmIDFor(userID string) string {
	if len(userID) > 1 && (userID[0] == 'U' || userID[0] == 'W') {
		return "D" + userID[1:]
	}
	return "D" + userID
}

// openDMLocked returns the bot's DM with the user, creating it when needed,
// and whether it already existed.
func (s *Server) openDMLocked(userID string) (*channelState, bool) {
	if id, ok := s.dms[userID]; ok {
		return s.channels[id], true
	}
	id := dmIDFor(userID)
	ch := newChannelState(id, "", []string{s.opts.BotUserID, userID}, true, false)
	ch.imUser = userID
	s.channels[id] = ch
	s.dms[userID] = id
	s.notifyLocked()
	return ch, false
}

// resolveChannelLocked finds a conversation by id or name ("#name" or
// "name"); with allowUser a U… id resolves to the bot's DM with that user.
func (s *Server) resolveChannelLocked(ref string, allowUser bool) (*channelState, string) {
	if ch, ok := s.channels[ref]; ok {
		return ch, ""
	}
	if allowUser {
		if _, ok := s.users[ref]; ok {
			ch, _ := s.openDMLocked(ref)
			return ch, ""
		}
	}
	name := strings.TrimPrefix(ref, "#")
	for _, ch := range s.channels {
		if name != "" && ch.imUser == "" && ch.name == name {
			return ch, ""
		}
	}
	return nil, "channel_not_found"
}

// botCanPostLocked returns the error code that stops the bot posting to ch, or "".
func (s *Server) botCanPostLocked(ch *channelState) string {
	switch {
	case ch.imUser != "":
		return ""
	case ch.archived:
		return "is_archived"
	case ch.members[s.opts.BotUserID]:
		return ""
	case ch.private:
		return "channel_not_found"
	default:
		return "not_in_channel"
	}
}

// content is the text, blocks and attachments of a chat call.
type content struct {
	text                     string
	hasText                  bool
	blocks, attachments      json.RawMessage
	hasBlocks, hasAttachment bool
	fail                     *apiResponse
}

// empty reports whether the message would have nothing to show.
func (c content) empty() bool {
	return c.text == "" && isEmptyArray(c.blocks) && isEmptyArray(c.attachments)
}

func isEmptyArray(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || bytes.Equal(t, []byte("[]")) || bytes.Equal(t, []byte("null"))
}

// readContent extracts and validates text, blocks and attachments; fail is
// set to an invalid_blocks or invalid_blocks_format answer.
func readContent(req *apiRequest, maxBlocks int) content {
	c := content{text: req.params["text"], hasText: req.hasParam("text")}
	if raw, ok := req.rawParam("blocks"); ok && len(bytes.TrimSpace(raw)) > 0 {
		c.hasBlocks = true
		c.blocks = raw
		if msgs, format := validateBlocks(raw, maxBlocks); format {
			r := failResp("invalid_blocks_format", msgs...)
			c.fail = &r
		} else if len(msgs) > 0 {
			r := failResp("invalid_blocks", msgs...)
			c.fail = &r
		}
	}
	if raw, ok := req.rawParam("attachments"); ok && len(bytes.TrimSpace(raw)) > 0 {
		c.hasAttachment = true
		c.attachments = raw
		var arr []json.RawMessage
		if json.Unmarshal(raw, &arr) != nil && c.fail == nil {
			r := failResp("invalid_attachments")
			c.fail = &r
		}
	}
	return c
}

// storedBlocks returns the blocks to store, nil for an empty array.
func storedBlocks(raw json.RawMessage) json.RawMessage {
	if isEmptyArray(raw) {
		return nil
	}
	return bytes.Clone(raw)
}

// messageJSON renders a stored message as Slack's message object.
func (s *Server) messageJSON(m *Message) map[string]any {
	out := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User, "team": s.opts.TeamID}
	if m.BotID != "" {
		out["bot_id"] = m.BotID
		out["app_id"] = s.opts.AppID
	}
	if len(m.Blocks) > 0 {
		out["blocks"] = m.Blocks
	}
	if len(m.Attachments) > 0 {
		out["attachments"] = m.Attachments
	}
	if m.ThreadTS != "" {
		out["thread_ts"] = m.ThreadTS
	}
	if m.ReplyCount > 0 {
		out["reply_count"] = m.ReplyCount
	}
	if m.EditCount > 0 {
		out["edited"] = map[string]any{"user": m.User, "ts": m.TS}
	}
	return out
}

// addMessageLocked stores a new message, threading it under threadTS when set.
func (s *Server) addMessageLocked(ch *channelState, m *Message, threadTS string) {
	m.Channel = ch.id
	m.TS = s.nextTSLocked()
	if parent, ok := ch.byTS[threadTS]; ok {
		if parent.ThreadTS != "" && parent.ThreadTS != parent.TS {
			if root, ok := ch.byTS[parent.ThreadTS]; ok {
				parent = root
			}
		}
		parent.ThreadTS = parent.TS
		parent.ReplyCount++
		m.ThreadTS = parent.TS
	} else if threadTS != "" {
		m.ThreadTS = threadTS
	}
	ch.add(m)
	s.notifyLocked()
}

func (s *Server) apiPostMessage(req *apiRequest) apiResponse {
	c := readContent(req, maxMessageBlocks)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.resolveChannelLocked(req.params["channel"], true)
	if code != "" {
		return failResp(code)
	}
	if code := s.botCanPostLocked(ch); code != "" {
		return failResp(code)
	}
	switch {
	case c.fail != nil:
		return *c.fail
	case c.empty():
		return failResp("no_text")
	case utf8.RuneCountInString(c.text) > maxPostTextChars:
		return failResp("msg_too_long")
	}
	if ok, retry := s.takeChannelTokenLocked(ch.id); !ok {
		res := failResp("ratelimited")
		res.status, res.retryAfter = http.StatusTooManyRequests, retry
		return res
	}
	m := &Message{User: s.opts.BotUserID, BotID: s.opts.BotID, Text: c.text, Blocks: storedBlocks(c.blocks), Attachments: storedBlocks(c.attachments)}
	s.addMessageLocked(ch, m, req.params["thread_ts"])
	return okResp(map[string]any{"channel": ch.id, "ts": m.TS, "message": s.messageJSON(m)})
}

func (s *Server) apiUpdate(req *apiRequest) apiResponse {
	c := readContent(req, maxMessageBlocks)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[req.params["channel"]]
	if !ok {
		return failResp("channel_not_found")
	}
	m, ok := ch.byTS[req.params["ts"]]
	if !ok || m.Deleted {
		return failResp("message_not_found")
	}
	if m.BotID != s.opts.BotID {
		return failResp("cant_update_message")
	}
	if c.fail != nil {
		return *c.fail
	}
	if utf8.RuneCountInString(c.text) > maxUpdateTextChars {
		return failResp("msg_too_long")
	}
	next := content{text: m.Text, blocks: m.Blocks, attachments: m.Attachments}
	if c.hasText {
		next.text = c.text
	}
	if c.hasBlocks {
		next.blocks = c.blocks
	}
	if c.hasAttachment {
		next.attachments = c.attachments
	}
	if (!c.hasText && !c.hasBlocks && !c.hasAttachment) || next.empty() {
		return failResp("no_text")
	}
	m.Text, m.Blocks, m.Attachments = next.text, storedBlocks(next.blocks), storedBlocks(next.attachments)
	m.EditCount++
	s.notifyLocked()
	return okResp(map[string]any{"channel": ch.id, "ts": m.TS, "text": m.Text, "message": s.messageJSON(m)})
}

func (s *Server) apiPostEphemeral(req *apiRequest) apiResponse {
	c := readContent(req, maxMessageBlocks)
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, code := s.resolveChannelLocked(req.params["channel"], false)
	if code != "" {
		return failResp(code)
	}
	if code := s.botCanPostLocked(ch); code != "" {
		return failResp(code)
	}
	user := req.params["user"]
	if _, known := s.users[user]; !known || !ch.isMember(user) {
		return failResp("user_not_in_channel")
	}
	switch {
	case c.fail != nil:
		return *c.fail
	case c.empty():
		return failResp("no_text")
	case utf8.RuneCountInString(c.text) > maxPostTextChars:
		return failResp("msg_too_long")
	}
	e := &Ephemeral{Channel: ch.id, User: user, TS: s.nextTSLocked(), ThreadTS: req.params["thread_ts"],
		Text: c.text, Blocks: storedBlocks(c.blocks), Source: "chat.postEphemeral"}
	s.ephemerals = append(s.ephemerals, e)
	s.notifyLocked()
	return okResp(map[string]any{"message_ts": e.TS})
}

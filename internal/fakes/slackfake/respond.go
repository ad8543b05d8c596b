package slackfake

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path"
	"time"
)

// Limits of a response_url.
const (
	responseURLUses = 5
	responseURLTTL  = 30 * time.Minute
)

// responseTarget is what a response_url acts on.
type responseTarget struct {
	channel   string
	messageTS string // "" for slash commands
	user      string
	ephemeral bool
	uses      int
	created   time.Time
}

// newResponseURLLocked registers a response_url for the target.
func (s *Server) newResponseURLLocked(t *responseTarget) string {
	id := randHex(12)
	t.created = s.now()
	s.responseURLs[id] = t
	return s.hs.URL + "/response/" + s.opts.TeamID + "/" + id
}

// findEphemeralLocked returns the ephemeral message ts shown to user in channel.
func (s *Server) findEphemeralLocked(channel, ts, user string) *Ephemeral {
	for _, e := range s.ephemerals {
		if e.Channel == channel && e.TS == ts && e.User == user && !e.Deleted {
			return e
		}
	}
	return nil
}

// handleResponseURL serves POSTs to response_urls: replace_original,
// delete_original, or a new ephemeral (default) or in_channel message.
func (s *Server) handleResponseURL(w http.ResponseWriter, r *http.Request) {
	if d := s.latencyFor("response_url"); d > 0 && !s.sleep(r.Context(), d) {
		http.Error(w, "request cancelled", http.StatusServiceUnavailable)
		return
	}
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var res apiResponse
	if f, ok := s.takeFault("response_url"); ok {
		res = f.response()
	} else {
		res = s.respond(path.Base(r.URL.Path), body)
	}
	s.mu.Lock()
	post := ResponsePost{URL: s.hs.URL + r.URL.Path, Body: body, Status: res.status}
	post.Error, _ = res.body["error"].(string)
	s.responses = append(s.responses, post)
	s.notifyLocked()
	s.mu.Unlock()
	writeJSON(w, res)
}

func (s *Server) respond(id string, body []byte) apiResponse {
	var msg struct {
		Text            string          `json:"text"`
		Blocks          json.RawMessage `json:"blocks"`
		ResponseType    string          `json:"response_type"`
		ReplaceOriginal bool            `json:"replace_original"`
		DeleteOriginal  bool            `json:"delete_original"`
		ThreadTS        string          `json:"thread_ts"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return failResp("invalid_json")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.responseURLs[id]
	switch {
	case !ok:
		res := failResp("invalid_url")
		res.status = http.StatusNotFound
		return res
	case t.uses >= responseURLUses:
		res := failResp("used_url")
		res.status = http.StatusNotFound
		return res
	case s.now().Sub(t.created) > responseURLTTL:
		res := failResp("expired_url")
		res.status = http.StatusNotFound
		return res
	}
	if !isEmptyArray(msg.Blocks) {
		if msgs, format := validateBlocks(msg.Blocks, maxMessageBlocks); format {
			return failResp("invalid_blocks_format", msgs...)
		} else if len(msgs) > 0 {
			return failResp("invalid_blocks", msgs...)
		}
	}
	if !msg.DeleteOriginal && msg.Text == "" && isEmptyArray(msg.Blocks) {
		return failResp("no_text")
	}
	t.uses++
	ch := s.channels[t.channel]
	var orig *Message
	var origEph *Ephemeral
	if t.messageTS != "" && ch != nil {
		if t.ephemeral {
			origEph = s.findEphemeralLocked(t.channel, t.messageTS, t.user)
		} else {
			orig = ch.byTS[t.messageTS]
		}
	}
	switch {
	case (msg.DeleteOriginal || msg.ReplaceOriginal) && orig == nil && origEph == nil && t.messageTS != "":
		return failResp("message_not_found")
	case msg.DeleteOriginal && orig != nil:
		orig.Deleted = true
	case msg.DeleteOriginal && origEph != nil:
		origEph.Deleted = true
	case msg.ReplaceOriginal && orig != nil:
		orig.Text, orig.Blocks = msg.Text, storedBlocks(msg.Blocks)
		orig.EditCount++
	case msg.ReplaceOriginal && origEph != nil:
		origEph.Text, origEph.Blocks = msg.Text, storedBlocks(msg.Blocks)
		origEph.EditCount++
	case msg.ResponseType == "in_channel" && ch != nil:
		m := &Message{User: s.opts.BotUserID, BotID: s.opts.BotID, Text: msg.Text, Blocks: storedBlocks(msg.Blocks)}
		s.addMessageLocked(ch, m, msg.ThreadTS)
	default:
		s.ephemerals = append(s.ephemerals, &Ephemeral{Channel: t.channel, User: t.user, TS: s.nextTSLocked(),
			ThreadTS: msg.ThreadTS, Text: msg.Text, Blocks: bytes.Clone(storedBlocks(msg.Blocks)), Source: "response_url"})
	}
	s.notifyLocked()
	return okResp(nil)
}

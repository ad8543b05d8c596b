package slackfake

import (
	"encoding/json"
	"strconv"
)

func init() {
	apiMethods["conversations.history"] = (*Server).apiHistory
	apiMethods["conversations.replies"] = (*Server).apiReplies
	methodScopes["conversations.history"] = "channels:history"
	methodScopes["conversations.replies"] = "channels:history"
}

// apiHistory lists a conversation's top-level messages, newest first, after
// oldest when given.
func (s *Server) apiHistory(req *apiRequest) apiResponse {
	ch := req.params["channel"]
	if !s.knownConversation(ch) {
		return failResp("channel_not_found")
	}
	oldest, _ := strconv.ParseFloat(req.params["oldest"], 64)
	msgs := s.filterMessages(ch, func(m *Message) bool {
		ts, _ := strconv.ParseFloat(m.TS, 64)
		return (m.ThreadTS == "" || m.ThreadTS == m.TS) && ts > oldest
	})
	return okResp(map[string]any{"messages": historyJSON(msgs, true), "has_more": false})
}

// apiReplies lists a thread, parent first.
func (s *Server) apiReplies(req *apiRequest) apiResponse {
	ch, ts := req.params["channel"], req.params["ts"]
	if !s.knownConversation(ch) {
		return failResp("channel_not_found")
	}
	msgs := s.Thread(ch, ts)
	if len(msgs) == 0 {
		return failResp("thread_not_found")
	}
	return okResp(map[string]any{"messages": historyJSON(msgs, false), "has_more": false})
}

// knownConversation reports whether ch is a channel or an opened DM.
func (s *Server) knownConversation(ch string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.channels[ch]; ok {
		return true
	}
	for _, id := range s.dms {
		if id == ch {
			return true
		}
	}
	return false
}

// historyJSON renders messages as the history methods do.
func historyJSON(msgs []Message, newestFirst bool) []map[string]any {
	out := make([]map[string]any, 0, len(msgs))
	for i := range msgs {
		m := msgs[i]
		if newestFirst {
			m = msgs[len(msgs)-1-i]
		}
		j := map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "user": m.User}
		if m.BotID != "" {
			j["bot_id"] = m.BotID
		}
		if m.ThreadTS != "" {
			j["thread_ts"] = m.ThreadTS
		}
		if len(m.Blocks) > 0 {
			j["blocks"] = json.RawMessage(m.Blocks)
		}
		out = append(out, j)
	}
	return out
}

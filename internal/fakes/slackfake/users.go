package slackfake

import (
	"slices"
	"sort"
	"strings"
)

func (s *Server) apiAuthTest(*apiRequest) apiResponse {
	return okResp(map[string]any{
		"url":     "https://" + s.opts.TeamDomain + ".slack.com/",
		"team":    s.opts.TeamName,
		"user":    s.opts.BotName,
		"team_id": s.opts.TeamID,
		"user_id": s.opts.BotUserID,
		"bot_id":  s.opts.BotID,
	})
}

// userJSON renders a user as Slack's user object; the email is included only
// when the token has users:read.email (or scopes are not restricted).
func (s *Server) userJSON(u *User) map[string]any {
	realName := u.RealName
	if realName == "" {
		realName = u.Name
	}
	profile := map[string]any{"real_name": realName, "display_name": u.Name, "team": s.opts.TeamID}
	if s.opts.BotScopes == nil || slices.Contains(s.opts.BotScopes, "users:read.email") {
		profile["email"] = u.Email
	}
	return map[string]any{
		"id": u.ID, "team_id": s.opts.TeamID, "name": u.Name, "real_name": realName,
		"deleted": u.Deleted, "is_bot": u.IsBot, "tz": "Etc/UTC", "profile": profile,
	}
}

func (s *Server) apiUsersInfo(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[req.params["user"]]
	if !ok {
		return failResp("user_not_found")
	}
	return okResp(map[string]any{"user": s.userJSON(u)})
}

func (s *Server) apiLookupByEmail(req *apiRequest) apiResponse {
	email := strings.TrimSpace(req.params["email"])
	s.mu.Lock()
	defer s.mu.Unlock()
	if email == "" {
		return failResp("invalid_arguments")
	}
	for _, u := range s.users {
		if strings.EqualFold(u.Email, email) && !u.Deleted {
			return okResp(map[string]any{"user": s.userJSON(u)})
		}
	}
	return failResp("users_not_found")
}

// apiConversationsOpen opens (or re-opens) the bot's DM with one user, or a
// group DM with several users.
func (s *Server) apiConversationsOpen(req *apiRequest) apiResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id := req.params["channel"]; id != "" {
		ch, ok := s.channels[id]
		if !ok || (ch.imUser == "" && !ch.isMember(s.opts.BotUserID)) {
			return failResp("channel_not_found")
		}
		return okResp(map[string]any{"channel": s.imJSON(ch), "no_op": true, "already_open": true})
	}
	var users []string
	for _, u := range strings.Split(req.params["users"], ",") {
		if u = strings.TrimSpace(u); u != "" && u != s.opts.BotUserID {
			users = append(users, u)
		}
	}
	switch {
	case len(users) == 0:
		return failResp("users_list_not_supplied")
	case len(users) > 8:
		return failResp("too_many_users")
	}
	for _, id := range users {
		u, ok := s.users[id]
		if !ok {
			return failResp("user_not_found")
		}
		if u.Deleted {
			return failResp("user_disabled")
		}
	}
	if len(users) == 1 {
		ch, existed := s.openDMLocked(users[0])
		res := okResp(map[string]any{"channel": s.imJSON(ch)})
		if existed {
			res.body["no_op"], res.body["already_open"] = true, true
		}
		return res
	}
	sort.Strings(users)
	id := "G" + strings.Join(users, "")
	if len(id) > 11 {
		id = "G" + shortHash(strings.Join(users, ","))
	}
	ch, existed := s.channels[id]
	if !existed {
		ch = newChannelState(id, "mpdm-"+strings.Join(users, "--"), append([]string{s.opts.BotUserID}, users...), true, false)
		s.channels[id] = ch
		s.notifyLocked()
	}
	res := okResp(map[string]any{"channel": s.imJSON(ch)})
	if existed {
		res.body["no_op"], res.body["already_open"] = true, true
	}
	return res
}

// imJSON renders a conversation for conversations.open.
func (s *Server) imJSON(ch *channelState) map[string]any {
	out := map[string]any{"id": ch.id, "is_open": true}
	if ch.imUser != "" {
		out["is_im"] = true
		out["user"] = ch.imUser
	} else {
		out["is_mpim"] = true
		out["name"] = ch.name
	}
	return out
}

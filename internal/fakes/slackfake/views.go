package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// checkView validates a modal view object and returns Slack-style messages.
func checkView(raw json.RawMessage) (map[string]any, []string) {
	var view map[string]any
	if err := json.Unmarshal(raw, &view); err != nil || view == nil {
		return nil, []string{"[ERROR] view must be a JSON object [json-pointer:/view]"}
	}
	v := &validator{}
	if view["type"] != "modal" {
		v.errorf("/view/type", "must be modal")
	}
	if t, ok := view["title"]; !ok {
		v.errorf("/view", "missing required field: title")
	} else {
		v.text("/view/title", t, 24, true)
	}
	for _, k := range []string{"submit", "close"} {
		if t, ok := view[k]; ok {
			v.text("/view/"+k, t, 24, true)
		}
	}
	v.optStr("/view", view, "callback_id", 255)
	v.optStr("/view", view, "private_metadata", 3000)
	v.optStr("/view", view, "external_id", 255)
	blocks, _ := json.Marshal(view["blocks"])
	if view["blocks"] == nil {
		v.errorf("/view", "missing required field: blocks")
	} else if msgs, _ := validateBlocks(blocks, maxViewBlocks); len(msgs) > 0 {
		for _, m := range msgs {
			v.msgs = append(v.msgs, replacePointer(m))
		}
	}
	return view, v.msgs
}

// replacePointer rewrites "/blocks" pointers to "/view/blocks".
func replacePointer(msg string) string {
	return strings.ReplaceAll(msg, "[json-pointer:/blocks", "[json-pointer:/view/blocks")
}

// storeViewLocked stores a new view for the user and returns it.
func (s *Server) storeViewLocked(raw json.RawMessage, userID, triggerID string) *View {
	var meta struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		ExternalID      string `json:"external_id"`
	}
	_ = json.Unmarshal(raw, &meta)
	v := &View{ID: randID("V", 10), UserID: userID, TriggerID: triggerID, CallbackID: meta.CallbackID,
		PrivateMetadata: meta.PrivateMetadata, ExternalID: meta.ExternalID, JSON: bytes.Clone(raw), Hash: s.newHashLocked()}
	s.views[v.ID] = v
	s.viewOrder = append(s.viewOrder, v.ID)
	s.notifyLocked()
	return v
}

func (s *Server) newHashLocked() string {
	return fmt.Sprintf("%d.%s", s.now().Unix(), randHex(4))
}

// viewJSON renders a stored view as Slack's view object.
func (s *Server) viewJSON(v *View) map[string]any {
	out := map[string]any{}
	_ = json.Unmarshal(v.JSON, &out)
	out["id"] = v.ID
	out["team_id"] = s.opts.TeamID
	out["callback_id"] = v.CallbackID
	out["private_metadata"] = v.PrivateMetadata
	out["external_id"] = v.ExternalID
	out["hash"] = v.Hash
	out["state"] = map[string]any{"values": map[string]any{}}
	out["app_id"] = s.opts.AppID
	out["bot_id"] = s.opts.BotID
	out["root_view_id"] = v.ID
	out["app_installed_team_id"] = s.opts.TeamID
	return out
}

// apiViewsOpen opens a modal for a trigger_id that is known, unused and less
// than 3 seconds old.
func (s *Server) apiViewsOpen(req *apiRequest) apiResponse {
	trig := req.params["trigger_id"]
	if trig == "" {
		trig = req.params["interactivity_pointer"]
	}
	raw, ok := req.rawParam("view")
	if trig == "" || !ok {
		return failResp("invalid_arguments")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, known := s.triggers[trig]
	switch {
	case !known:
		return failResp("invalid_trigger_id")
	case t.used:
		return failResp("exchanged_trigger_id")
	case s.now().Sub(t.created) >= triggerTTL:
		return failResp("expired_trigger_id")
	}
	if _, msgs := checkView(raw); len(msgs) > 0 {
		return failResp("invalid_arguments", msgs...)
	}
	t.used = true
	v := s.storeViewLocked(raw, t.user, trig)
	return okResp(map[string]any{"view": s.viewJSON(v)})
}

// apiViewsUpdate replaces a view found by view_id or external_id; a given
// hash must match the current one.
func (s *Server) apiViewsUpdate(req *apiRequest) apiResponse {
	raw, ok := req.rawParam("view")
	if !ok {
		return failResp("invalid_arguments")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var v *View
	if id := req.params["view_id"]; id != "" {
		v = s.views[id]
	} else if ext := req.params["external_id"]; ext != "" {
		for _, id := range s.viewOrder {
			if s.views[id].ExternalID == ext {
				v = s.views[id]
			}
		}
	}
	if v == nil {
		return failResp("not_found")
	}
	if h := req.params["hash"]; h != "" && h != v.Hash {
		return failResp("hash_conflict")
	}
	view, msgs := checkView(raw)
	if len(msgs) > 0 {
		return failResp("invalid_arguments", msgs...)
	}
	v.JSON = bytes.Clone(raw)
	if cb, ok := view["callback_id"].(string); ok {
		v.CallbackID = cb
	}
	if pm, ok := view["private_metadata"].(string); ok {
		v.PrivateMetadata = pm
	}
	v.Hash = s.newHashLocked()
	s.notifyLocked()
	return okResp(map[string]any{"view": s.viewJSON(v)})
}

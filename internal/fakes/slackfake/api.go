package slackfake

import (
	"context"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// apiRequest is one decoded Web API call.
type apiRequest struct {
	method string
	params map[string]string          // form fields, or top-level JSON members (strings unquoted)
	raw    map[string]json.RawMessage // top-level JSON members of a JSON body, nil for forms
	body   string                     // the raw JSON body, "" for forms
	bearer string                     // token from the Authorization header
	token  string                     // bearer, or else the token form field
}

// apiResponse is what a method handler answers.
type apiResponse struct {
	status     int
	retryAfter int
	body       map[string]any
}

// okResp answers {"ok":true} plus fields.
func okResp(fields map[string]any) apiResponse {
	body := map[string]any{"ok": true}
	for k, v := range fields {
		body[k] = v
	}
	return apiResponse{status: http.StatusOK, body: body}
}

// failResp answers HTTP 200 {"ok":false,"error":code}, with messages in
// response_metadata.messages when given.
func failResp(code string, messages ...string) apiResponse {
	body := map[string]any{"ok": false, "error": code}
	if len(messages) > 0 {
		body["response_metadata"] = map[string]any{"messages": messages}
	}
	return apiResponse{status: http.StatusOK, body: body}
}

// apiMethods maps Web API method names to their handlers.
var apiMethods = map[string]func(*Server, *apiRequest) apiResponse{
	"apps.connections.open": (*Server).apiConnectionsOpen,
	"auth.test":             (*Server).apiAuthTest,
	"chat.postMessage":      (*Server).apiPostMessage,
	"chat.update":           (*Server).apiUpdate,
	"chat.postEphemeral":    (*Server).apiPostEphemeral,
	"conversations.open":    (*Server).apiConversationsOpen,
	"users.info":            (*Server).apiUsersInfo,
	"users.lookupByEmail":   (*Server).apiLookupByEmail,
	"views.open":            (*Server).apiViewsOpen,
	"views.update":          (*Server).apiViewsUpdate,
}

// methodScopes lists the bot scope each method needs; absent means none.
var methodScopes = map[string]string{
	"chat.postMessage":    "chat:write",
	"chat.update":         "chat:write",
	"chat.postEphemeral":  "chat:write",
	"conversations.open":  "im:write",
	"users.info":          "users:read",
	"users.lookupByEmail": "users:read.email",
}

func (s *Server) handleAPI(w http.ResponseWriter, r *http.Request) {
	req, perr := readRequest(r)
	req.method = strings.TrimPrefix(r.URL.Path, "/api/")
	if d := s.latencyFor(req.method); d > 0 && !s.sleep(r.Context(), d) {
		http.Error(w, "request cancelled", http.StatusServiceUnavailable)
		return
	}
	idx := s.recordCall(req)
	var res apiResponse
	if f, ok := s.takeFault(req.method); ok {
		res = f.response()
	} else if perr != "" {
		res = failResp(perr)
	} else {
		res = s.dispatch(req)
	}
	s.finishCall(idx, res)
	s.logf("slackfake: %s -> %d %v", req.method, res.status, res.body["error"])
	writeJSON(w, res)
}

// dispatch authenticates the call and runs the method handler.
func (s *Server) dispatch(req *apiRequest) apiResponse {
	h, ok := apiMethods[req.method]
	if !ok {
		return failResp("unknown_method")
	}
	if req.method == "apps.connections.open" {
		switch req.bearer {
		case "":
			return failResp("not_authed")
		case s.opts.AppToken:
			return h(s, req)
		default:
			return failResp("invalid_auth")
		}
	}
	switch req.token {
	case "":
		return failResp("not_authed")
	case s.opts.BotToken:
	case s.opts.AppToken:
		return failResp("not_allowed_token_type")
	default:
		return failResp("invalid_auth")
	}
	if need := methodScopes[req.method]; need != "" && s.opts.BotScopes != nil && !slices.Contains(s.opts.BotScopes, need) {
		res := failResp("missing_scope")
		res.body["needed"] = need
		res.body["provided"] = strings.Join(s.opts.BotScopes, ",")
		return res
	}
	return h(s, req)
}

// readRequest decodes a form or JSON call; the second result is a Slack error
// code when the body cannot be read.
func readRequest(r *http.Request) (*apiRequest, string) {
	req := &apiRequest{params: map[string]string{}, bearer: bearer(r)}
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	perr := ""
	switch ctype {
	case "application/json":
		b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			perr = "invalid_form_data"
			break
		}
		req.body = string(b)
		if len(strings.TrimSpace(req.body)) > 0 {
			if err := json.Unmarshal(b, &req.raw); err != nil {
				perr = "invalid_json"
			}
		}
		for k, v := range req.raw {
			var str string
			if json.Unmarshal(v, &str) == nil {
				req.params[k] = str
			} else {
				req.params[k] = string(v)
			}
		}
		for k, v := range r.URL.Query() {
			req.params[k] = v[0]
		}
	case "multipart/form-data":
		if err := r.ParseMultipartForm(8 << 20); err != nil {
			perr = "invalid_form_data"
		}
	default:
		if err := r.ParseForm(); err != nil {
			perr = "invalid_form_data"
		}
	}
	for k, v := range r.Form {
		if len(v) > 0 {
			req.params[k] = v[0]
		}
	}
	req.token = req.bearer
	if req.token == "" {
		req.token = req.params["token"]
	}
	return req, perr
}

// writeJSON writes an API response with its status and Retry-After header.
func writeJSON(w http.ResponseWriter, res apiResponse) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if res.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(res.retryAfter))
	}
	if res.status == 0 {
		res.status = http.StatusOK
	}
	w.WriteHeader(res.status)
	_ = json.NewEncoder(w).Encode(res.body)
}

// sleep waits d unless ctx ends or the server closes first; it reports whether d elapsed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// hasParam reports whether the request carried the named parameter.
func (req *apiRequest) hasParam(name string) bool {
	_, ok := req.params[name]
	return ok
}

// rawParam returns a JSON-valued parameter: the JSON member itself for JSON
// bodies, or the form field's text (which slack-go fills with JSON).
func (req *apiRequest) rawParam(name string) (json.RawMessage, bool) {
	if v, ok := req.raw[name]; ok {
		var str string
		if json.Unmarshal(v, &str) == nil {
			return json.RawMessage(str), true
		}
		return v, true
	}
	v, ok := req.params[name]
	return json.RawMessage(v), ok
}

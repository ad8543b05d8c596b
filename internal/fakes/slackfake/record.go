package slackfake

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"
)

// Call is one recorded Web API call, with its raw parameters (tokens
// included) and the outcome.
type Call struct {
	Method string
	// Params holds form fields, or the top-level members of a JSON body
	// (strings unquoted, other values as JSON text).
	Params map[string]string
	// Body is the raw body of a JSON call, "" for form calls.
	Body   string
	Status int
	// Error is the Slack error code answered, "" on success.
	Error string
	At    time.Time
}

// Message is the current state of a channel or DM message.
type Message struct {
	Channel     string
	TS          string
	ThreadTS    string
	User        string
	BotID       string
	Text        string
	Blocks      json.RawMessage
	Attachments json.RawMessage
	EditCount   int
	Deleted     bool
	ReplyCount  int
}

// Ephemeral is an ephemeral message shown to one user.
type Ephemeral struct {
	Channel   string
	User      string
	TS        string
	ThreadTS  string
	Text      string
	Blocks    json.RawMessage
	EditCount int
	Deleted   bool
	// Source is "chat.postEphemeral", "response_url" or "ack".
	Source string
}

// View is a modal opened through views.open.
type View struct {
	ID              string
	UserID          string
	TriggerID       string
	CallbackID      string
	PrivateMetadata string
	ExternalID      string
	Hash            string
	// JSON is the view as last opened, updated or replaced by an ack.
	JSON json.RawMessage
	// Closed is set when a submission was acked without errors (or with
	// response_action "clear").
	Closed bool
	// Errors holds the errors of the last response_action "errors" ack.
	Errors map[string]string
}

// Ack is a frame the client sent back over Socket Mode.
type Ack struct {
	EnvelopeID string
	// Type is the type of the acknowledged envelope, "" if it is unknown.
	Type    string
	Payload json.RawMessage
	// Late is set when the ack came after the ack deadline.
	Late bool
	At   time.Time
}

// Envelope is a Socket Mode envelope the server sent.
type Envelope struct {
	EnvelopeID   string
	Type         string
	RetryAttempt int
	RetryReason  string
	EventID      string
	Payload      json.RawMessage
	At           time.Time
}

// DroppedResponse is a client frame of 20 KiB or more, dropped silently as
// Slack does.
type DroppedResponse struct {
	EnvelopeID string
	Size       int
	Frame      []byte
}

// Timeout records an envelope that was not acknowledged in time and will not
// be retried. Error is "operation_timeout" for slash commands and "timeout"
// otherwise.
type Timeout struct {
	EnvelopeID string
	Type       string
	Error      string
}

// ResponsePost is one POST to a response_url.
type ResponsePost struct {
	URL    string
	Body   json.RawMessage
	Status int
	Error  string
}

func (s *Server) recordCall(req *apiRequest) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: req.method, Params: maps.Clone(req.params), Body: req.body, At: s.now()})
	s.notifyLocked()
	return len(s.calls) - 1
}

func (s *Server) finishCall(idx int, res apiResponse) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[idx].Status = res.status
	if e, ok := res.body["error"].(string); ok {
		s.calls[idx].Error = e
	}
	s.notifyLocked()
}

// Calls returns every Web API call so far, in arrival order.
func (s *Server) Calls() []Call {
	return s.CallsTo("")
}

// CallsTo returns the calls of one method ("" for all), in arrival order.
func (s *Server) CallsTo(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			c.Params = maps.Clone(c.Params)
			out = append(out, c)
		}
	}
	return out
}

func cloneMessage(m *Message) Message {
	c := *m
	c.Blocks = bytes.Clone(m.Blocks)
	c.Attachments = bytes.Clone(m.Attachments)
	return c
}

// Message returns the current state of the message ts in channel.
func (s *Server) Message(channel, ts string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.channels[channel]; ok {
		if m, ok := ch.byTS[ts]; ok {
			return cloneMessage(m), true
		}
	}
	return Message{}, false
}

// Messages returns the channel's messages that are not deleted, thread
// replies included, in ts order.
func (s *Server) Messages(channel string) []Message {
	return s.filterMessages(channel, func(*Message) bool { return true })
}

// Thread returns the parent message ts and its replies, in ts order.
func (s *Server) Thread(channel, ts string) []Message {
	return s.filterMessages(channel, func(m *Message) bool { return m.TS == ts || m.ThreadTS == ts })
}

// DMChannel returns the id of the bot's DM with the user, if it was opened.
func (s *Server) DMChannel(userID string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.dms[userID]
	return id, ok
}

// DMs returns the messages of the bot's DM with the user.
func (s *Server) DMs(userID string) []Message {
	id, ok := s.DMChannel(userID)
	if !ok {
		return nil
	}
	return s.Messages(id)
}

func (s *Server) filterMessages(channel string, keep func(*Message) bool) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch, ok := s.channels[channel]
	if !ok {
		return nil
	}
	var out []Message
	for _, m := range ch.msgs {
		if !m.Deleted && keep(m) {
			out = append(out, cloneMessage(m))
		}
	}
	return out
}

// Ephemerals returns every ephemeral message, in the order they were shown.
func (s *Server) Ephemerals() []Ephemeral {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ephemeral, 0, len(s.ephemerals))
	for _, e := range s.ephemerals {
		c := *e
		c.Blocks = bytes.Clone(e.Blocks)
		out = append(out, c)
	}
	return out
}

func cloneView(v *View) View {
	c := *v
	c.JSON = bytes.Clone(v.JSON)
	c.Errors = maps.Clone(v.Errors)
	return c
}

// View returns the view with the given id.
func (s *Server) View(id string) (View, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[id]
	if !ok {
		return View{}, false
	}
	return cloneView(v), true
}

// Views returns every view opened so far, in opening order.
func (s *Server) Views() []View {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]View, 0, len(s.viewOrder))
	for _, id := range s.viewOrder {
		out = append(out, cloneView(s.views[id]))
	}
	return out
}

// Acks returns every ack received, in arrival order.
func (s *Server) Acks() []Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.acks)
}

// Envelopes returns every envelope sent, retries included, in sending order.
func (s *Server) Envelopes() []Envelope {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.envelopes)
}

// Dropped returns the client frames dropped for being 20 KiB or larger.
func (s *Server) Dropped() []DroppedResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.dropped)
}

// Timeouts returns the envelopes that timed out for good.
func (s *Server) Timeouts() []Timeout {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.timeouts)
}

// ResponsePosts returns every POST to a response_url, in arrival order.
func (s *Server) ResponsePosts() []ResponsePost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.responses)
}

// AllRecordedText concatenates everything the bot sent to the fake: call
// parameters and bodies, message and ephemeral texts and blocks, views, ack
// payloads, dropped frames and response_url bodies. The token parameters are
// left out so tests can grep the result for secrets that must never reach
// Slack.
func (s *Server) AllRecordedText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	line := func(parts ...string) {
		for _, p := range parts {
			if p != "" {
				b.WriteString(p)
				b.WriteByte('\n')
			}
		}
	}
	for _, c := range s.calls {
		keys := slices.Sorted(maps.Keys(c.Params))
		for _, k := range keys {
			if k != "token" {
				line(k + "=" + c.Params[k])
			}
		}
		line(c.Body)
	}
	for _, ch := range s.channels {
		for _, m := range ch.msgs {
			line(m.Text, string(m.Blocks), string(m.Attachments))
		}
	}
	for _, e := range s.ephemerals {
		line(e.Text, string(e.Blocks))
	}
	for _, id := range s.viewOrder {
		line(string(s.views[id].JSON))
	}
	for _, a := range s.acks {
		line(string(a.Payload))
	}
	for _, d := range s.dropped {
		line(string(d.Frame))
	}
	for _, r := range s.responses {
		line(string(r.Body))
	}
	return b.String()
}

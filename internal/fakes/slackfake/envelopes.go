package slackfake

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
)

// pendingEnvelope is an envelope that was (or is being) sent, with what is
// needed to act on its ack or on a missed deadline.
type pendingEnvelope struct {
	typ      string // events_api, slash_commands or interactive
	accepts  bool   // accepts_response_payload
	payload  json.RawMessage
	eventID  string // events_api only
	retry    int
	acked    bool
	timedOut bool
	timer    *time.Timer

	channel, user string // slash commands: where an inline response goes
	viewID        string // view submissions: the submitted view
}

// send delivers the envelope to one open connection, waiting for a
// connection if none is open, and returns its envelope id once it is written.
func (s *Server) send(ctx context.Context, p *pendingEnvelope) (string, error) {
	envID := newUUID()
	frame := map[string]any{"envelope_id": envID, "type": p.typ, "accepts_response_payload": p.accepts, "payload": p.payload}
	reason := ""
	if p.typ == "events_api" {
		if p.retry > 0 {
			reason = "timeout"
		}
		frame["retry_attempt"] = p.retry
		frame["retry_reason"] = reason
	}
	data, err := json.Marshal(frame)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	s.pending[envID] = p
	s.mu.Unlock()
	for {
		c := s.pickConn()
		if c == nil {
			if err := s.waitChange(ctx); err != nil {
				return "", err
			}
			continue
		}
		if err := c.write(data); err != nil {
			s.closeConn(c, false)
			continue
		}
		break
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.envelopes = append(s.envelopes, Envelope{EnvelopeID: envID, Type: p.typ, RetryAttempt: p.retry,
		RetryReason: reason, EventID: p.eventID, Payload: p.payload, At: s.now()})
	select {
	case <-s.done:
	default:
		p.timer = time.AfterFunc(s.opts.AckDeadline, func() { s.ackDeadline(envID) })
	}
	s.notifyLocked()
	s.logf("slackfake: sent %s envelope %s (retry %d)", p.typ, envID, p.retry)
	return envID, nil
}

// waitChange blocks until the server's state changes, ctx ends or the server closes.
func (s *Server) waitChange(ctx context.Context) error {
	s.mu.Lock()
	ch := s.changed
	n := len(s.conns)
	s.mu.Unlock()
	if n > 0 {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
}

// ackDeadline handles an envelope whose ack deadline passed: events_api is
// re-sent with retry_attempt+1, anything else is recorded as a timeout.
func (s *Server) ackDeadline(envID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.pending[envID]
	select {
	case <-s.done:
		return
	default:
	}
	if p == nil || p.acked || (p.eventID != "" && s.eventAcked[p.eventID]) {
		return
	}
	p.timedOut = true
	s.notifyLocked()
	switch {
	case p.typ == "events_api" && p.retry < s.opts.MaxRetries:
		next := &pendingEnvelope{typ: p.typ, payload: p.payload, eventID: p.eventID, retry: p.retry + 1}
		go func() { _, _ = s.send(s.ctx, next) }()
	case p.typ == "slash_commands":
		s.timeouts = append(s.timeouts, Timeout{EnvelopeID: envID, Type: p.typ, Error: "operation_timeout"})
	default:
		s.timeouts = append(s.timeouts, Timeout{EnvelopeID: envID, Type: p.typ, Error: "timeout"})
	}
}

// recordAck stores an ack and applies its payload when it came in time.
func (s *Server) recordAck(envID string, payload json.RawMessage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ack := Ack{EnvelopeID: envID, Payload: bytes.Clone(payload), At: s.now()}
	if p := s.pending[envID]; p != nil {
		ack.Type, ack.Late = p.typ, p.timedOut
		if p.timer != nil {
			p.timer.Stop()
		}
		if p.eventID != "" {
			s.eventAcked[p.eventID] = true
		}
		if !p.acked && !p.timedOut {
			s.applyAckLocked(p, payload)
		}
		p.acked = true
	}
	s.acks = append(s.acks, ack)
	s.notifyLocked()
	s.logf("slackfake: ack for %s (%d payload bytes)", envID, len(payload))
}

// applyAckLocked acts on an ack payload: a slash command's inline response
// is shown, and a view submission's response_action updates the view.
func (s *Server) applyAckLocked(p *pendingEnvelope, payload json.RawMessage) {
	var body struct {
		Text           string            `json:"text"`
		Blocks         json.RawMessage   `json:"blocks"`
		ResponseType   string            `json:"response_type"`
		ResponseAction string            `json:"response_action"`
		Errors         map[string]string `json:"errors"`
		View           json.RawMessage   `json:"view"`
	}
	if len(payload) > 0 {
		_ = json.Unmarshal(payload, &body)
	}
	switch {
	case p.typ == "slash_commands":
		if body.Text == "" && isEmptyArray(body.Blocks) {
			return
		}
		if msgs, _ := validateBlocks(body.Blocks, maxMessageBlocks); !isEmptyArray(body.Blocks) && len(msgs) > 0 {
			s.logf("slackfake: ignoring slash command response with invalid blocks: %v", msgs)
			return
		}
		ch := s.channels[p.channel]
		if body.ResponseType == "in_channel" && ch != nil {
			m := &Message{User: s.opts.BotUserID, BotID: s.opts.BotID, Text: body.Text, Blocks: storedBlocks(body.Blocks)}
			s.addMessageLocked(ch, m, "")
			return
		}
		s.ephemerals = append(s.ephemerals, &Ephemeral{Channel: p.channel, User: p.user, TS: s.nextTSLocked(),
			Text: body.Text, Blocks: storedBlocks(body.Blocks), Source: "ack"})
	case p.viewID != "":
		v := s.views[p.viewID]
		if v == nil {
			return
		}
		switch body.ResponseAction {
		case "errors":
			v.Errors = body.Errors
		case "update":
			v.JSON, v.Errors = bytes.Clone(body.View), nil
		case "push":
			s.storeViewLocked(body.View, v.UserID, "")
		default: // "clear", or an empty ack, closes the modal
			v.Closed, v.Errors = true, nil
		}
	}
}

// WaitAck blocks until the envelope is acknowledged and returns the ack.
// Redeliveries of an events_api envelope carry new envelope ids; Envelopes
// lists them.
func (s *Server) WaitAck(ctx context.Context, envelopeID string) (Ack, error) {
	var got Ack
	err := s.WaitFor(ctx, func() bool {
		for _, a := range s.Acks() {
			if a.EnvelopeID == envelopeID {
				got = a
				return true
			}
		}
		return false
	})
	return got, err
}

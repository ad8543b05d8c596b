package slackfake

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// maxResponseBytes is the size from which Slack silently drops Socket Mode
// responses.
const maxResponseBytes = 20 * 1024

// wsConn is one Socket Mode connection.
type wsConn struct {
	id      int
	ws      *websocket.Conn
	writeMu sync.Mutex // gorilla allows one concurrent writer
	closed  chan struct{}
	once    sync.Once
}

// writeLocked writes a text frame; c.writeMu must be held.
func (c *wsConn) writeLocked(data []byte) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(5 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, data)
}

// write writes a text frame.
func (c *wsConn) write(data []byte) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	return c.writeLocked(data)
}

var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// apiConnectionsOpen hands out a fresh single-use WebSocket URL.
func (s *Server) apiConnectionsOpen(*apiRequest) apiResponse {
	ticket := newUUID()
	s.mu.Lock()
	s.tickets[ticket] = false
	s.mu.Unlock()
	u := "ws" + strings.TrimPrefix(s.hs.URL, "http") + "/link/?ticket=" + ticket + "&app_id=" + s.opts.AppID
	return okResp(map[string]any{"url": u})
}

// handleLink upgrades a Socket Mode connection, sends hello and reads acks.
func (s *Server) handleLink(w http.ResponseWriter, r *http.Request) {
	ticket := r.URL.Query().Get("ticket")
	s.mu.Lock()
	used, known := s.tickets[ticket]
	if known {
		s.tickets[ticket] = true
	}
	s.mu.Unlock()
	if !known || used {
		http.Error(w, "invalid or already used ticket", http.StatusUnauthorized)
		return
	}
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &wsConn{ws: ws, closed: make(chan struct{})}
	c.writeMu.Lock() // nothing may be written before hello
	s.mu.Lock()
	select {
	case <-s.done:
		s.mu.Unlock()
		c.writeMu.Unlock()
		_ = ws.Close()
		return
	default:
	}
	if len(s.conns) >= s.opts.MaxConnections {
		s.mu.Unlock()
		_ = c.writeLocked(disconnectFrame("too_many_websockets"))
		c.writeMu.Unlock()
		s.logf("slackfake: refused connection: too_many_websockets")
		closeWS(ws)
		return
	}
	s.nextConnID++
	c.id = s.nextConnID
	s.conns[c.id] = c
	s.totalConns++
	n := len(s.conns)
	s.notifyLocked()
	s.mu.Unlock()
	hello, _ := json.Marshal(map[string]any{
		"type":            "hello",
		"num_connections": n,
		"debug_info":      map[string]any{"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060},
		"connection_info": map[string]any{"app_id": s.opts.AppID},
	})
	err = c.writeLocked(hello)
	c.writeMu.Unlock()
	if err != nil {
		s.closeConn(c, false)
		return
	}
	s.logf("slackfake: socket connection %d open", c.id)
	go s.pingLoop(c)
	s.readLoop(c)
}

func disconnectFrame(reason string) []byte {
	b, _ := json.Marshal(map[string]any{"type": "disconnect", "reason": reason, "debug_info": map[string]any{"host": "applink-fake"}})
	return b
}

// closeWS sends a normal close frame and closes the connection.
func closeWS(ws *websocket.Conn) {
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	_ = ws.Close()
}

// readLoop reads client frames until the connection fails.
func (s *Server) readLoop(c *wsConn) {
	for {
		typ, data, err := c.ws.ReadMessage()
		if err != nil {
			s.closeConn(c, false)
			return
		}
		if typ == websocket.TextMessage {
			s.handleFrame(data)
		}
	}
}

// handleFrame records an ack, or drops a frame of 20 KiB or more.
func (s *Server) handleFrame(data []byte) {
	var f struct {
		EnvelopeID string          `json:"envelope_id"`
		Payload    json.RawMessage `json:"payload"`
	}
	err := json.Unmarshal(data, &f)
	if len(data) >= maxResponseBytes {
		s.mu.Lock()
		s.dropped = append(s.dropped, DroppedResponse{EnvelopeID: f.EnvelopeID, Size: len(data), Frame: data})
		s.notifyLocked()
		s.mu.Unlock()
		s.logf("slackfake: dropped %d-byte response for envelope %s", len(data), f.EnvelopeID)
		return
	}
	if err != nil || f.EnvelopeID == "" {
		s.logf("slackfake: ignoring unreadable frame %q", data)
		return
	}
	s.recordAck(f.EnvelopeID, f.Payload)
}

// pingLoop sends WebSocket PING frames every ping interval unless pings are stopped.
func (s *Server) pingLoop(c *wsConn) {
	t := time.NewTicker(s.opts.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-c.closed:
			return
		case <-s.done:
			return
		case <-t.C:
		}
		s.mu.Lock()
		stopped := s.stopPings
		s.mu.Unlock()
		if stopped {
			continue
		}
		if err := c.ws.WriteControl(websocket.PingMessage, []byte("applink-fake"), time.Now().Add(time.Second)); err != nil {
			s.closeConn(c, false)
			return
		}
	}
}

// closeConn forgets the connection and closes it, with a close frame when
// graceful is set and abruptly otherwise.
func (s *Server) closeConn(c *wsConn, graceful bool) {
	c.once.Do(func() {
		s.mu.Lock()
		delete(s.conns, c.id)
		s.notifyLocked()
		s.mu.Unlock()
		if graceful {
			closeWS(c.ws)
		} else {
			_ = c.ws.Close()
		}
		close(c.closed)
		s.logf("slackfake: socket connection %d closed", c.id)
	})
}

// connList returns the open connections in id order; s.mu must be held.
func (s *Server) connList() []*wsConn {
	out := make([]*wsConn, 0, len(s.conns))
	for _, c := range s.conns {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *wsConn) int { return a.id - b.id })
	return out
}

// pickConn returns a random open connection, or nil.
func (s *Server) pickConn() *wsConn {
	s.mu.Lock()
	defer s.mu.Unlock()
	conns := s.connList()
	if len(conns) == 0 {
		return nil
	}
	return conns[rand.IntN(len(conns))]
}

// Disconnect sends a disconnect frame with the reason ("warning",
// "refresh_requested", "link_disabled", ...) on every connection and then
// closes them, even for "warning". When it returns, ConnectionCount is zero
// until a client reconnects.
func (s *Server) Disconnect(reason string) {
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	frame := disconnectFrame(reason)
	for _, c := range conns {
		_ = c.write(frame)
		s.closeConn(c, true)
	}
}

// DropConnections closes every connection's TCP stream abruptly, without a
// WebSocket close frame.
func (s *Server) DropConnections() {
	s.mu.Lock()
	conns := s.connList()
	s.mu.Unlock()
	for _, c := range conns {
		s.closeConn(c, false)
	}
}

// StopPings stops (true) or resumes (false) the PING frames on every connection.
func (s *Server) StopPings(stop bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stopPings = stop
}

// ConnectionCount returns the number of open Socket Mode connections.
func (s *Server) ConnectionCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// TotalConnections returns how many Socket Mode connections were accepted
// since the server started; it grows by one on every reconnect.
func (s *Server) TotalConnections() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.totalConns
}

// WaitConnected blocks until at least one Socket Mode connection is open.
func (s *Server) WaitConnected(ctx context.Context) error {
	return s.WaitFor(ctx, func() bool { return s.ConnectionCount() > 0 })
}

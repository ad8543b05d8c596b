// Package slackfake is an in-process fake of Slack for tests and demos.
//
// It speaks the real Web API over HTTP and Socket Mode over WebSocket on
// 127.0.0.1, so the unmodified slack-go client and its socketmode package can
// talk to it:
//
//	srv := slackfake.New(slackfake.Options{...})
//	defer srv.Close()
//	api := slack.New(botToken, slack.OptionAppLevelToken(appToken), slack.OptionAPIURL(srv.APIURL()))
//	cli := socketmode.New(api)
//
// The fake keeps the state of channels, messages, ephemeral messages, views
// and DMs, validates Block Kit payloads against Slack's documented limits,
// enforces a per-channel rate limit, and records every call, envelope and ack
// for assertions. Tests drive the bot through ClickButton, SlashCommand,
// PostUserMessage and SubmitView, and can inject faults. All methods are safe
// for concurrent use.
package slackfake

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Default values used when the corresponding Options field is empty.
const (
	DefaultBotToken   = "xoxb-000000000001-000000000002-fakebottoken0001"
	DefaultAppToken   = "xapp-1-A0FAKE0001-000000000003-fakeapptoken0001"
	DefaultAppID      = "A0FAKE0001"
	DefaultBotUserID  = "U0FAKEBOT1"
	DefaultBotID      = "B0FAKEBOT1"
	DefaultBotName    = "mfabot"
	DefaultTeamID     = "T0FAKE0001"
	DefaultTeamName   = "Fake Workspace"
	DefaultTeamDomain = "fakeworkspace"
)

// ErrClosed is returned by waits and deliveries once the server is closed.
var ErrClosed = errors.New("slackfake: server closed")

// User is a member of the fake workspace.
type User struct {
	ID       string
	Name     string
	Email    string
	RealName string
	IsBot    bool
	Deleted  bool
}

// Channel is a conversation of the fake workspace. Members lists user ids;
// the bot can post only if its user id is among them.
type Channel struct {
	ID       string
	Name     string
	Members  []string
	Private  bool
	Archived bool
}

// Options configures a Server. Zero values select the documented defaults.
type Options struct {
	// BotToken is the xoxb token accepted by every Web API method except apps.connections.open.
	BotToken string
	// AppToken is the xapp token accepted by apps.connections.open only.
	AppToken string
	// AppID, BotUserID, BotID and BotName describe the installed app.
	AppID     string
	BotUserID string
	BotID     string
	BotName   string
	// TeamID, TeamName and TeamDomain describe the workspace.
	TeamID     string
	TeamName   string
	TeamDomain string
	// Users and Channels seed the workspace directory.
	Users    []User
	Channels []Channel
	// BotScopes, when non-nil, restricts the bot token to these scopes, and
	// methods needing another scope answer missing_scope. Nil allows everything.
	BotScopes []string
	// PingInterval is how often WebSocket PING frames are sent (default 1s). It
	// must be shorter than the client's socketmode.OptionPingInterval.
	PingInterval time.Duration
	// AckDeadline is how long an envelope may stay unacknowledged (default 3s).
	AckDeadline time.Duration
	// MaxRetries is the number of events_api redeliveries after missed acks (default 3).
	MaxRetries int
	// MaxConnections is the number of concurrent Socket Mode connections (default 10).
	MaxConnections int
	// Now is the clock used for message timestamps, trigger and response_url
	// expiry and the rate limiter (default time.Now). Timers for pings and ack
	// deadlines always use real time.
	Now func() time.Time
	// ChannelRate is the sustained chat.postMessage rate per channel in
	// messages per second (default 1), and ChannelBurst the bucket size (default 3).
	ChannelRate  float64
	ChannelBurst int
	// DisableRateLimit turns the per-channel rate limit off.
	DisableRateLimit bool
	// Logf, when set, receives a line for each Web API call and socket event.
	// It is called from the server's goroutines, sometimes while the server's
	// lock is held, so it must not call back into the Server.
	Logf func(format string, args ...any)
}

func (o *Options) setDefaults() {
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&o.BotToken, DefaultBotToken)
	def(&o.AppToken, DefaultAppToken)
	def(&o.AppID, DefaultAppID)
	def(&o.BotUserID, DefaultBotUserID)
	def(&o.BotID, DefaultBotID)
	def(&o.BotName, DefaultBotName)
	def(&o.TeamID, DefaultTeamID)
	def(&o.TeamName, DefaultTeamName)
	def(&o.TeamDomain, DefaultTeamDomain)
	if o.PingInterval <= 0 {
		o.PingInterval = time.Second
	}
	if o.AckDeadline <= 0 {
		o.AckDeadline = 3 * time.Second
	}
	if o.MaxRetries <= 0 {
		o.MaxRetries = 3
	}
	if o.MaxConnections <= 0 {
		o.MaxConnections = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ChannelRate <= 0 {
		o.ChannelRate = 1
	}
	if o.ChannelBurst <= 0 {
		o.ChannelBurst = 3
	}
}

// Server is a running fake Slack. Create it with New and stop it with Close.
type Server struct {
	opts   Options
	hs     *httptest.Server
	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	done   <-chan struct{} // ctx.Done()
	once   sync.Once

	mu      sync.Mutex
	changed chan struct{}

	users    map[string]*User
	channels map[string]*channelState
	dms      map[string]string // user id -> DM channel id
	lastTS   int64

	ephemerals   []*Ephemeral
	views        map[string]*View
	viewOrder    []string
	triggers     map[string]*trigger
	responseURLs map[string]*responseTarget
	buckets      map[string]*bucket

	faults  map[string][]fault
	latency map[string]time.Duration

	tickets    map[string]bool
	conns      map[int]*wsConn
	nextConnID int
	totalConns int
	stopPings  bool
	pending    map[string]*pendingEnvelope
	eventAcked map[string]bool

	calls     []Call
	acks      []Ack
	envelopes []Envelope
	dropped   []DroppedResponse
	timeouts  []Timeout
	responses []ResponsePost
}

// New starts a fake Slack on an ephemeral port of 127.0.0.1.
func New(opts Options) *Server {
	opts.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		opts:         opts,
		ctx:          ctx,
		cancel:       cancel,
		done:         ctx.Done(),
		changed:      make(chan struct{}),
		users:        map[string]*User{},
		channels:     map[string]*channelState{},
		dms:          map[string]string{},
		views:        map[string]*View{},
		triggers:     map[string]*trigger{},
		responseURLs: map[string]*responseTarget{},
		buckets:      map[string]*bucket{},
		faults:       map[string][]fault{},
		latency:      map[string]time.Duration{},
		tickets:      map[string]bool{},
		conns:        map[int]*wsConn{},
		pending:      map[string]*pendingEnvelope{},
		eventAcked:   map[string]bool{},
	}
	for _, u := range opts.Users {
		u := u
		s.users[u.ID] = &u
	}
	for _, c := range opts.Channels {
		s.channels[c.ID] = newChannelState(c.ID, c.Name, c.Members, c.Private, c.Archived)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/api/", s.handleAPI)
	mux.HandleFunc("/link/", s.handleLink)
	mux.HandleFunc("/response/", s.handleResponseURL)
	s.hs = httptest.NewServer(mux)
	return s
}

// Close disconnects every Socket Mode client, stops all timers and shuts the
// HTTP server down.
func (s *Server) Close() {
	s.once.Do(func() {
		s.cancel()
		s.mu.Lock()
		conns := s.connList()
		for _, p := range s.pending {
			if p.timer != nil {
				p.timer.Stop()
			}
		}
		s.notifyLocked()
		s.mu.Unlock()
		for _, c := range conns {
			s.closeConn(c, false)
		}
		s.hs.Close()
	})
}

// URL returns the base URL of the server, such as http://127.0.0.1:PORT.
func (s *Server) URL() string { return s.hs.URL }

// APIURL returns the Web API base URL for slack.OptionAPIURL; it ends in "/".
func (s *Server) APIURL() string { return s.hs.URL + "/api/" }

// BotToken returns the bot token the server accepts.
func (s *Server) BotToken() string { return s.opts.BotToken }

// AppToken returns the app-level token the server accepts.
func (s *Server) AppToken() string { return s.opts.AppToken }

// BotUserID returns the bot's user id.
func (s *Server) BotUserID() string { return s.opts.BotUserID }

// AddUser adds or replaces a workspace user.
func (s *Server) AddUser(u User) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.users[u.ID] = &u
	s.notifyLocked()
}

// AddChannel adds or replaces a channel, dropping its previous messages.
func (s *Server) AddChannel(c Channel) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.channels[c.ID] = newChannelState(c.ID, c.Name, c.Members, c.Private, c.Archived)
	s.notifyLocked()
}

// SetChannelMember adds the user to or removes the user from the channel.
func (s *Server) SetChannelMember(channelID, userID string, member bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch, ok := s.channels[channelID]; ok {
		if member {
			ch.members[userID] = true
		} else {
			delete(ch.members, userID)
		}
	}
	s.notifyLocked()
}

// notifyLocked wakes every waiter; s.mu must be held.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// WaitFor blocks until cond returns true, ctx ends or the server closes. The
// condition is re-evaluated whenever the server's state changes and at least
// every 5ms, so it may also depend on state outside the server. The condition
// may call other Server methods.
func (s *Server) WaitFor(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if cond() {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.done:
			if cond() {
				return nil
			}
			return ErrClosed
		case <-ch:
		case <-tick.C:
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

// now returns the configured clock's time.
func (s *Server) now() time.Time { return s.opts.Now() }

// bearer returns the token of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

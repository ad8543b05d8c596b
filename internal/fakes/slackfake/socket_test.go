package slackfake

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

func TestHello(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	c := startSocket(t, srv)
	hello := c.next(t, socketmode.EventTypeHello)
	if got, want := hello.Request.ConnectionInfo.AppID, testAppID; got != want {
		t.Fatalf("hello app_id: got %v, want %v", got, want)
	}
	if got, want := hello.Request.NumConnections, 1; got != want {
		t.Fatalf("hello num_connections: got %v, want %v", got, want)
	}
	if got, want := srv.ConnectionCount(), 1; got != want {
		t.Fatalf("ConnectionCount: got %v, want %v", got, want)
	}
}

func TestConnectionsOpenAuth(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	for _, tc := range []struct {
		name, appToken, want string
	}{
		{"missing", "", "not_authed"},
		{"wrong", "xapp-1-wrong", "invalid_auth"},
		{"bot token", testBotToken, "invalid_auth"},
	} {
		api := slack.New(testBotToken, slack.OptionAppLevelToken(tc.appToken), slack.OptionAPIURL(srv.APIURL()))
		_, _, err := api.StartSocketModeContext(testCtx(t))
		if got := slackErr(t, err).Err; got != tc.want {
			t.Fatalf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
	// The token must not be accepted as a form field.
	resp, err := http.PostForm(srv.APIURL()+"apps.connections.open", map[string][]string{"token": {testAppToken}})
	if err != nil {
		t.Fatalf("post: got %v, want nil", err)
	}
	var body struct{ Error string }
	_ = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if got, want := body.Error, "not_authed"; got != want {
		t.Fatalf("form token: got %v, want %v", got, want)
	}
	// A URL is single use; unknown query parameters are ignored.
	_, url, err := newAPI(srv).StartSocketModeContext(testCtx(t))
	if err != nil {
		t.Fatalf("open: got %v, want nil", err)
	}
	if got, want := strings.HasPrefix(url, "ws://127.0.0.1:"), true; got != want {
		t.Fatalf("url %q has ws://127.0.0.1 prefix: got %v, want %v", url, got, want)
	}
	conn, _, err := websocket.DefaultDialer.Dial(url+"&debug_reconnects=true", http.Header{"Origin": {"https://api.slack.com"}})
	if err != nil {
		t.Fatalf("first dial: got %v, want nil", err)
	}
	defer conn.Close()
	if _, _, err := websocket.DefaultDialer.Dial(url, nil); err == nil {
		t.Fatalf("second dial of the same URL: got nil error, want one")
	}
}

func TestSlashCommandAck(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	c := startSocket(t, srv)
	ctx := testCtx(t)
	envID, err := srv.SlashCommand(ctx, userPriya, chanAlerts, "/mfa", "status alert-42")
	if err != nil {
		t.Fatalf("SlashCommand: got %v, want nil", err)
	}
	e := c.next(t, socketmode.EventTypeSlashCommand)
	cmd := e.Data.(slack.SlashCommand)
	if got, want := cmd.Command+" "+cmd.Text+" "+cmd.UserID+" "+cmd.ChannelID, "/mfa status alert-42 "+userPriya+" "+chanAlerts; got != want {
		t.Fatalf("slash command: got %v, want %v", got, want)
	}
	if got, want := e.Request.EnvelopeID, envID; got != want {
		t.Fatalf("envelope id: got %v, want %v", got, want)
	}
	if got, want := e.Request.AcceptsResponsePayload, true; got != want {
		t.Fatalf("accepts_response_payload: got %v, want %v", got, want)
	}
	c.ack(t, e, map[string]any{"text": "alert-42 is open"})
	ack, err := srv.WaitAck(ctx, envID)
	if err != nil {
		t.Fatalf("WaitAck: got %v, want nil", err)
	}
	if got, want := string(ack.Payload), `{"text":"alert-42 is open"}`; got != want {
		t.Fatalf("ack payload: got %v, want %v", got, want)
	}
	eph := srv.Ephemerals()
	if got, want := len(eph), 1; got != want {
		t.Fatalf("ephemerals: got %v, want %v", got, want)
	}
	if got, want := eph[0].Text+"|"+eph[0].User+"|"+eph[0].Source, "alert-42 is open|"+userPriya+"|ack"; got != want {
		t.Fatalf("inline response: got %v, want %v", got, want)
	}
}

func TestSlashCommandTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(o *Options) { o.AckDeadline = 100 * time.Millisecond })
	c := startSocket(t, srv)
	ctx := testCtx(t)
	envID, err := srv.SlashCommand(ctx, userPriya, chanAlerts, "/mfa", "")
	if err != nil {
		t.Fatalf("SlashCommand: got %v, want nil", err)
	}
	c.next(t, socketmode.EventTypeSlashCommand)
	if err := srv.WaitFor(ctx, func() bool { return len(srv.Timeouts()) == 1 }); err != nil {
		t.Fatalf("wait for timeout: got %v, want nil", err)
	}
	if got, want := srv.Timeouts()[0], (Timeout{EnvelopeID: envID, Type: "slash_commands", Error: "operation_timeout"}); got != want {
		t.Fatalf("timeout: got %v, want %v", got, want)
	}
}

// eventID returns the event_id of an events_api event.
func eventID(t *testing.T, e socketmode.Event) string {
	t.Helper()
	ev := e.Data.(slackevents.EventsAPIEvent)
	return ev.Data.(*slackevents.EventsAPICallbackEvent).EventID
}

func TestEventsAPIRetry(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	c := startSocket(t, srv)
	ctx := testCtx(t)
	envID, err := srv.PostUserMessage(ctx, userPriya, chanAlerts, "", "is this phishing?")
	if err != nil {
		t.Fatalf("PostUserMessage: got %v, want nil", err)
	}
	first := c.next(t, socketmode.EventTypeEventsAPI)
	if got, want := first.Request.RetryAttempt, 0; got != want {
		t.Fatalf("first retry_attempt: got %v, want %v", got, want)
	}
	msg := first.Data.(slackevents.EventsAPIEvent).InnerEvent.Data.(*slackevents.MessageEvent)
	if got, want := msg.Text+"|"+msg.User+"|"+msg.Channel, "is this phishing?|"+userPriya+"|"+chanAlerts; got != want {
		t.Fatalf("message event: got %v, want %v", got, want)
	}
	// Not acknowledged: Slack re-sends it.
	second := c.next(t, socketmode.EventTypeEventsAPI)
	if got, want := second.Request.RetryAttempt, 1; got != want {
		t.Fatalf("second retry_attempt: got %v, want %v", got, want)
	}
	if got, want := second.Request.RetryReason, "timeout"; got != want {
		t.Fatalf("retry_reason: got %v, want %v", got, want)
	}
	if got, want := eventID(t, second), eventID(t, first); got != want {
		t.Fatalf("event_id of retry: got %v, want %v", got, want)
	}
	if got, want := second.Request.EnvelopeID != envID, true; got != want {
		t.Fatalf("retry has a new envelope id: got %v, want %v", got, want)
	}
	c.ack(t, second, nil)
	ack, err := srv.WaitAck(ctx, second.Request.EnvelopeID)
	if err != nil {
		t.Fatalf("WaitAck: got %v, want nil", err)
	}
	if got, want := ack.Type, "events_api"; got != want {
		t.Fatalf("ack type: got %v, want %v", got, want)
	}
}

func TestEventsAPIRetriesExhausted(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(o *Options) { o.AckDeadline = 50 * time.Millisecond })
	startSocket(t, srv)
	ctx := testCtx(t)
	if _, err := srv.PostUserMessage(ctx, userPriya, chanAlerts, "", "hello"); err != nil {
		t.Fatalf("PostUserMessage: got %v, want nil", err)
	}
	if err := srv.WaitFor(ctx, func() bool { return len(srv.Timeouts()) == 1 }); err != nil {
		t.Fatalf("wait for final timeout: got %v, want nil", err)
	}
	var attempts []int
	for _, e := range srv.Envelopes() {
		attempts = append(attempts, e.RetryAttempt)
	}
	if got, want := len(attempts), 4; got != want {
		t.Fatalf("envelopes sent: got %v (%v), want %v", got, attempts, want)
	}
	if got, want := attempts[3], 3; got != want {
		t.Fatalf("last retry_attempt: got %v, want %v", got, want)
	}
}

func TestReconnects(t *testing.T) {
	t.Parallel()
	for name, kill := range map[string]func(*Server){
		"refresh_requested": func(s *Server) { s.Disconnect("refresh_requested") },
		"warning":           func(s *Server) { s.Disconnect("warning") },
		"drop":              func(s *Server) { s.DropConnections() },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, nil)
			c := startSocket(t, srv)
			c.next(t, socketmode.EventTypeHello)
			kill(srv)
			ctx := testCtx(t)
			err := srv.WaitFor(ctx, func() bool { return srv.TotalConnections() >= 2 && srv.ConnectionCount() == 1 })
			if err != nil {
				t.Fatalf("wait for reconnect: got %v, want nil", err)
			}
			if _, err := srv.PostUserMessage(ctx, userMarco, chanAlerts, "", "after reconnect"); err != nil {
				t.Fatalf("PostUserMessage: got %v, want nil", err)
			}
			e := c.next(t, socketmode.EventTypeEventsAPI)
			msg := e.Data.(slackevents.EventsAPIEvent).InnerEvent.Data.(*slackevents.MessageEvent)
			if got, want := msg.Text, "after reconnect"; got != want {
				t.Fatalf("event after reconnect: got %v, want %v", got, want)
			}
		})
	}
}

func TestStopPingsReconnect(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	c := startSocket(t, srv, socketmode.OptionPingInterval(time.Second))
	ctx := testCtx(t)
	srv.StopPings(true)
	if err := srv.WaitFor(ctx, func() bool { return srv.TotalConnections() >= 2 }); err != nil {
		t.Fatalf("wait for reconnect after ping timeout: got %v, want nil", err)
	}
	srv.StopPings(false)
	if err := srv.WaitConnected(ctx); err != nil {
		t.Fatalf("WaitConnected: got %v, want nil", err)
	}
	if _, err := srv.PostUserMessage(ctx, userMarco, chanAlerts, "", "still there?"); err != nil {
		t.Fatalf("PostUserMessage: got %v, want nil", err)
	}
	e := c.next(t, socketmode.EventTypeEventsAPI)
	c.ack(t, e, nil)
}

// dialRaw opens a Socket Mode connection with gorilla directly and reads hello.
func dialRaw(t *testing.T, srv *Server) *websocket.Conn {
	t.Helper()
	_, url, err := newAPI(srv).StartSocketModeContext(testCtx(t))
	if err != nil {
		t.Fatalf("open: got %v, want nil", err)
	}
	conn, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatalf("dial: got %v, want nil", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// readFrame reads one JSON frame.
func readFrame(t *testing.T, conn *websocket.Conn) map[string]any {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	var f map[string]any
	if err := conn.ReadJSON(&f); err != nil {
		t.Fatalf("read frame: got %v, want nil", err)
	}
	return f
}

func TestTooManyWebsockets(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	for i := range 10 {
		if got, want := readFrame(t, dialRaw(t, srv))["type"], "hello"; got != want {
			t.Fatalf("connection %d first frame: got %v, want %v", i+1, got, want)
		}
	}
	f := readFrame(t, dialRaw(t, srv))
	if got, want := f["type"].(string)+"/"+f["reason"].(string), "disconnect/too_many_websockets"; got != want {
		t.Fatalf("11th connection: got %v, want %v", got, want)
	}
	if got, want := srv.ConnectionCount(), 10; got != want {
		t.Fatalf("ConnectionCount: got %v, want %v", got, want)
	}
}

func TestLargeResponseDropped(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(o *Options) { o.AckDeadline = time.Minute })
	conn := dialRaw(t, srv)
	readFrame(t, conn) // hello
	ctx := testCtx(t)
	envID, err := srv.SlashCommand(ctx, userPriya, chanAlerts, "/mfa", "list")
	if err != nil {
		t.Fatalf("SlashCommand: got %v, want nil", err)
	}
	if got, want := readFrame(t, conn)["envelope_id"], envID; got != want {
		t.Fatalf("envelope: got %v, want %v", got, want)
	}
	big := map[string]any{"envelope_id": envID, "payload": map[string]any{"text": strings.Repeat("x", 20*1024)}}
	if err := conn.WriteJSON(big); err != nil {
		t.Fatalf("write: got %v, want nil", err)
	}
	if err := srv.WaitFor(ctx, func() bool { return len(srv.Dropped()) == 1 }); err != nil {
		t.Fatalf("wait for drop: got %v, want nil", err)
	}
	if got, want := srv.Dropped()[0].EnvelopeID, envID; got != want {
		t.Fatalf("dropped envelope: got %v, want %v", got, want)
	}
	if err := conn.WriteJSON(map[string]any{"envelope_id": envID}); err != nil {
		t.Fatalf("write: got %v, want nil", err)
	}
	ack, err := srv.WaitAck(ctx, envID)
	if err != nil {
		t.Fatalf("WaitAck: got %v, want nil", err)
	}
	if got, want := len(ack.Payload), 0; got != want {
		t.Fatalf("ack payload length: got %v, want %v", got, want)
	}
}

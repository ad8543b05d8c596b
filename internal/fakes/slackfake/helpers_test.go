package slackfake

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

// Fixtures for the tests; all ids and tokens are made up.
const (
	testBotToken = "xoxb-111-222-testbottoken"
	testAppToken = "xapp-1-A0TEST0001-333-testapptoken"
	testAppID    = "A0TEST0001"
	testBotUser  = "U0BOT00001"
	testTeam     = "T0TEST0001"

	userPriya    = "U0TEST0001"
	userMarco    = "U0TEST0002"
	userOutsider = "U0TEST0003"

	chanAlerts  = "C0ALERTS01" // bot, priya, marco
	chanRandom  = "C0RANDOM01" // priya only; bot not a member
	chanPrivate = "G0PRIVATE1" // marco only, private
)

// testOptions returns the fixture workspace with fast timings.
func testOptions() Options {
	return Options{
		BotToken: testBotToken, AppToken: testAppToken, AppID: testAppID, BotUserID: testBotUser, TeamID: testTeam,
		Users: []User{
			{ID: userPriya, Name: "priya", Email: "priya.raman@example.com", RealName: "Priya Raman"},
			{ID: userMarco, Name: "marco", Email: "marco.rossi@example.com"},
			{ID: userOutsider, Name: "olga", Email: "olga@example.com"},
		},
		Channels: []Channel{
			{ID: chanAlerts, Name: "sec-alerts", Members: []string{testBotUser, userPriya, userMarco}},
			{ID: chanRandom, Name: "random", Members: []string{userPriya}},
			{ID: chanPrivate, Name: "secret", Members: []string{userMarco}, Private: true},
		},
		PingInterval: 200 * time.Millisecond,
		AckDeadline:  300 * time.Millisecond,
	}
}

// newServer starts a fake with the fixture workspace, adjusted by mod.
func newServer(t *testing.T, mod func(*Options)) *Server {
	t.Helper()
	opts := testOptions()
	if mod != nil {
		mod(&opts)
	}
	srv := New(opts)
	t.Cleanup(srv.Close)
	return srv
}

// newAPI returns a real slack-go Web API client pointed at the fake.
func newAPI(srv *Server, opts ...slack.Option) *slack.Client {
	all := append([]slack.Option{slack.OptionAppLevelToken(testAppToken), slack.OptionAPIURL(srv.APIURL())}, opts...)
	return slack.New(testBotToken, all...)
}

// testCtx returns a context that ends with the test or after 15s.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// sockClient is a running socketmode client whose events are buffered.
type sockClient struct {
	sm     *socketmode.Client
	events chan socketmode.Event
}

// startSocket runs a real socketmode client against the fake until the test ends.
func startSocket(t *testing.T, srv *Server, opts ...socketmode.Option) *sockClient {
	t.Helper()
	sm := socketmode.New(newAPI(srv), opts...)
	c := &sockClient{sm: sm, events: make(chan socketmode.Event, 1024)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e := <-sm.Events:
				select {
				case c.events <- e:
				default: // never block the client
				}
			}
		}
	})
	runErr := make(chan error, 1)
	go func() { runErr <- sm.RunContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		select {
		case err := <-runErr:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("RunContext: got %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("RunContext did not return after cancel")
		}
	})
	if err := srv.WaitConnected(testCtx(t)); err != nil {
		t.Fatalf("WaitConnected: got %v, want nil", err)
	}
	return c
}

// next returns the next event of the given type, skipping others.
func (c *sockClient) next(t *testing.T, typ socketmode.EventType) socketmode.Event {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case e := <-c.events:
			if e.Type == typ {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within 10s", typ)
		}
	}
}

// ack acknowledges the event's envelope with the payload.
func (c *sockClient) ack(t *testing.T, e socketmode.Event, payload any) {
	t.Helper()
	if err := c.sm.Ack(*e.Request, payload); err != nil {
		t.Fatalf("Ack: got %v, want nil", err)
	}
}

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 4, 8, 15, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// slackErr extracts a slack.SlackErrorResponse from err.
func slackErr(t *testing.T, err error) slack.SlackErrorResponse {
	t.Helper()
	var se slack.SlackErrorResponse
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T): got no SlackErrorResponse, want one", err, err)
	}
	return se
}

package slackfake

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"
)

var tsPattern = regexp.MustCompile(`^\d{10}\.\d{6}$`)

// sectionBlock returns a section with mrkdwn text.
func sectionBlock(text string) slack.Block {
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

func TestPostMessage(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	ch, ts, err := api.PostMessageContext(ctx, chanAlerts, slack.MsgOptionText("MFA failure: priya", false),
		slack.MsgOptionBlocks(sectionBlock("*MFA failure* for priya")))
	if err != nil {
		t.Fatalf("PostMessage: got %v, want nil", err)
	}
	if got, want := ch, chanAlerts; got != want {
		t.Fatalf("channel: got %v, want %v", got, want)
	}
	if got, want := tsPattern.MatchString(ts), true; got != want {
		t.Fatalf("ts %q matches seconds.microseconds: got %v, want %v", ts, got, want)
	}
	m, ok := srv.Message(chanAlerts, ts)
	if got, want := ok && m.Text == "MFA failure: priya" && strings.Contains(string(m.Blocks), "*MFA failure* for priya"), true; got != want {
		t.Fatalf("stored message %+v: got %v, want %v", m, got, want)
	}
	// A thread reply gets a later ts and counts on the parent.
	_, replyTS, err := api.PostMessageContext(ctx, chanAlerts, slack.MsgOptionText("details", false), slack.MsgOptionTS(ts))
	if err != nil {
		t.Fatalf("reply: got %v, want nil", err)
	}
	if got, want := replyTS > ts, true; got != want {
		t.Fatalf("reply ts %s after %s: got %v, want %v", replyTS, ts, got, want)
	}
	thread := srv.Thread(chanAlerts, ts)
	if got, want := len(thread), 2; got != want {
		t.Fatalf("thread length: got %v, want %v", got, want)
	}
	if got, want := thread[0].ReplyCount, 1; got != want {
		t.Fatalf("reply_count: got %v, want %v", got, want)
	}
	// Posting to a user id lands in the user's DM.
	dm, _, err := api.PostMessageContext(ctx, userPriya, slack.MsgOptionText("hi", false))
	if err != nil {
		t.Fatalf("post to user: got %v, want nil", err)
	}
	if got, want := dm, "D0TEST0001"; got != want {
		t.Fatalf("DM channel: got %v, want %v", got, want)
	}
	if got, want := len(srv.DMs(userPriya)), 1; got != want {
		t.Fatalf("DMs: got %v, want %v", got, want)
	}
}

func TestPostMessageErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	many := make([]slack.Block, 51)
	for i := range many {
		many[i] = slack.NewDividerBlock()
	}
	for _, tc := range []struct {
		name, channel string
		opts          []slack.MsgOption
		want, msg     string
	}{
		{"unknown channel", "C0NOPE0001", []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found", ""},
		{"bot not member", chanRandom, []slack.MsgOption{slack.MsgOptionText("x", false)}, "not_in_channel", ""},
		{"private not member", chanPrivate, []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found", ""},
		{"no text", chanAlerts, nil, "no_text", ""},
		{"section too long", chanAlerts, []slack.MsgOption{slack.MsgOptionBlocks(sectionBlock(strings.Repeat("a", 3001)))},
			"invalid_blocks", "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"51 blocks", chanAlerts, []slack.MsgOption{slack.MsgOptionBlocks(many...)},
			"invalid_blocks", "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"},
		{"text too long", chanAlerts, []slack.MsgOption{slack.MsgOptionText(strings.Repeat("a", 40001), false)}, "msg_too_long", ""},
	} {
		_, _, err := api.PostMessageContext(ctx, tc.channel, tc.opts...)
		se := slackErr(t, err)
		if got, want := se.Err, tc.want; got != want {
			t.Fatalf("%s: got %v, want %v", tc.name, got, want)
		}
		if tc.msg != "" {
			if got, want := strings.Join(se.ResponseMetadata.Messages, "\n"), tc.msg; got != want {
				t.Fatalf("%s messages: got %v, want %v", tc.name, got, want)
			}
		}
	}
	if got, want := len(srv.Messages(chanAlerts)), 0; got != want {
		t.Fatalf("stored messages after errors: got %v, want %v", got, want)
	}
	// Raw form posts: invalid JSON in blocks, missing and wrong tokens, unknown method.
	for _, tc := range []struct {
		name, method string
		form         url.Values
		want         string
	}{
		{"bad blocks JSON", "chat.postMessage", url.Values{"token": {testBotToken}, "channel": {chanAlerts}, "blocks": {"[{nope"}}, "invalid_blocks_format"},
		{"no token", "chat.postMessage", url.Values{"channel": {chanAlerts}, "text": {"x"}}, "not_authed"},
		{"wrong token", "chat.postMessage", url.Values{"token": {"xoxb-wrong"}, "channel": {chanAlerts}, "text": {"x"}}, "invalid_auth"},
		{"app token", "auth.test", url.Values{"token": {testAppToken}}, "not_allowed_token_type"},
		{"unknown method", "chat.scheduleMessage", url.Values{"token": {testBotToken}}, "unknown_method"},
	} {
		if got, want := postForm(t, srv, tc.method, tc.form), tc.want; got != want {
			t.Fatalf("%s: got %v, want %v", tc.name, got, want)
		}
	}
}

// postForm posts a raw form and returns the "error" field of the answer.
func postForm(t *testing.T, srv *Server, method string, form url.Values) string {
	t.Helper()
	resp, err := http.PostForm(srv.APIURL()+method, form)
	if err != nil {
		t.Fatalf("post %s: got %v, want nil", method, err)
	}
	defer resp.Body.Close()
	var body struct{ Error string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode %s: got %v, want nil", method, err)
	}
	return body.Error
}

func TestChannelRateLimit(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newServer(t, func(o *Options) { o.Now = clock.Now; o.ChannelBurst = 2 })
	api := newAPI(srv)
	ctx := testCtx(t)
	post := func() error {
		_, _, err := api.PostMessageContext(ctx, chanAlerts, slack.MsgOptionText("alert", false))
		return err
	}
	for i := range 2 {
		if err := post(); err != nil {
			t.Fatalf("post %d: got %v, want nil", i, err)
		}
	}
	err := post()
	var rl *slack.RateLimitedError
	if got, want := errors.As(err, &rl), true; got != want {
		t.Fatalf("third post error %v is RateLimitedError: got %v, want %v", err, got, want)
	}
	if got, want := rl.RetryAfter, time.Second; got != want {
		t.Fatalf("RetryAfter: got %v, want %v", got, want)
	}
	// Another channel has its own budget; the limited one refills with time.
	if _, _, err := api.PostMessageContext(ctx, userMarco, slack.MsgOptionText("dm", false)); err != nil {
		t.Fatalf("post elsewhere: got %v, want nil", err)
	}
	clock.Advance(time.Second)
	if err := post(); err != nil {
		t.Fatalf("post after refill: got %v, want nil", err)
	}
}

func TestFaultInjection(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	srv.RateLimit("users.info", 1, 7)
	_, err := api.GetUserInfoContext(ctx, userPriya)
	var rl *slack.RateLimitedError
	if got, want := errors.As(err, &rl) && rl.RetryAfter == 7*time.Second, true; got != want {
		t.Fatalf("injected 429 (%v): got %v, want %v", err, got, want)
	}
	srv.FailNext("auth.test", 1, http.StatusInternalServerError, "")
	srv.FailNext("auth.test", 1, http.StatusOK, "fatal_error")
	_, err = api.AuthTestContext(ctx)
	var sc slack.StatusCodeError
	if got, want := errors.As(err, &sc) && sc.Code == 500, true; got != want {
		t.Fatalf("injected 500 (%v): got %v, want %v", err, got, want)
	}
	_, err = api.AuthTestContext(ctx)
	if got, want := slackErr(t, err).Err, "fatal_error"; got != want {
		t.Fatalf("injected ok:false: got %v, want %v", got, want)
	}
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatalf("after faults: got %v, want nil", err)
	}
	srv.SetLatency("auth.test", 50*time.Millisecond)
	start := time.Now()
	if _, err := api.AuthTestContext(ctx); err != nil {
		t.Fatalf("with latency: got %v, want nil", err)
	}
	if got, want := time.Since(start) >= 50*time.Millisecond, true; got != want {
		t.Fatalf("latency applied: got %v, want %v", got, want)
	}
	calls := srv.CallsTo("auth.test")
	if got, want := len(calls), 4; got != want {
		t.Fatalf("recorded auth.test calls: got %v, want %v", got, want)
	}
	if got, want := calls[1].Error, "fatal_error"; got != want {
		t.Fatalf("recorded error: got %v, want %v", got, want)
	}
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	_, ts, err := api.PostMessageContext(ctx, chanAlerts, slack.MsgOptionText("pending", false), slack.MsgOptionBlocks(sectionBlock("pending")))
	if err != nil {
		t.Fatalf("PostMessage: got %v, want nil", err)
	}
	_, _, _, err = api.UpdateMessageContext(ctx, chanAlerts, ts, slack.MsgOptionText("approved", false), slack.MsgOptionBlocks(sectionBlock("approved by marco")))
	if err != nil {
		t.Fatalf("UpdateMessage: got %v, want nil", err)
	}
	m, _ := srv.Message(chanAlerts, ts)
	if got, want := m.Text+"|"+string(m.Blocks), `approved|[{"type":"section","text":{"type":"mrkdwn","text":"approved by marco"}}]`; got != want {
		t.Fatalf("updated message: got %v, want %v", got, want)
	}
	if got, want := m.EditCount, 1; got != want {
		t.Fatalf("EditCount: got %v, want %v", got, want)
	}
	// A DM is updated through its D id, never the user id.
	dm, dmTS, err := api.PostMessageContext(ctx, userPriya, slack.MsgOptionText("code sent", false))
	if err != nil {
		t.Fatalf("post DM: got %v, want nil", err)
	}
	if _, _, _, err := api.UpdateMessageContext(ctx, dm, dmTS, slack.MsgOptionText("code used", false)); err != nil {
		t.Fatalf("update DM: got %v, want nil", err)
	}
	startSocket(t, srv) // PostUserMessage delivers an event, so a client must be connected
	if _, err := srv.PostUserMessage(ctx, userPriya, chanAlerts, "", "mine"); err != nil {
		t.Fatalf("PostUserMessage: got %v, want nil", err)
	}
	userTS := srv.Messages(chanAlerts)[1].TS
	for _, tc := range []struct {
		name, channel, ts string
		opts              []slack.MsgOption
		want              string
	}{
		{"unknown ts", chanAlerts, "1000000000.000001", []slack.MsgOption{slack.MsgOptionText("x", false)}, "message_not_found"},
		{"user id for DM", userPriya, dmTS, []slack.MsgOption{slack.MsgOptionText("x", false)}, "channel_not_found"},
		{"someone else's message", chanAlerts, userTS, []slack.MsgOption{slack.MsgOptionText("x", false)}, "cant_update_message"},
		{"text over 4000", chanAlerts, ts, []slack.MsgOption{slack.MsgOptionText(strings.Repeat("a", 4001), false)}, "msg_too_long"},
		{"invalid blocks", chanAlerts, ts, []slack.MsgOption{slack.MsgOptionBlocks(slack.NewHeaderBlock(
			slack.NewTextBlockObject(slack.PlainTextType, strings.Repeat("h", 151), false, false)))}, "invalid_blocks"},
		{"nothing", chanAlerts, ts, nil, "no_text"},
	} {
		_, _, _, err := api.UpdateMessageContext(ctx, tc.channel, tc.ts, tc.opts...)
		if got, want := slackErr(t, err).Err, tc.want; got != want {
			t.Fatalf("%s: got %v, want %v", tc.name, got, want)
		}
	}
}

func TestPostEphemeral(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	ts, err := api.PostEphemeralContext(ctx, chanAlerts, userPriya, slack.MsgOptionText("only you can see this", false))
	if err != nil {
		t.Fatalf("PostEphemeral: got %v, want nil", err)
	}
	eph := srv.Ephemerals()
	if got, want := len(eph) == 1 && eph[0].TS == ts && eph[0].User == userPriya, true; got != want {
		t.Fatalf("ephemeral %+v with ts %s: got %v, want %v", eph, ts, got, want)
	}
	_, err = api.PostEphemeralContext(ctx, chanAlerts, userOutsider, slack.MsgOptionText("x", false))
	if got, want := slackErr(t, err).Err, "user_not_in_channel"; got != want {
		t.Fatalf("outsider: got %v, want %v", got, want)
	}
	_, err = api.PostEphemeralContext(ctx, "C0NOPE0001", userPriya, slack.MsgOptionText("x", false))
	if got, want := slackErr(t, err).Err, "channel_not_found"; got != want {
		t.Fatalf("unknown channel: got %v, want %v", got, want)
	}
	// Ephemeral messages cannot be edited with chat.update.
	_, _, _, err = api.UpdateMessageContext(ctx, chanAlerts, ts, slack.MsgOptionText("x", false))
	if got, want := slackErr(t, err).Err, "message_not_found"; got != want {
		t.Fatalf("update ephemeral: got %v, want %v", got, want)
	}
}

func TestAllRecordedText(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	if _, _, err := api.PostMessageContext(testCtx(t), chanAlerts, slack.MsgOptionText("key AKIAFAKEFAKEFAKE0000 leaked", false)); err != nil {
		t.Fatalf("PostMessage: got %v, want nil", err)
	}
	text := srv.AllRecordedText()
	if got, want := strings.Contains(text, "AKIAFAKEFAKEFAKE0000"), true; got != want {
		t.Fatalf("recorded text has the posted key: got %v, want %v", got, want)
	}
	if got, want := strings.Contains(text, testBotToken), false; got != want {
		t.Fatalf("recorded text has the bot token: got %v, want %v", got, want)
	}
	if got, want := srv.Calls()[0].Params["token"], testBotToken; got != want {
		t.Fatalf("raw params keep the token: got %v, want %v", got, want)
	}
}

package slackfake

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"
)

var triggerPattern = regexp.MustCompile(`^\d+\.\d+\.[0-9a-f]+$`)

// postAlert posts an alert with Approve/Deny buttons and returns its ts.
func postAlert(t *testing.T, api *slack.Client) string {
	t.Helper()
	approve := slack.NewButtonBlockElement("approve_reset", "alert-42", slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)).WithStyle(slack.StylePrimary)
	deny := slack.NewButtonBlockElement("deny_reset", "alert-42", slack.NewTextBlockObject(slack.PlainTextType, "Deny", false, false))
	_, ts, err := api.PostMessageContext(testCtx(t), chanAlerts, slack.MsgOptionText("MFA failure: priya", false),
		slack.MsgOptionBlocks(sectionBlock("*MFA failure* for priya"), slack.NewActionBlock("b_actions", approve, deny)))
	if err != nil {
		t.Fatalf("PostMessage: got %v, want nil", err)
	}
	return ts
}

// click clicks approve_reset and returns the decoded callback.
func click(t *testing.T, srv *Server, c *sockClient, ts string) (socketmode.Event, slack.InteractionCallback) {
	t.Helper()
	if _, err := srv.ClickButton(testCtx(t), userMarco, chanAlerts, ts, "approve_reset", ""); err != nil {
		t.Fatalf("ClickButton: got %v, want nil", err)
	}
	e := c.next(t, socketmode.EventTypeInteractive)
	return e, e.Data.(slack.InteractionCallback)
}

func TestClickButton(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	c := startSocket(t, srv)
	ts := postAlert(t, api)
	e, cb := click(t, srv, c, ts)
	c.ack(t, e, nil)
	if got, want := cb.Type, slack.InteractionTypeBlockActions; got != want {
		t.Fatalf("type: got %v, want %v", got, want)
	}
	if got, want := cb.Container.MessageTs+"|"+cb.Container.ChannelID+"|"+cb.Message.Timestamp, ts+"|"+chanAlerts+"|"+ts; got != want {
		t.Fatalf("container/message: got %v, want %v", got, want)
	}
	if got, want := cb.Channel.ID+"|"+cb.User.ID+"|"+cb.Team.ID+"|"+cb.APIAppID, chanAlerts+"|"+userMarco+"|"+testTeam+"|"+testAppID; got != want {
		t.Fatalf("channel/user/team/app: got %v, want %v", got, want)
	}
	if got, want := len(cb.ActionCallback.BlockActions), 1; got != want {
		t.Fatalf("actions: got %v, want %v", got, want)
	}
	a := cb.ActionCallback.BlockActions[0]
	if got, want := a.ActionID+"|"+a.BlockID+"|"+a.Value+"|"+a.Text.Text, "approve_reset|b_actions|alert-42|Approve"; got != want {
		t.Fatalf("action: got %v, want %v", got, want)
	}
	if got, want := triggerPattern.MatchString(cb.TriggerID), true; got != want {
		t.Fatalf("trigger_id %q format: got %v, want %v", cb.TriggerID, got, want)
	}
	if got, want := len(cb.Message.Blocks.BlockSet), 2; got != want {
		t.Fatalf("message blocks: got %v, want %v", got, want)
	}
	// The response_url replaces the original message.
	ctx := testCtx(t)
	if _, _, err := api.PostMessageContext(ctx, cb.Channel.ID, slack.MsgOptionReplaceOriginal(cb.ResponseURL), slack.MsgOptionText("Approved by marco", false)); err != nil {
		t.Fatalf("replace_original: got %v, want nil", err)
	}
	m, _ := srv.Message(chanAlerts, ts)
	if got, want := m.Text+"|"+string(m.Blocks), "Approved by marco|"; got != want {
		t.Fatalf("replaced message: got %v, want %v", got, want)
	}
	// Four more uses are allowed, the sixth is refused.
	for i := range 4 {
		if _, _, err := api.PostMessageContext(ctx, cb.Channel.ID, slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("note", false)); err != nil {
			t.Fatalf("response_url use %d: got %v, want nil", i+2, err)
		}
	}
	_, _, err := api.PostMessageContext(ctx, cb.Channel.ID, slack.MsgOptionResponseURL(cb.ResponseURL, slack.ResponseTypeEphemeral), slack.MsgOptionText("note", false))
	var sc slack.StatusCodeError
	if got, want := errors.As(err, &sc) && sc.Code == 404, true; got != want {
		t.Fatalf("sixth response_url use (%v): got %v, want %v", err, got, want)
	}
	if got, want := len(srv.ResponsePosts()), 6; got != want {
		t.Fatalf("recorded response posts: got %v, want %v", got, want)
	}
}

// modal returns a modal with one text input.
func modal() slack.ModalViewRequest {
	input := slack.NewInputBlock("reason", slack.NewTextBlockObject(slack.PlainTextType, "Reason", false, false), nil,
		slack.NewPlainTextInputBlockElement(nil, "reason_input"))
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: "reset_confirm", PrivateMetadata: "alert-42",
		Title:  slack.NewTextBlockObject(slack.PlainTextType, "Confirm reset", false, false),
		Submit: slack.NewTextBlockObject(slack.PlainTextType, "Reset", false, false),
		Blocks: slack.Blocks{BlockSet: []slack.Block{input}},
	}
}

func TestViewsOpenAndSubmit(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	c := startSocket(t, srv)
	ctx := testCtx(t)
	e, cb := click(t, srv, c, postAlert(t, api))
	c.ack(t, e, nil)
	_, err := api.OpenViewContext(ctx, "1234.5678.abcdef", modal())
	if got, want := slackErr(t, err).Err, "invalid_trigger_id"; got != want {
		t.Fatalf("unknown trigger: got %v, want %v", got, want)
	}
	view, err := api.OpenViewContext(ctx, cb.TriggerID, modal())
	if err != nil {
		t.Fatalf("OpenView: got %v, want nil", err)
	}
	if got, want := view.CallbackID+"|"+view.PrivateMetadata+"|"+view.ID[:1], "reset_confirm|alert-42|V"; got != want {
		t.Fatalf("opened view: got %v, want %v", got, want)
	}
	_, err = api.OpenViewContext(ctx, cb.TriggerID, modal())
	if got, want := slackErr(t, err).Err, "exchanged_trigger_id"; got != want {
		t.Fatalf("reused trigger: got %v, want %v", got, want)
	}
	// First submission: the bot answers with field errors, the modal stays open.
	envID, err := srv.SubmitView(ctx, userMarco, view.ID, map[string]map[string]string{"reason": {"reason_input": "lost phone"}})
	if err != nil {
		t.Fatalf("SubmitView: got %v, want nil", err)
	}
	e = c.next(t, socketmode.EventTypeInteractive)
	sub := e.Data.(slack.InteractionCallback)
	if got, want := string(sub.Type)+"|"+sub.View.CallbackID+"|"+sub.View.PrivateMetadata+"|"+sub.View.ID, "view_submission|reset_confirm|alert-42|"+view.ID; got != want {
		t.Fatalf("submission: got %v, want %v", got, want)
	}
	if got, want := sub.View.State.Values["reason"]["reason_input"].Value, "lost phone"; got != want {
		t.Fatalf("submitted value: got %v, want %v", got, want)
	}
	if got, want := e.Request.AcceptsResponsePayload, true; got != want {
		t.Fatalf("accepts_response_payload: got %v, want %v", got, want)
	}
	c.ack(t, e, slack.NewErrorsViewSubmissionResponse(map[string]string{"reason": "Say more"}))
	if _, err := srv.WaitAck(ctx, envID); err != nil {
		t.Fatalf("WaitAck: got %v, want nil", err)
	}
	v, _ := srv.View(view.ID)
	if got, want := v.Errors["reason"]+"|"+map[bool]string{true: "closed", false: "open"}[v.Closed], "Say more|open"; got != want {
		t.Fatalf("view after errors ack: got %v, want %v", got, want)
	}
	// Second submission, acked empty: the modal closes.
	envID, err = srv.SubmitView(ctx, userMarco, view.ID, map[string]map[string]string{"reason": {"reason_input": "lost phone in a lake"}})
	if err != nil {
		t.Fatalf("second SubmitView: got %v, want nil", err)
	}
	c.ack(t, c.next(t, socketmode.EventTypeInteractive), nil)
	if _, err := srv.WaitAck(ctx, envID); err != nil {
		t.Fatalf("WaitAck: got %v, want nil", err)
	}
	v, _ = srv.View(view.ID)
	if got, want := v.Closed, true; got != want {
		t.Fatalf("view closed after empty ack: got %v, want %v", got, want)
	}
}

func TestTriggerExpires(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	srv := newServer(t, func(o *Options) { o.Now = clock.Now })
	api := newAPI(srv)
	c := startSocket(t, srv)
	e, cb := click(t, srv, c, postAlert(t, api))
	c.ack(t, e, nil)
	clock.Advance(3 * time.Second)
	_, err := api.OpenViewContext(testCtx(t), cb.TriggerID, modal())
	if got, want := slackErr(t, err).Err, "expired_trigger_id"; got != want {
		t.Fatalf("old trigger: got %v, want %v", got, want)
	}
}

func TestEphemeralClickAndResponseURL(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	c := startSocket(t, srv)
	ctx := testCtx(t)
	btn := slack.NewButtonBlockElement("confirm", "alert-7", slack.NewTextBlockObject(slack.PlainTextType, "Confirm", false, false))
	ts, err := api.PostEphemeralContext(ctx, chanAlerts, userPriya, slack.MsgOptionText("Confirm?", false),
		slack.MsgOptionBlocks(slack.NewActionBlock("b_confirm", btn)))
	if err != nil {
		t.Fatalf("PostEphemeral: got %v, want nil", err)
	}
	if _, err := srv.ClickButton(ctx, userPriya, chanAlerts, ts, "confirm", ""); err != nil {
		t.Fatalf("ClickButton: got %v, want nil", err)
	}
	e := c.next(t, socketmode.EventTypeInteractive)
	c.ack(t, e, nil)
	cb := e.Data.(slack.InteractionCallback)
	if got, want := cb.Container.IsEphemeral && cb.Container.MessageTs == ts && cb.ActionCallback.BlockActions[0].Value == "alert-7", true; got != want {
		t.Fatalf("ephemeral click %+v: got %v, want %v", cb.Container, got, want)
	}
	if _, _, err := api.PostMessageContext(ctx, chanAlerts, slack.MsgOptionDeleteOriginal(cb.ResponseURL)); err != nil {
		t.Fatalf("delete_original: got %v, want nil", err)
	}
	if got, want := srv.Ephemerals()[0].Deleted, true; got != want {
		t.Fatalf("ephemeral deleted: got %v, want %v", got, want)
	}
	// A slash command's response_url can post in the channel.
	if _, err := srv.SlashCommand(ctx, userPriya, chanAlerts, "/mfa", "list"); err != nil {
		t.Fatalf("SlashCommand: got %v, want nil", err)
	}
	e = c.next(t, socketmode.EventTypeSlashCommand)
	c.ack(t, e, nil)
	cmd := e.Data.(slack.SlashCommand)
	if _, _, err := api.PostMessageContext(ctx, chanAlerts, slack.MsgOptionResponseURL(cmd.ResponseURL, slack.ResponseTypeInChannel), slack.MsgOptionText("2 open alerts", false)); err != nil {
		t.Fatalf("in_channel response: got %v, want nil", err)
	}
	msgs := srv.Messages(chanAlerts)
	if got, want := len(msgs) == 1 && msgs[0].Text == "2 open alerts" && msgs[0].BotID != "", true; got != want {
		t.Fatalf("in_channel message %+v: got %v, want %v", msgs, got, want)
	}
}

func TestViewsUpdate(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	c := startSocket(t, srv)
	ctx := testCtx(t)
	e, cb := click(t, srv, c, postAlert(t, api))
	c.ack(t, e, nil)
	view, err := api.OpenViewContext(ctx, cb.TriggerID, modal())
	if err != nil {
		t.Fatalf("OpenView: got %v, want nil", err)
	}
	_, err = api.UpdateViewContext(ctx, modal(), "", "stale-hash", view.ID)
	if got, want := slackErr(t, err).Err, "hash_conflict"; got != want {
		t.Fatalf("stale hash: got %v, want %v", got, want)
	}
	next := modal()
	next.PrivateMetadata = "alert-43"
	updated, err := api.UpdateViewContext(ctx, next, "", view.Hash, view.ID)
	if err != nil {
		t.Fatalf("UpdateView: got %v, want nil", err)
	}
	if got, want := updated.PrivateMetadata+"|"+updated.ID, "alert-43|"+view.ID; got != want {
		t.Fatalf("updated view: got %v, want %v", got, want)
	}
}

package slackfake

import (
	"testing"

	"github.com/slack-go/slack"
)

func TestAuthTest(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	res, err := newAPI(srv).AuthTestContext(testCtx(t))
	if err != nil {
		t.Fatalf("AuthTest: got %v, want nil", err)
	}
	if got, want := res.UserID+"|"+res.TeamID+"|"+res.BotID, testBotUser+"|"+testTeam+"|"+DefaultBotID; got != want {
		t.Fatalf("auth.test: got %v, want %v", got, want)
	}
	wrong := slack.New("xoxb-wrong", slack.OptionAPIURL(srv.APIURL()))
	_, err = wrong.AuthTestContext(testCtx(t))
	if got, want := slackErr(t, err).Err, "invalid_auth"; got != want {
		t.Fatalf("wrong token: got %v, want %v", got, want)
	}
}

func TestConversationsOpen(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	ch, noOp, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userMarco}})
	if err != nil {
		t.Fatalf("OpenConversation: got %v, want nil", err)
	}
	if got, want := ch.ID, "D0TEST0002"; got != want {
		t.Fatalf("DM id: got %v, want %v", got, want)
	}
	if got, want := noOp || already, false; got != want {
		t.Fatalf("first open no_op/already_open: got %v, want %v", got, want)
	}
	again, noOp, already, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: []string{userMarco}})
	if err != nil {
		t.Fatalf("second OpenConversation: got %v, want nil", err)
	}
	if got, want := again.ID == ch.ID && noOp && already, true; got != want {
		t.Fatalf("second open same id, no_op, already_open: got %v, want %v", got, want)
	}
	if _, _, err := api.PostMessageContext(ctx, ch.ID, slack.MsgOptionText("Your MFA reset is ready", false)); err != nil {
		t.Fatalf("post to DM: got %v, want nil", err)
	}
	dms := srv.DMs(userMarco)
	if got, want := len(dms) == 1 && dms[0].Text == "Your MFA reset is ready", true; got != want {
		t.Fatalf("DMs %+v: got %v, want %v", dms, got, want)
	}
	for _, tc := range []struct {
		name  string
		users []string
		want  string
	}{
		{"unknown user", []string{"U0NOPE0001"}, "user_not_found"},
		{"no users", nil, "users_list_not_supplied"},
	} {
		_, _, _, err := api.OpenConversationContext(ctx, &slack.OpenConversationParameters{Users: tc.users})
		if got, want := slackErr(t, err).Err, tc.want; got != want {
			t.Fatalf("%s: got %v, want %v", tc.name, got, want)
		}
	}
}

func TestUsers(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	api := newAPI(srv)
	ctx := testCtx(t)
	u, err := api.GetUserByEmailContext(ctx, "Priya.Raman@example.com")
	if err != nil {
		t.Fatalf("GetUserByEmail: got %v, want nil", err)
	}
	if got, want := u.ID+"|"+u.Profile.Email+"|"+u.RealName, userPriya+"|priya.raman@example.com|Priya Raman"; got != want {
		t.Fatalf("user: got %v, want %v", got, want)
	}
	_, err = api.GetUserByEmailContext(ctx, "nobody@example.com")
	if got, want := slackErr(t, err).Err, "users_not_found"; got != want {
		t.Fatalf("unknown email: got %v, want %v", got, want)
	}
	info, err := api.GetUserInfoContext(ctx, userMarco)
	if err != nil {
		t.Fatalf("GetUserInfo: got %v, want nil", err)
	}
	if got, want := info.Name, "marco"; got != want {
		t.Fatalf("users.info name: got %v, want %v", got, want)
	}
	_, err = api.GetUserInfoContext(ctx, "U0NOPE0001")
	if got, want := slackErr(t, err).Err, "user_not_found"; got != want {
		t.Fatalf("unknown user: got %v, want %v", got, want)
	}
}

func TestMissingScope(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(o *Options) { o.BotScopes = []string{"chat:write", "users:read"} })
	_, err := newAPI(srv).GetUserByEmailContext(testCtx(t), "priya.raman@example.com")
	se := slackErr(t, err)
	if got, want := se.Err+"|"+se.Needed, "missing_scope|users:read.email"; got != want {
		t.Fatalf("missing scope: got %v, want %v", got, want)
	}
}

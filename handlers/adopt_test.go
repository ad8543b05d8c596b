package handlers

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/store"
)

// TestCrashAfterPostingDoesNotPostTwice posts an alert, then forgets its
// ts as if mfabot had died between Slack's answer and the store write, and
// syncs again: the alert must be found and adopted, not posted twice.
func TestCrashAfterPostingDoesNotPostTwice(t *testing.T) {
	ctx := context.Background()
	fake := slackfake.New(slackfake.Options{DisableRateLimit: true,
		Channels: []slackfake.Channel{{ID: "C0ALERTS01", Members: []string{slackfake.DefaultBotUserID}}}})
	defer fake.Close()
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	engine, _ := detect.New(detect.DefaultConfig())
	app := &App{Store: st, Engine: engine, Slack: slack.New(fake.BotToken(), slack.OptionAPIURL(fake.APIURL())),
		Cfg: Config{AlertChannel: "C0ALERTS01"}}
	sy := &Syncer{App: app}

	ev := cloudtrail.SignIn{EventID: "e1", Account: "111122223333", Time: time.Now().Add(-time.Minute), Name: cloudtrail.EventConsoleLogin,
		Outcome: cloudtrail.Failure, MFAUsed: cloudtrail.MFAYes, IdentityType: cloudtrail.IdentityIAMUser, UserName: "ana", SourceIP: "192.0.2.1"}
	if err := app.Record(ctx, []cloudtrail.SignIn{ev}); err != nil {
		t.Fatal(err)
	}
	sy.Sync(ctx)
	var first string
	st.Update(ctx, func(tx *store.Tx) error {
		al, err := tx.Alert("INC-1")
		if err != nil || al == nil {
			t.Fatalf("alert: %v %v", al, err)
		}
		first = al.TS
		if _, ok := al.Posting[postAlert]; !ok {
			t.Fatal("no record that a post was attempted")
		}
		al.TS, al.Channel, al.PostedRev = "", "", 0 // the write that the crash prevented
		if err := tx.PutAlert(al); err != nil {
			return err
		}
		return tx.MarkDirty("INC-1", time.Now())
	})
	sy.Sync(ctx)

	if n := len(fake.Messages("C0ALERTS01")); n != 1 {
		t.Fatalf("messages after the simulated crash: got %d, want 1", n)
	}
	st.View(ctx, func(tx *store.Tx) error {
		al, _ := tx.Alert("INC-1")
		if al.TS != first || al.PostedRev != al.Rev {
			t.Errorf("adopted alert: ts %q (want %q), posted rev %d of %d", al.TS, first, al.PostedRev, al.Rev)
		}
		return nil
	})
	if got := fake.CallsTo("conversations.history"); len(got) != 1 {
		t.Errorf("history lookups: got %d, want 1", len(got))
	}
}

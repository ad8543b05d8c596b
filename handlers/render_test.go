package handlers

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/fakes/slackfake"
	"github.com/mfabot/mfabot/internal/incident"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// renderCase is one golden case: a message, a modal or a plain string.
type renderCase struct {
	name string
	out  any
}

// goldenCases renders every message mfabot sends.
func goldenCases() []renderCase {
	pending, completed := fxPendingReset(), fxDecidedReset(incident.ResetCompleted)
	viaUser := fxPendingReset()
	viaUser.ViaUser, viaUser.RequestedBy = true, "U0PRIYA"
	password := fxTokenExpiry()
	password.Stage, password.MFAYes, password.MFANo, password.PriorMFASuccess = incident.StagePassword, 0, 2, nil
	password.Classification, password.Reason = incident.RepeatedFailures, "2 failures, fewer than 3 within any 5m"
	return []renderCase{
		{"alert_token_expiry_open", AlertMessage(AlertView{Incident: fxTokenExpiry(), Links: fxLinks, Recent90d: 1})},
		{"alert_brute_force_many_ips", AlertMessage(AlertView{Incident: fxBruteForce(), Links: Links{Runbook: fxLinks.Runbook}})},
		{"alert_root", AlertMessage(AlertView{Incident: fxRoot(), Links: fxLinks})},
		{"alert_spray", AlertMessage(AlertView{Incident: fxSpray(), Links: fxLinks})},
		{"alert_identity_center", AlertMessage(AlertView{Incident: fxIdentityCenter()})},
		{"alert_recovered", AlertMessage(AlertView{Incident: fxRecovered(), Links: fxLinks, Answer: incident.AnswerRecovered, NotifiedUser: "U0PRIYA", Recent90d: 1})},
		{"alert_resolved_third_in_90d", AlertMessage(AlertView{Incident: fxResolved(), Links: fxLinks, Reset: &completed,
			Answer: incident.AnswerStillFailing, NotifiedUser: "U0PRIYA", Recent90d: 3, ResolvedBy: "U0RESP01",
			Resolution: "Clock drift on her phone; MFA re-enrolled."})},
		{"alert_pending_reset", AlertMessage(AlertView{Incident: fxTokenExpiry(), Links: fxLinks, Reset: &pending,
			Answer: incident.AnswerStillFailing, NotifiedUser: "U0PRIYA", Recent90d: 2})},
		{"alert_awaiting_reply", AlertMessage(AlertView{Incident: password, Answer: incident.AnswerAwaitingReply, NotifiedUser: "U0PRIYA"})},
		{"alert_merged", AlertMessage(AlertView{Incident: fxMerged()})},
		{"dm_unanswered", UserDM(fxTokenExpiry(), incident.AnswerAwaitingReply)},
		{"dm_unanswered_password_stage", UserDM(password, incident.AnswerNone)},
		{"dm_answered_still_failing", UserDM(fxTokenExpiry(), incident.AnswerStillFailing)},
		{"dm_answered_recovered", UserDM(fxTokenExpiry(), incident.AnswerRecovered)},
		{"dm_answered_not_me", UserDM(fxTokenExpiry(), incident.AnswerNotMe)},
		{"reset_pending", ResetPrompt(pending, fxTokenExpiry())},
		{"reset_pending_via_user", ResetPrompt(viaUser, fxTokenExpiry())},
		{"reset_approved_command", ResetPrompt(fxDecidedReset(incident.ResetApproved), fxTokenExpiry())},
		{"reset_completed", ResetPrompt(completed, fxTokenExpiry())},
		{"reset_denied", ResetPrompt(fxDecidedReset(incident.ResetDenied), fxTokenExpiry())},
		{"reset_failed", ResetPrompt(fxDecidedReset(incident.ResetFailed), fxTokenExpiry())},
		{"investigation_failed_step", InvestigationMessage(fxFailedStepReport())},
		{"investigation_complete", InvestigationMessage(fxCompleteReport())},
		{"investigation_no_device", InvestigationMessage(fxNoDeviceReport())},
		{"modal_approve", ApproveModal("INC-42", "priya.raman")},
		{"modal_deny", DenyModal("INC-42")},
		{"reenrol_deactivated", ReEnrolDM(fxTokenExpiry(), completed.Devices, "")},
		{"reenrol_admin", ReEnrolDM(fxTokenExpiry(), nil, fxDecidedReset(incident.ResetApproved).Command)},
		{"not_allowed", NotAllowed("You requested this reset, so someone else must approve it.")},
		{"error_user", ErrorMessage(&UserError{Msg: `Unknown command "lsit". Try /mfa help.`})},
		{"no_slack_user", NoSlackUser("priya.raman", []string{"users.slack_ids", "IAM tag slack-id", "priya.raman@example.com"})},
		{"timeline_lines", fxTimelineLines(fxTimeline())},
		{"help", HelpMessage()},
		{"list", ListMessage([]*incident.Incident{fxResolved(), fxSpray(), fxTokenExpiry(), fxRecovered(), fxRoot(), fxIdentityCenter(), fxBruteForce()})},
		{"list_empty", ListMessage(nil)},
		{"stats", StatsMessage(Stats{Open: 3, Recovered: 2, Resolved: 11, Last90d: 16, MedianResolution: 47 * time.Minute,
			ByClassification: map[incident.Classification]int{incident.TokenExpiryLikely: 9, incident.PasswordSpray: 1, incident.BruteForce: 2, incident.IsolatedFailure: 4}})},
		{"show", ShowMessage(AlertView{Incident: fxResolved(), Links: fxLinks, Reset: &completed, Answer: incident.AnswerStillFailing,
			NotifiedUser: "U0PRIYA", Recent90d: 3, ResolvedBy: "U0RESP01", Resolution: "Clock drift."}, fxTimeline())},
	}
}

func fxTimelineLines(es []incident.Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = TimelineLine(e)
	}
	return out
}

// goldenJSON renders v as the golden files hold it: indented JSON, with <, >
// and & left as they are so that the files read like the messages.
func goldenJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatalf("encode: %v", err)
	}
	return unescapeJSONHTML(buf.Bytes())
}

// unescapeJSONHTML undoes the \u003c, \u003e and \u0026 escapes that nested
// MarshalJSON methods in slack-go add, leaving escaped backslashes alone.
func unescapeJSONHTML(b []byte) []byte {
	var out []byte
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+5 < len(b) {
			switch string(b[i+1 : i+6]) {
			case "u003c":
				out, i = append(out, '<'), i+5
				continue
			case "u003e":
				out, i = append(out, '>'), i+5
				continue
			case "u0026":
				out, i = append(out, '&'), i+5
				continue
			}
			out, i = append(out, b[i], b[i+1]), i+1
			continue
		}
		out = append(out, b[i])
	}
	return out
}

func TestGolden(t *testing.T) {
	names := map[string]bool{}
	for _, c := range goldenCases() {
		names[c.name+".golden"] = true
		got := goldenJSON(t, c.out)
		path := filepath.Join("testdata", c.name+".golden")
		if *updateGolden {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatalf("write %s: %v", path, err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: %v (run go test ./handlers -run Golden -update)", c.name, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: rendering differs from %s:\n%s", c.name, path, got)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatalf("glob: %v", err)
	}
	for _, f := range files {
		if !names[filepath.Base(f)] {
			t.Fatalf("%s belongs to no golden case; delete it", f)
		}
	}
}

// checkSlackLimits reports every Slack limit the rendered output breaks.
func checkSlackLimits(t *testing.T, name string, out any) {
	t.Helper()
	switch v := out.(type) {
	case Message:
		n := utf8.RuneCountInString(v.Text)
		if n == 0 || n > maxText {
			t.Fatalf("%s: text has %d characters, want 1..%d", name, n, maxText)
		}
		if len(v.Blocks) == 0 {
			t.Fatalf("%s: no blocks", name)
		}
		for _, msg := range slackfake.ValidateBlocks(goldenJSON(t, v.Blocks), 50) {
			t.Fatalf("%s: %s", name, msg)
		}
		for i, b := range v.Blocks {
			if b.ID() == "" {
				t.Fatalf("%s: block %d (%s) has no block_id", name, i, b.BlockType())
			}
		}
	case slack.ModalViewRequest:
		for _, msg := range slackfake.ValidateBlocks(goldenJSON(t, v.Blocks.BlockSet), 100) {
			t.Fatalf("%s: %s", name, msg)
		}
		for what, text := range map[string]*slack.TextBlockObject{"title": v.Title, "submit": v.Submit, "close": v.Close} {
			if text == nil || text.Type != slack.PlainTextType || text.Text == "" || utf8.RuneCountInString(text.Text) > maxViewText {
				t.Fatalf("%s: %s %+v, want plain_text of 1..%d characters", name, what, text, maxViewText)
			}
		}
		if v.CallbackID == "" || v.PrivateMetadata == "" || utf8.RuneCountInString(v.PrivateMetadata) > 3000 {
			t.Fatalf("%s: callback_id %q, private_metadata of %d characters", name, v.CallbackID, len(v.PrivateMetadata))
		}
	case string:
		if n := utf8.RuneCountInString(v); n == 0 || n > maxSectionText {
			t.Fatalf("%s: %d characters, want 1..%d", name, n, maxSectionText)
		}
	case []string:
		for i, s := range v {
			checkSlackLimits(t, fmt.Sprintf("%s[%d]", name, i), s)
		}
	default:
		t.Fatalf("%s: unexpected %T", name, out)
	}
}

func TestGoldenMessagesRespectSlackLimits(t *testing.T) {
	t.Parallel()
	for _, c := range goldenCases() {
		checkSlackLimits(t, c.name, c.out)
	}
}

// renderedButtons returns action_id → value of every button in the message.
func renderedButtons(m Message) map[string]string {
	out := map[string]string{}
	for _, b := range m.Blocks {
		if a, ok := b.(*slack.ActionBlock); ok {
			for _, e := range a.Elements.ElementSet {
				if btn, ok := e.(*slack.ButtonBlockElement); ok {
					out[btn.ActionID] = btn.Value
				}
			}
		}
	}
	return out
}

func TestAlertButtons(t *testing.T) {
	t.Parallel()
	pending := fxPendingReset()
	for _, tc := range []struct {
		name string
		v    AlertView
		want []string
	}{
		{"person open", AlertView{Incident: fxTokenExpiry()}, []string{ActionInvestigate, ActionNotifyUser, ActionRequestReset, ActionResolve}},
		{"person recovered", AlertView{Incident: fxRecovered()}, []string{ActionInvestigate, ActionNotifyUser, ActionRequestReset, ActionResolve}},
		{"reset pending", AlertView{Incident: fxTokenExpiry(), Reset: &pending}, []string{ActionInvestigate, ActionNotifyUser, ActionResolve}},
		{"root", AlertView{Incident: fxRoot()}, []string{ActionInvestigate, ActionResolve}},
		{"spray", AlertView{Incident: fxSpray()}, []string{ActionInvestigate, ActionResolve}},
		{"identity center", AlertView{Incident: fxIdentityCenter()}, []string{ActionInvestigate, ActionResolve}},
		{"resolved", AlertView{Incident: fxResolved()}, nil},
		{"merged", AlertView{Incident: fxMerged()}, nil},
	} {
		got := renderedButtons(AlertMessage(tc.v))
		if len(got) != len(tc.want) {
			t.Fatalf("%s: buttons %v, want %v", tc.name, got, tc.want)
		}
		for _, id := range tc.want {
			if got[id] != tc.v.Incident.ID {
				t.Fatalf("%s: button %s has value %q, want %q", tc.name, id, got[id], tc.v.Incident.ID)
			}
		}
	}
}

func TestAnsweredDMHasNoButtons(t *testing.T) {
	t.Parallel()
	for _, a := range []incident.Answer{incident.AnswerNone, incident.AnswerAwaitingReply} {
		if got := renderedButtons(UserDM(fxTokenExpiry(), a)); len(got) != 3 || got[ActionUserNotMe] != "INC-42" {
			t.Fatalf("answer %q: buttons %v, want three with value INC-42", a, got)
		}
	}
	for _, a := range []incident.Answer{incident.AnswerRecovered, incident.AnswerStillFailing, incident.AnswerNotMe, incident.AnswerNotReachable} {
		if got := renderedButtons(UserDM(fxTokenExpiry(), a)); len(got) != 0 {
			t.Fatalf("answer %q: buttons %v, want none", a, got)
		}
	}
}

func TestDecidedResetHasNoButtons(t *testing.T) {
	t.Parallel()
	if got := renderedButtons(ResetPrompt(fxPendingReset(), fxTokenExpiry())); got[ActionApproveReset] != "INC-42" || got[ActionDenyReset] != "INC-42" {
		t.Fatalf("pending: buttons %v, want approve and deny with value INC-42", got)
	}
	for _, s := range []incident.ResetStatus{incident.ResetApproved, incident.ResetCompleted, incident.ResetDenied, incident.ResetFailed} {
		if got := renderedButtons(ResetPrompt(fxDecidedReset(s), fxTokenExpiry())); len(got) != 0 {
			t.Fatalf("%s: buttons %v, want none", s, got)
		}
	}
}

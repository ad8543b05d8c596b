package bot

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/mfabot/mfabot/handlers"
)

// fzHandler records every call. The embedded Handler is nil: a method
// added to the interface later compiles, and panics if routed to.
type fzHandler struct {
	Handler
	clicks   []handlers.Click
	subs     []handlers.Submission
	messages []handlers.MessageEvent
	commands []handlers.SlashRequest
}

func (h *fzHandler) HandleClick(_ context.Context, c handlers.Click) { h.clicks = append(h.clicks, c) }
func (h *fzHandler) HandleSubmission(_ context.Context, s handlers.Submission) {
	h.subs = append(h.subs, s)
}
func (h *fzHandler) HandleMessage(_ context.Context, m handlers.MessageEvent) {
	h.messages = append(h.messages, m)
}
func (h *fzHandler) HandleCommand(_ context.Context, c handlers.SlashRequest) {
	h.commands = append(h.commands, c)
}

func (h *fzHandler) calls() int {
	return len(h.clicks) + len(h.subs) + len(h.messages) + len(h.commands)
}

// fzRun routes an event and runs its job, checking that routing itself
// calls no handler and that the job (if any) does not panic.
func fzRun(t *testing.T, evt socketmode.Event, payload []byte) (*fzHandler, bool) {
	t.Helper()
	h := &fzHandler{}
	job := route(evt, h, slog.New(slog.DiscardHandler))
	if h.calls() != 0 {
		t.Fatalf("route called the handler before the job ran, for %q", payload)
	}
	if job == nil {
		return h, false
	}
	job(context.Background())
	return h, true
}

// fzSameAsJournal checks that decodeRequest, which rebuilds journalled
// envelopes after a restart, decodes a payload exactly as the Socket Mode
// client did (err and data are the client's result).
func fzSameAsJournal(t *testing.T, typ socketmode.EventType, payload []byte, err error, data any) {
	t.Helper()
	evt, jerr := decodeRequest(string(typ), payload)
	if (jerr == nil) != (err == nil) {
		t.Fatalf("%s %q: the client's decode says %v, the journal's %v", typ, payload, err, jerr)
	}
	if err == nil && (evt.Type != typ || !reflect.DeepEqual(evt.Data, data)) {
		t.Fatalf("%s %q: the journal decodes %+v, the client %+v", typ, payload, evt.Data, data)
	}
}

// fzSlash is the part of a slash command payload the bot reads, decoded
// independently of slack-go's types.
type fzSlash struct {
	Command     string `json:"command"`
	UserID      string `json:"user_id"`
	ChannelID   string `json:"channel_id"`
	Text        string `json:"text"`
	ResponseURL string `json:"response_url"`
}

// fzSlashCommand decodes a payload as a slash_commands envelope, routes it
// and runs the job: /mfa gives exactly one SlashRequest with user,
// channel, text and response URL copied verbatim; another app's command
// routes to nothing.
func fzSlashCommand(t *testing.T, payload []byte) {
	t.Helper()
	var cmd slack.SlashCommand
	err := json.Unmarshal(payload, &cmd)
	fzSameAsJournal(t, socketmode.EventTypeSlashCommand, payload, err, cmd)
	if err != nil {
		return
	}
	h, routed := fzRun(t, socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: cmd,
		Request: &socketmode.Request{Type: socketmode.RequestTypeSlashCommands, EnvelopeID: "env-fuzz", Payload: payload}}, payload)
	var raw fzSlash
	if err := json.Unmarshal(payload, &raw); err != nil {
		t.Fatalf("slack-go decoded the slash command %q but the plain decode failed: %v", payload, err)
	}
	if raw.Command != handlers.SlashCommand {
		if routed || h.calls() != 0 {
			t.Fatalf("command %q routed: %q", raw.Command, payload)
		}
		return
	}
	want := handlers.SlashRequest{User: raw.UserID, Channel: raw.ChannelID, Text: raw.Text, ResponseURL: raw.ResponseURL}
	if !routed || h.calls() != 1 || len(h.commands) != 1 || h.commands[0] != want {
		t.Fatalf("slash command %q\ncommands %+v\nwant     %+v", payload, h.commands, want)
	}
}

// fzInteraction is the part of an interaction payload the bot reads,
// decoded independently of slack-go's types.
type fzInteraction struct {
	Type      string `json:"type"`
	TriggerID string `json:"trigger_id"`
	User      struct {
		ID string `json:"id"`
	} `json:"user"`
	Container struct {
		ChannelID string `json:"channel_id"`
		MessageTs string `json:"message_ts"`
	} `json:"container"`
	Channel struct {
		ID string `json:"id"`
	} `json:"channel"`
	Message struct {
		Ts string `json:"ts"`
	} `json:"message"`
	Actions []json.RawMessage `json:"actions"`
	View    struct {
		CallbackID      string `json:"callback_id"`
		PrivateMetadata string `json:"private_metadata"`
		State           *struct {
			Values map[string]map[string]struct {
				Value          string `json:"value"`
				SelectedOption struct {
					Value string `json:"value"`
				} `json:"selected_option"`
			} `json:"values"`
		} `json:"state"`
	} `json:"view"`
}

// A block_actions payload shaped like slack-platform reference §2.1, with
// made-up IDs, and a view_submission of the approve modal.
const (
	fzBlockActions = `{"type":"block_actions","user":{"id":"U0FUZZ001","username":"priya","name":"priya","team_id":"T0FUZZ001"},"team":{"id":"T0FUZZ001","domain":"acme"},"api_app_id":"A0FUZZ0001","token":"legacy",` +
		`"container":{"type":"message","message_ts":"1772612100.000200","channel_id":"C0FUZZ001","is_ephemeral":false},"trigger_id":"1234.5678.abcdef","channel":{"id":"C0FUZZ001","name":"sec-alerts"},` +
		`"message":{"ts":"1772612100.000200","text":"MFA failure: priya.raman","blocks":[]},"response_url":"https://hooks.slack.com/actions/T0FUZZ001/1/abc","state":{"values":{}},` +
		`"actions":[{"type":"button","action_id":"approve_reset","block_id":"b_actions","text":{"type":"plain_text","text":"Approve"},"value":"INC-42","style":"primary","action_ts":"1772612200.123456"}]}`
	fzViewSubmission = `{"type":"view_submission","user":{"id":"U0FUZZ002"},"team":{"id":"T0FUZZ001"},"api_app_id":"A0FUZZ0001","trigger_id":"1234.5678.abcdeg",` +
		`"view":{"id":"V0FUZZ001","type":"modal","callback_id":"approve_reset_modal","private_metadata":"INC-42","hash":"1772612300.abc",` +
		`"state":{"values":{"verification":{"verification_method":{"type":"static_select","selected_option":{"text":{"type":"plain_text","text":"In person"},"value":"In person"}}},` +
		`"note":{"note_text":{"type":"plain_text_input","value":"checked ID"}}}}}}`
)

// FuzzRouteInteractive decodes raw interactive payloads as the Socket
// Mode client does (encoding/json into slack.InteractionCallback), routes
// them and runs the job against a recording handler. Each payload is also
// tried as a slash_commands payload (fzSlashCommand), and both decodes
// are checked against decodeRequest, the journal's decoder.
//
// Invariants: no panic; routing does no work itself; a block_actions
// payload gives one Click per block action (never more than the payload's
// actions) with user ID, action ID, value and trigger ID copied verbatim,
// the channel and message ts from the container or else from the
// channel/message; a view_submission gives one Submission with user,
// callback ID, metadata and every state value copied verbatim; anything
// else routes to nothing; the journal decodes every payload as the client
// does.
func FuzzRouteInteractive(f *testing.F) {
	for _, s := range []string{
		fzBlockActions,
		fzViewSubmission,
		// Two buttons, an attachment action (no block_id), no container.
		`{"type":"block_actions","user":{"id":"U0FUZZ003"},"channel":{"id":"C0FUZZ002"},"message":{"ts":"1772612100.000300"},"trigger_id":"1.2.x",` +
			`"actions":[{"action_id":"investigate","block_id":"b","value":"INC-7"},{"name":"legacy","value":"x"},{"action_id":"resolve","block_id":"b","value":"INC-7"}]}`,
		`{"type":"block_actions","user":{"id":"U0FUZZ003"},"actions":[]}`,
		`{"type":"block_actions","actions":[{"block_id":7,"action_id":"x"}]}`,
		`{"type":"block_actions","actions":[null]}`,
		`{"type":"block_actions","actions":null,"state":{"values":{"b":{"a":{"value":"v"}}}}}`,
		`{"type":"view_submission","view":{"callback_id":"deny_reset_modal","private_metadata":"INC-9","state":{"values":{"deny_reason":{"deny_reason_text":{"value":"<!channel>"}}}}}}`,
		`{"type":"view_submission","view":{"state":null}}`,
		`{"type":"view_closed","view":{"callback_id":"approve_reset_modal"}}`,
		`{"type":"dialog_submission","state":"x","submission":{"a":"b"}}`,
		`{"type":"shortcut","callback_id":"x"}`,
		`{"TYPE":"block_actions","User":{"ID":"U1"},"actions":[{"block_id":"b","Action_ID":"a","VALUE":"v"}]}`,
		`{"type":"block_actions","user":{"id":"U1"},"user":{"id":"U2"},"actions":[{"block_id":"b","value":"v1","value":"v2"}]}`,
		`{}`, `null`, `[]`, `{"type":5}`, `{"type":"block_actions","container":{"attachment_id":"x"}}`,
		// Slash command payloads (slack-platform reference §1.2).
		`{"token":"legacy","team_id":"T0FUZZ001","team_domain":"acme","channel_id":"C0FUZZ001","channel_name":"sec-alerts","user_id":"U0FUZZ001","user_name":"priya",` +
			`"command":"/mfa","text":"show INC-42","api_app_id":"A0FUZZ0001","is_enterprise_install":"false","response_url":"https://hooks.slack.com/commands/T0FUZZ001/1/abc","trigger_id":"1.2.abc"}`,
		`{"command":"/mfa","text":"note 42 &lt;!channel&gt; it was me","user_id":"U0FUZZ002","channel_id":"D0FUZZ001","is_enterprise_install":true}`,
		`{"command":"/other","text":"list","user_id":"U0FUZZ003"}`,
		`{"command":"/MFA","text":"list"}`,
		`{"command":"/mfa","is_enterprise_install":"maybe"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		fzSlashCommand(t, payload)
		var cb slack.InteractionCallback
		err := json.Unmarshal(payload, &cb)
		fzSameAsJournal(t, socketmode.EventTypeInteractive, payload, err, cb)
		if err != nil {
			return // the Socket Mode client drops the envelope
		}
		h, routed := fzRun(t, socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb,
			Request: &socketmode.Request{Type: socketmode.RequestTypeInteractive, EnvelopeID: "env-fuzz", Payload: payload}}, payload)
		if len(h.messages)+len(h.commands) != 0 {
			t.Fatalf("an interaction routed to a message or command handler: %q", payload)
		}
		var raw fzInteraction
		if err := json.Unmarshal(payload, &raw); err != nil {
			t.Fatalf("slack-go decoded %q but the plain decode failed: %v", payload, err)
		}
		if raw.Type != string(cb.Type) {
			t.Fatalf("type %q, slack-go says %q", raw.Type, cb.Type)
		}
		switch cb.Type {
		case slack.InteractionTypeBlockActions:
			if len(h.subs) != 0 {
				t.Fatalf("block_actions routed to a submission: %q", payload)
			}
			channel, ts := raw.Container.ChannelID, raw.Container.MessageTs
			if channel == "" {
				channel = raw.Channel.ID
			}
			if ts == "" {
				ts = raw.Message.Ts
			}
			var want []handlers.Click
			for _, a := range raw.Actions {
				var obj map[string]any
				if json.Unmarshal(a, &obj) != nil {
					t.Fatalf("slack-go decoded %q with an action that is not an object: %s", payload, a)
				}
				if _, ok := obj["block_id"].(string); !ok {
					continue // an attachment action: not a button of ours
				}
				var ba struct {
					ActionID string `json:"action_id"`
					Value    string `json:"value"`
				}
				if err := json.Unmarshal(a, &ba); err != nil {
					t.Fatalf("block action %s: %v", a, err)
				}
				want = append(want, handlers.Click{User: raw.User.ID, Channel: channel, MessageTS: ts,
					ActionID: ba.ActionID, Value: ba.Value, TriggerID: raw.TriggerID})
			}
			if len(h.clicks) > len(raw.Actions) {
				t.Fatalf("%d clicks from %d actions: %q", len(h.clicks), len(raw.Actions), payload)
			}
			if routed != (len(want) > 0) || !reflect.DeepEqual(h.clicks, want) {
				t.Fatalf("payload %q\nclicks %+v\nwant   %+v", payload, h.clicks, want)
			}
		case slack.InteractionTypeViewSubmission:
			if !routed || len(h.subs) != 1 || len(h.clicks) != 0 {
				t.Fatalf("view_submission %q: %d submissions, %d clicks", payload, len(h.subs), len(h.clicks))
			}
			want := handlers.Submission{User: raw.User.ID, CallbackID: raw.View.CallbackID, Metadata: raw.View.PrivateMetadata,
				Values: map[string]map[string]string{}}
			if raw.View.State != nil {
				for block, actions := range raw.View.State.Values {
					want.Values[block] = map[string]string{}
					for id, a := range actions {
						v := a.Value
						if v == "" {
							v = a.SelectedOption.Value
						}
						want.Values[block][id] = v
					}
				}
			}
			if !reflect.DeepEqual(h.subs[0], want) {
				t.Fatalf("payload %q\nsubmission %+v\nwant       %+v", payload, h.subs[0], want)
			}
		default:
			if routed || h.calls() != 0 {
				t.Fatalf("interaction of type %q routed: %q", cb.Type, payload)
			}
		}
	})
}

// fzEventsAPI is the part of an events_api payload the bot reads, decoded
// independently of slack-go's types.
// The inner event is kept raw first, as slackevents does (so that the
// last of repeated "event" keys counts).
type fzEventsAPI struct {
	Type    string          `json:"type"`
	EventID string          `json:"event_id"`
	Event   json.RawMessage `json:"event"`
}

type fzMessageEvent struct {
	Type     string `json:"type"`
	User     string `json:"user"`
	BotID    string `json:"bot_id"`
	SubType  string `json:"subtype"`
	Channel  string `json:"channel"`
	ThreadTS string `json:"thread_ts"`
	TS       string `json:"ts"`
	Text     string `json:"text"`
}

// An events_api payload: a thread reply in the alert channel, made up.
const fzThreadReply = `{"token":"legacy","team_id":"T0FUZZ001","api_app_id":"A0FUZZ0001","type":"event_callback","event_id":"Ev0FUZZ0001","event_time":1772612400,` +
	`"authorizations":[{"enterprise_id":null,"team_id":"T0FUZZ001","user_id":"U0FUZZBOT","is_bot":true,"is_enterprise_install":false}],"is_ext_shared_channel":false,"event_context":"4-fuzz",` +
	`"event":{"client_msg_id":"0b6f4f7e-0000-4000-8000-00000000abcd","type":"message","text":"It was me, my phone died","user":"U0FUZZ004","ts":"1772612400.000400","team":"T0FUZZ001",` +
	`"thread_ts":"1772612100.000200","parent_user_id":"U0FUZZBOT","channel":"D0FUZZ001","event_ts":"1772612400.000400","channel_type":"im"}}`

// FuzzRouteEventsAPI parses raw events_api payloads as the Socket Mode
// client does (slackevents.ParseEvent without token verification), routes
// them and runs the job against a recording handler; the journal's
// decodeRequest must parse them the same way.
//
// Invariants: no panic; routing does no work itself; a message event
// gives exactly one MessageEvent whose event ID, user, bot ID, subtype,
// channel, thread ts, ts and text are copied verbatim from the payload;
// anything else routes to nothing.
func FuzzRouteEventsAPI(f *testing.F) {
	for _, s := range []string{
		fzThreadReply,
		strings.Replace(fzThreadReply, `"user":"U0FUZZ004"`, `"subtype":"bot_message","bot_id":"B0FUZZ001","username":"mfabot"`, 1),
		`{"type":"event_callback","event_id":"Ev2","event":{"type":"message","subtype":"message_changed","channel":"C0FUZZ001","ts":"1.2",` +
			`"message":{"type":"message","user":"U1","text":"edited","ts":"1.1"},"previous_message":{"type":"message","user":"U1","text":"old","ts":"1.1"}}}`,
		`{"type":"event_callback","event_id":"Ev3","event":{"type":"app_mention","user":"U1","text":"<@U0FUZZBOT> hi","ts":"1.3","channel":"C1"}}`,
		`{"type":"event_callback","event_id":"Ev4","event":{"type":"reaction_added","user":"U1","reaction":"eyes","item":{"type":"message","channel":"C1","ts":"1.1"}}}`,
		`{"type":"event_callback","event":null}`,
		`{"type":"event_callback","event":{"type":"message","text":5}}`,
		`{"type":"event_callback","event":{"type":"no_such_event"}}`,
		`{"type":"url_verification","challenge":"abc"}`,
		`{"type":"app_rate_limited","team_id":"T1","minute_rate_limited":1772612400,"api_app_id":"A1"}`,
		`{"type":"event_callback","event_id":"Ev5","event":{"type":"message","text":"&lt;!channel&gt; \u003c!here\u003e","user":"U1","ts":"1.4","channel":"C1","thread_ts":"1.1","blocks":[{"type":"rich_text","elements":[]}]}}`,
		`{"TYPE":"event_callback","EVENT_ID":"Ev6","Event":{"Type":"message","User":"U1","user":"U2"}}`,
		`{}`, `null`, `[]`, `{"type":"event_callback"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := slackevents.ParseEvent(json.RawMessage(payload), slackevents.OptionNoVerifyToken())
		fzSameAsJournal(t, socketmode.EventTypeEventsAPI, payload, err, ev)
		if err != nil {
			return // the Socket Mode client drops the envelope
		}
		h, routed := fzRun(t, socketmode.Event{Type: socketmode.EventTypeEventsAPI, Data: ev,
			Request: &socketmode.Request{Type: socketmode.RequestTypeEventsAPI, EnvelopeID: "env-fuzz", Payload: payload}}, payload)
		if len(h.clicks)+len(h.subs)+len(h.commands) != 0 {
			t.Fatalf("an events_api payload routed to a click, submission or command: %q", payload)
		}
		if _, isMsg := ev.InnerEvent.Data.(*slackevents.MessageEvent); !isMsg {
			if routed || len(h.messages) != 0 {
				t.Fatalf("event %q (%T) routed: %q", ev.InnerEvent.Type, ev.InnerEvent.Data, payload)
			}
			return
		}
		var raw fzEventsAPI
		var inner fzMessageEvent
		if err := json.Unmarshal(payload, &raw); err != nil {
			t.Fatalf("slackevents parsed %q but the plain decode failed: %v", payload, err)
		}
		if err := json.Unmarshal(raw.Event, &inner); err != nil {
			t.Fatalf("slackevents parsed the event of %q but the plain decode failed: %v", payload, err)
		}
		if raw.Type != slackevents.CallbackEvent || inner.Type != "message" {
			t.Fatalf("a message event of type %q outside an event_callback (%q): %q", inner.Type, raw.Type, payload)
		}
		want := handlers.MessageEvent{EventID: raw.EventID, User: inner.User, BotID: inner.BotID, Subtype: inner.SubType,
			Channel: inner.Channel, ThreadTS: inner.ThreadTS, TS: inner.TS, Text: inner.Text}
		if !routed || len(h.messages) != 1 || h.messages[0] != want {
			t.Fatalf("payload %q\nmessages %+v\nwant     %+v", payload, h.messages, want)
		}
	})
}

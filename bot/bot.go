// Package bot is mfabot's Slack side: the Socket Mode loop that
// acknowledges every envelope before doing any work, routes clicks, modal
// submissions, thread replies and slash commands to the handlers, and runs
// them on a bounded pool of workers that drains on shutdown.
package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/store"
)

// Handler is what the bot routes work to; *handlers.App implements it.
type Handler interface {
	HandleClick(ctx context.Context, c handlers.Click)
	HandleSubmission(ctx context.Context, s handlers.Submission)
	HandleMessage(ctx context.Context, m handlers.MessageEvent)
	HandleCommand(ctx context.Context, c handlers.SlashRequest)
}

// Journal records envelopes before they are acknowledged and forgets them
// when their work is done, so that a crash loses no acknowledged click;
// *store.Inbox implements it.
type Journal interface {
	Add(typ string, payload []byte, received time.Time) (uint64, error)
	Done(id uint64) error
	Pending() ([]store.Envelope, error)
}

// Socket is the part of the Socket Mode client the bot uses.
type Socket interface {
	RunContext(ctx context.Context) error
	AckCtx(ctx context.Context, envelopeID string, payload any) error
}

// Options tune the bot; zero values take the defaults.
type Options struct {
	// Workers bounds the work done at once (default 8).
	Workers int
	// Queue bounds the work waiting for a worker (default 256); when it
	// is full, the loop waits, having acknowledged the envelope already.
	Queue int
	// JobTimeout bounds one piece of work (default 5 min).
	JobTimeout time.Duration
	// Drain bounds how long shutdown waits for work in flight (default 20 s).
	Drain time.Duration
	// AckTimeout bounds queueing an acknowledgement (default 1 s).
	AckTimeout time.Duration
	// OnAck, when set, observes how long each acknowledgement took from
	// the envelope's arrival (for benchmarks).
	OnAck func(time.Duration)
	// Journal, when set, records each envelope before it is acknowledged;
	// Run first finishes the work of envelopes left from a crash.
	Journal Journal
}

func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Queue <= 0 {
		o.Queue = 256
	}
	if o.JobTimeout <= 0 {
		o.JobTimeout = 5 * time.Minute
	}
	if o.Drain <= 0 {
		o.Drain = 20 * time.Second
	}
	if o.AckTimeout <= 0 {
		o.AckTimeout = time.Second
	}
	return o
}

// Bot runs the Socket Mode loop.
type Bot struct {
	socket  Socket
	events  <-chan socketmode.Event
	handler Handler
	opts    Options
	log     *slog.Logger
}

// New returns a bot reading the client's events.
func New(client *socketmode.Client, h Handler, opts Options, log *slog.Logger) *Bot {
	return NewWithSocket(client, client.Events, h, opts, log)
}

// NewWithSocket is New for any Socket and event stream (tests).
func NewWithSocket(s Socket, events <-chan socketmode.Event, h Handler, opts Options, log *slog.Logger) *Bot {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Bot{socket: s, events: events, handler: h, opts: opts.withDefaults(), log: log}
}

// ErrInvalidAuth is returned when Slack refuses the tokens.
var ErrInvalidAuth = errors.New("slack refused the app token")

// Run connects and serves until ctx ends or Slack refuses the tokens. On
// the way out it stops taking envelopes and lets work in flight finish,
// for at most Options.Drain.
func (b *Bot) Run(ctx context.Context) error {
	workCtx, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	jobs := make(chan func(context.Context), b.opts.Queue)
	var wg sync.WaitGroup
	for range b.opts.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for job := range jobs {
				b.runJob(workCtx, job)
			}
		}()
	}

	b.resume(ctx, jobs)

	sockCtx, stopSock := context.WithCancel(ctx)
	defer stopSock()
	sockErr := make(chan error, 1)
	go func() { sockErr <- b.socket.RunContext(sockCtx) }()

	err := b.loop(ctx, jobs, sockErr)
	close(jobs)
	stopSock()

	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(b.opts.Drain):
		b.log.Warn("shutdown: work still running after the drain period; cancelling it", "drain", b.opts.Drain)
		cancelWork()
		<-done
	}
	return err
}

// loop reads events until ctx ends or the socket gives up.
func (b *Bot) loop(ctx context.Context, jobs chan<- func(context.Context), sockErr <-chan error) error {
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-sockErr:
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("socket mode: %w", err)
		case evt, ok := <-b.events:
			if !ok {
				return nil
			}
			if evt.Type == socketmode.EventTypeInvalidAuth {
				return ErrInvalidAuth
			}
			job := b.accept(ctx, evt)
			if job == nil {
				continue
			}
			select {
			case jobs <- job:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// accept acknowledges an envelope at once and returns the work it asks for.
func (b *Bot) accept(ctx context.Context, evt socketmode.Event) func(context.Context) {
	arrived := time.Now()
	switch evt.Type {
	case socketmode.EventTypeConnecting, socketmode.EventTypeConnected, socketmode.EventTypeHello:
		b.log.Debug("socket mode", "event", evt.Type)
		return nil
	case socketmode.EventTypeConnectionError, socketmode.EventTypeIncomingError, socketmode.EventTypeErrorBadMessage, socketmode.EventTypeErrorWriteFailed:
		b.log.Warn("socket mode trouble; the client reconnects", "event", evt.Type, "detail", fmt.Sprint(evt.Data))
		return nil
	case socketmode.EventTypeDisconnect:
		b.log.Info("socket mode disconnect; reconnecting")
		return nil
	}
	if evt.Request == nil {
		return nil
	}
	var journalled uint64
	if j := b.opts.Journal; j != nil && routable(evt.Type) {
		id, err := j.Add(string(evt.Type), evt.Request.Payload, arrived)
		if err != nil {
			b.log.Error("journal failed; the work of this envelope is not crash-safe", "envelope", evt.Request.EnvelopeID, "err", err)
		}
		journalled = id
	}
	actx, cancel := context.WithTimeout(ctx, b.opts.AckTimeout)
	err := b.socket.AckCtx(actx, evt.Request.EnvelopeID, nil)
	cancel()
	if err != nil {
		b.log.Error("ack failed", "envelope", evt.Request.EnvelopeID, "err", err)
	}
	if b.opts.OnAck != nil {
		b.opts.OnAck(time.Since(arrived))
	}
	return b.done(route(evt, b.handler, b.log), journalled)
}

// routable reports whether an envelope type carries work.
func routable(t socketmode.EventType) bool {
	return t == socketmode.EventTypeInteractive || t == socketmode.EventTypeSlashCommand || t == socketmode.EventTypeEventsAPI
}

// done wraps a job so that its journal entry is forgotten once it ran.
func (b *Bot) done(job func(context.Context), id uint64) func(context.Context) {
	if id == 0 {
		return job
	}
	return func(ctx context.Context) {
		if job != nil {
			job(ctx)
		}
		if ctx.Err() != nil {
			return // cut short by shutdown: do it again next time
		}
		if err := b.opts.Journal.Done(id); err != nil {
			b.log.Error("journal", "err", err)
		}
	}
}

// resume queues the work of envelopes acknowledged before a crash.
func (b *Bot) resume(ctx context.Context, jobs chan<- func(context.Context)) {
	if b.opts.Journal == nil {
		return
	}
	pending, err := b.opts.Journal.Pending()
	if err != nil {
		b.log.Error("journal: cannot list unfinished work", "err", err)
		return
	}
	for _, e := range pending {
		evt, err := decodeRequest(e.Type, e.Payload)
		var job func(context.Context)
		if err != nil {
			b.log.Error("journal: dropping an entry that cannot be decoded", "id", e.ID, "err", err)
		} else {
			job = route(evt, b.handler, b.log)
		}
		b.log.Info("resuming work acknowledged before a restart", "type", e.Type, "received", e.Received)
		select {
		case jobs <- b.done(job, e.ID):
		case <-ctx.Done():
			return
		}
	}
}

// decodeRequest rebuilds an event from a journalled envelope, as the
// Socket Mode client decodes it.
func decodeRequest(typ string, payload []byte) (socketmode.Event, error) {
	evt := socketmode.Event{Type: socketmode.EventType(typ)}
	switch evt.Type {
	case socketmode.EventTypeInteractive:
		var cb slack.InteractionCallback
		if err := json.Unmarshal(payload, &cb); err != nil {
			return evt, err
		}
		evt.Data = cb
	case socketmode.EventTypeSlashCommand:
		var cmd slack.SlashCommand
		if err := json.Unmarshal(payload, &cmd); err != nil {
			return evt, err
		}
		evt.Data = cmd
	case socketmode.EventTypeEventsAPI:
		ev, err := slackevents.ParseEvent(payload, slackevents.OptionNoVerifyToken())
		if err != nil {
			return evt, err
		}
		evt.Data = ev
	default:
		return evt, fmt.Errorf("unknown envelope type %q", typ)
	}
	return evt, nil
}

// runJob runs one piece of work with its timeout, surviving a panic.
func (b *Bot) runJob(ctx context.Context, job func(context.Context)) {
	ctx, cancel := context.WithTimeout(ctx, b.opts.JobTimeout)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			b.log.Error("handler panicked", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	job(ctx)
}

// route turns an envelope into work for the handler, or nil.
func route(evt socketmode.Event, h Handler, log *slog.Logger) func(context.Context) {
	switch evt.Type {
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if !ok {
			return nil
		}
		return routeInteraction(cb, h)
	case socketmode.EventTypeSlashCommand:
		cmd, ok := evt.Data.(slack.SlashCommand)
		if !ok || cmd.Command != handlers.SlashCommand {
			return nil
		}
		r := handlers.SlashRequest{User: cmd.UserID, Channel: cmd.ChannelID, Text: cmd.Text, ResponseURL: cmd.ResponseURL}
		return func(ctx context.Context) { h.HandleCommand(ctx, r) }
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		if !ok {
			return nil
		}
		return routeEvent(ev, h)
	}
	log.Debug("ignored envelope", "type", evt.Type)
	return nil
}

func routeInteraction(cb slack.InteractionCallback, h Handler) func(context.Context) {
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		channel := cb.Container.ChannelID
		if channel == "" {
			channel = cb.Channel.ID
		}
		ts := cb.Container.MessageTs
		if ts == "" {
			ts = cb.Message.Timestamp
		}
		var clicks []handlers.Click
		for _, a := range cb.ActionCallback.BlockActions {
			if a == nil {
				continue
			}
			clicks = append(clicks, handlers.Click{User: cb.User.ID, Channel: channel, MessageTS: ts,
				ActionID: a.ActionID, Value: a.Value, TriggerID: cb.TriggerID})
		}
		if len(clicks) == 0 {
			return nil
		}
		return func(ctx context.Context) {
			for _, c := range clicks {
				h.HandleClick(ctx, c)
			}
		}
	case slack.InteractionTypeViewSubmission:
		s := handlers.Submission{User: cb.User.ID, CallbackID: cb.View.CallbackID, Metadata: cb.View.PrivateMetadata,
			Values: map[string]map[string]string{}}
		if cb.View.State != nil {
			for block, actions := range cb.View.State.Values {
				s.Values[block] = map[string]string{}
				for id, a := range actions {
					v := a.Value
					if v == "" {
						v = a.SelectedOption.Value
					}
					s.Values[block][id] = v
				}
			}
		}
		return func(ctx context.Context) { h.HandleSubmission(ctx, s) }
	}
	return nil
}

func routeEvent(ev slackevents.EventsAPIEvent, h Handler) func(context.Context) {
	msg, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent)
	if !ok {
		return nil
	}
	var eventID string
	if cb, ok := ev.Data.(*slackevents.EventsAPICallbackEvent); ok {
		eventID = cb.EventID
	}
	m := handlers.MessageEvent{EventID: eventID, User: msg.User, BotID: msg.BotID, Subtype: msg.SubType,
		Channel: msg.Channel, ThreadTS: msg.ThreadTimeStamp, TS: msg.TimeStamp, Text: msg.Text}
	return func(ctx context.Context) { h.HandleMessage(ctx, m) }
}

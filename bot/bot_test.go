package bot

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/socketmode"

	"github.com/mfabot/mfabot/handlers"
	"github.com/mfabot/mfabot/store"
)

// fakeSocket records acks and runs until its context ends.
type fakeSocket struct {
	mu   sync.Mutex
	acks []string
}

func (f *fakeSocket) RunContext(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }

func (f *fakeSocket) AckCtx(_ context.Context, id string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acks = append(f.acks, id)
	return nil
}

func (f *fakeSocket) acked() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.acks...)
}

// blockingHandler holds every click until released.
type blockingHandler struct {
	release chan struct{}
	mu      sync.Mutex
	clicks  []handlers.Click
	running int
	peak    int
}

func (h *blockingHandler) HandleClick(ctx context.Context, c handlers.Click) {
	h.mu.Lock()
	h.running++
	h.peak = max(h.peak, h.running)
	h.mu.Unlock()
	select {
	case <-h.release:
	case <-ctx.Done(): // shutdown gave up waiting: the click is not done
		h.mu.Lock()
		h.running--
		h.mu.Unlock()
		return
	}
	h.mu.Lock()
	h.running--
	h.clicks = append(h.clicks, c)
	h.mu.Unlock()
}
func (h *blockingHandler) HandleSubmission(context.Context, handlers.Submission) {}
func (h *blockingHandler) HandleMessage(context.Context, handlers.MessageEvent)  {}
func (h *blockingHandler) HandleCommand(context.Context, handlers.SlashRequest)  {}

func click(env, action string) socketmode.Event {
	cb := slack.InteractionCallback{Type: slack.InteractionTypeBlockActions, User: slack.User{ID: "U1"},
		Container: slack.Container{ChannelID: "C1", MessageTs: "1.1"}}
	cb.ActionCallback.BlockActions = []*slack.BlockAction{{ActionID: action, Value: "INC-1"}}
	return socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb, Request: &socketmode.Request{EnvelopeID: env}}
}

// TestAckBeforeWorkBoundedAndDrained checks that every envelope is
// acknowledged while the handlers are still busy, that no more than the
// configured workers run at once, and that shutdown lets them finish.
func TestAckBeforeWorkBoundedAndDrained(t *testing.T) {
	sock := &fakeSocket{}
	events := make(chan socketmode.Event)
	h := &blockingHandler{release: make(chan struct{})}
	b := NewWithSocket(sock, events, h, Options{Workers: 2, Queue: 10, Drain: 10 * time.Second}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()

	for i := range 5 {
		events <- click("env-"+string(rune('a'+i)), handlers.ActionInvestigate)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(sock.acked()) < 5 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := len(sock.acked()); got != 5 {
		t.Fatalf("acks while every handler is blocked: got %d, want 5", got)
	}
	cancel() // shut down with work in flight and queued
	close(h.release)
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.clicks) != 5 {
		t.Fatalf("clicks handled by shutdown: got %d, want all 5 drained", len(h.clicks))
	}
	if h.peak > 2 {
		t.Fatalf("handlers at once: got %d, want at most 2 workers", h.peak)
	}
}

func TestRouting(t *testing.T) {
	cb := slack.InteractionCallback{Type: slack.InteractionTypeViewSubmission, User: slack.User{ID: "U2"},
		View: slack.View{CallbackID: handlers.CallbackApproveReset, PrivateMetadata: "INC-7",
			State: &slack.ViewState{Values: map[string]map[string]slack.BlockAction{
				handlers.BlockVerification: {handlers.ActionVerification: {SelectedOption: slack.OptionBlockObject{Value: "In person"}}},
				handlers.BlockNote:         {handlers.ActionNote: {Value: "ok"}},
			}}}}
	var got handlers.Submission
	h := &recorder{sub: &got}
	job := route(socketmode.Event{Type: socketmode.EventTypeInteractive, Data: cb}, h, nilLogger())
	if job == nil {
		t.Fatal("a view submission routed to nothing")
	}
	job(context.Background())
	if got.User != "U2" || got.Metadata != "INC-7" || got.Values[handlers.BlockVerification][handlers.ActionVerification] != "In person" ||
		got.Values[handlers.BlockNote][handlers.ActionNote] != "ok" {
		t.Fatalf("submission: %+v", got)
	}
	other := slack.SlashCommand{Command: "/other", UserID: "U1"}
	if job := route(socketmode.Event{Type: socketmode.EventTypeSlashCommand, Data: other}, h, nilLogger()); job != nil {
		t.Fatal("another app's slash command was routed")
	}
}

type recorder struct {
	blockingHandler
	sub *handlers.Submission
}

func (r *recorder) HandleSubmission(_ context.Context, s handlers.Submission) { *r.sub = s }

func nilLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// memJournal is a Journal in memory.
type memJournal struct {
	mu      sync.Mutex
	seq     uint64
	entries map[uint64]store.Envelope
}

func (m *memJournal) Add(typ string, payload []byte, at time.Time) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	if m.entries == nil {
		m.entries = map[uint64]store.Envelope{}
	}
	m.entries[m.seq] = store.Envelope{ID: m.seq, Type: typ, Payload: payload, Received: at}
	return m.seq, nil
}

func (m *memJournal) Done(id uint64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.entries, id)
	return nil
}

func (m *memJournal) Pending() ([]store.Envelope, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []store.Envelope
	for i := uint64(1); i <= m.seq; i++ {
		if e, ok := m.entries[i]; ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// TestJournalledWorkSurvivesARestart acknowledges a click, stops the bot
// before its work could run, and checks that the next bot does the work
// and forgets it.
func TestJournalledWorkSurvivesARestart(t *testing.T) {
	j := &memJournal{}
	payload := `{"type":"block_actions","user":{"id":"U9"},"container":{"type":"message","channel_id":"C1","message_ts":"1.1"},"trigger_id":"1.2.x","actions":[{"action_id":"resolve","block_id":"alert_actions","value":"INC-3","type":"button"}]}`
	evt, err := decodeRequest(string(socketmode.EventTypeInteractive), []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	evt.Request = &socketmode.Request{EnvelopeID: "env-1", Type: "interactive", Payload: []byte(payload)}

	// First life: the handler never gets to finish.
	stuck := &blockingHandler{release: make(chan struct{})}
	sock := &fakeSocket{}
	events := make(chan socketmode.Event)
	b := NewWithSocket(sock, events, stuck, Options{Workers: 1, Journal: j, Drain: 50 * time.Millisecond}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	events <- evt
	for len(sock.acked()) == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done // the drain period passes; the job's context is cancelled
	close(stuck.release)
	if p, _ := j.Pending(); len(p) != 1 {
		t.Fatalf("journal after an interrupted click: %d entries, want 1", len(p))
	}

	// Second life: the click is handled from the journal, then forgotten.
	h := &blockingHandler{release: make(chan struct{})}
	close(h.release)
	b = NewWithSocket(&fakeSocket{}, make(chan socketmode.Event), h, Options{Workers: 1, Journal: j}, nil)
	ctx, cancel = context.WithCancel(context.Background())
	go func() { done <- b.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.clicks)
		h.mu.Unlock()
		if n == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if len(h.clicks) != 1 || h.clicks[0].Value != "INC-3" || h.clicks[0].User != "U9" || h.clicks[0].ActionID != "resolve" {
		t.Fatalf("replayed clicks: %+v", h.clicks)
	}
	if p, _ := j.Pending(); len(p) != 0 {
		t.Fatalf("journal after the replay: %d entries, want 0", len(p))
	}
}

package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
)

func newSQS(t *testing.T, sink Sink) (*awsfake.SQS, *SQS, *syncBuffer) {
	t.Helper()
	f := awsfake.NewSQS()
	t.Cleanup(f.Close)
	logger, buf := testLogger()
	return f, NewSQS(f.Client(), f.QueueURL(), sink, logger), buf
}

// start runs src in the background; the returned function stops it and
// checks that Run returned nil.
func start(t *testing.T, ctx context.Context, cancel context.CancelFunc, src *SQS) func() {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- src.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("Run: got %v, want nil", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Run did not return after cancel")
		}
	}
}

func TestSQSRecordsThenDeletes(t *testing.T) {
	sink := &recSink{}
	f, src, _ := newSQS(t, sink)
	sink.before = func() {
		if n := len(f.Deleted()); n != 0 {
			t.Errorf("deleted before Record returned: got %d messages, want 0", n)
		}
	}
	f.Send(signInEvent("1a2b3c4d-0001-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", fBase))
	f.Send(otherEvent) // parseable, no sign-in: deleted too

	ctx, cancel := context.WithCancel(context.Background())
	stop := start(t, ctx, cancel, src)
	waitFor(t, "both messages deleted", func() bool { return len(f.Deleted()) == 2 })
	stop()

	calls, events := sink.snapshot()
	if calls != 1 || len(events) != 1 {
		t.Fatalf("Record: got %d calls, %d events, want 1, 1", calls, len(events))
	}
	e := events[0]
	if e.EventID != "1a2b3c4d-0001-4e5f-8a9b-0c1d2e3f4a5b" || e.UserName != "nadia.okoro" || e.Outcome != cloudtrail.Failure || !e.Time.Equal(fBase) {
		t.Fatalf("event: got %+v", e)
	}
	recv := f.CallsTo("ReceiveMessage")[0].Params
	if recv["MaxNumberOfMessages"] != float64(10) || recv["WaitTimeSeconds"] != float64(20) {
		t.Fatalf("ReceiveMessage params: got %v, want MaxNumberOfMessages 10, WaitTimeSeconds 20", recv)
	}
	names, _ := recv["MessageSystemAttributeNames"].([]any)
	if !slices.Contains(names, any("ApproximateReceiveCount")) {
		t.Fatalf("MessageSystemAttributeNames: got %v, want ApproximateReceiveCount", names)
	}
	if n := len(f.CallsTo("DeleteMessageBatch")); n != 1 {
		t.Fatalf("DeleteMessageBatch calls: got %d, want 1", n)
	}
}

func TestSQSUnparseableLeftOnQueueAndLogged(t *testing.T) {
	sink := &recSink{}
	f, src, logs := newSQS(t, sink)
	src.WaitTime = time.Second
	bad := map[string]string{
		f.Send("this is not JSON"):  "not JSON",
		f.Send(`{"hello":"world"}`): "no CloudTrail or EventBridge event",
		f.Send(eventBridge("AWS Console Sign In via CloudTrail", "aws.signin",
			`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventTime":"2026-05-11T08:00:00Z","userIdentity":"oops"}`)): "userIdentity",
	}

	ctx, cancel := context.WithCancel(context.Background())
	stop := start(t, ctx, cancel, src)
	time.Sleep(400 * time.Millisecond)
	stop()

	if n := len(f.Deleted()); n != 0 {
		t.Fatalf("deleted: got %d, want 0", n)
	}
	if calls, _ := sink.snapshot(); calls != 0 {
		t.Fatalf("Record calls: got %d, want 0", calls)
	}
	// The messages stay hidden for the visibility timeout: one receive
	// got them, the next long-polled until the stop.
	if n := len(f.CallsTo("ReceiveMessage")); n > 2 {
		t.Fatalf("ReceiveMessage calls in 400ms: got %d, want at most 2", n)
	}
	out := logs.String()
	for id, reason := range bad {
		line := ""
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "message_id="+id) {
				line = l
			}
		}
		if line == "" || !strings.Contains(line, reason) || !strings.Contains(line, "receive_count=1") {
			t.Fatalf("log for message %s: got %q, want its reason %q and receive_count=1\n%s", id, line, reason, out)
		}
	}
	if n := len(f.InFlight()); n != 3 {
		t.Fatalf("in flight: got %d, want 3", n)
	}
}

func TestSQSUnparseableDoesNotHammerWithZeroVisibility(t *testing.T) {
	sink := &recSink{}
	f, src, _ := newSQS(t, sink)
	f.SetVisibilityTimeout(0) // the bad message is visible again at once
	id := f.Send("garbage")
	ctx, cancel := context.WithCancel(context.Background())
	sl := &fakeSleeper{limit: 2 * time.Second, cancel: cancel}
	src.Sleep = sl.Sleep
	if err := src.Run(ctx); err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	// Receives at 0, 0.1, 0.3, 0.7 and 1.5 s of fake time; the next wait
	// would end at 3.1 s, past the limit.
	if n := len(f.CallsTo("ReceiveMessage")); n != 5 {
		t.Fatalf("ReceiveMessage calls over 2s of fake time: got %d, want 5", n)
	}
	want := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond, 1600 * time.Millisecond}
	if got := sl.delays(); !slices.Equal(got, want) {
		t.Fatalf("waits: got %v, want %v", got, want)
	}
	vis := f.Visible()
	if len(vis) != 1 || vis[0].ID != id || len(f.Deleted()) != 0 {
		t.Fatalf("queue: got visible %v, deleted %v, want the bad message kept", vis, f.Deleted())
	}
}

func TestSQSRecordFailureKeepsMessage(t *testing.T) {
	sink := &recSink{failN: 2}
	f, src, logs := newSQS(t, sink)
	f.SetVisibilityTimeout(0)
	f.Send(signInEvent("1a2b3c4d-0002-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", fBase))
	sink.before = func() {
		if n := len(f.Deleted()); n != 0 {
			t.Errorf("deleted while Record was failing: got %d, want 0", n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	sl := &fakeSleeper{maxN: 50, cancel: cancel}
	src.Sleep = sl.Sleep
	stop := start(t, ctx, cancel, src)
	waitFor(t, "the message deleted", func() bool { return len(f.Deleted()) == 1 })
	stop()

	calls, events := sink.snapshot()
	if calls < 3 || len(events) != 1 {
		t.Fatalf("Record: got %d calls, %d events, want >= 3 calls, 1 event", calls, len(events))
	}
	if got := sl.delays(); len(got) < 2 || got[0] != 100*time.Millisecond || got[1] != 200*time.Millisecond {
		t.Fatalf("waits after failed Records: got %v, want [100ms 200ms ...]", got)
	}
	if !strings.Contains(logs.String(), "store unavailable") {
		t.Fatalf("log lacks the Record error:\n%s", logs.String())
	}
}

func TestSQSReceiveErrorsBackOff(t *testing.T) {
	sink := &recSink{}
	f, src, logs := newSQS(t, sink)
	src.WaitTime = 0
	src.IdleWait = time.Second
	src.MaxBackoff = 300 * time.Millisecond
	f.Fail("ReceiveMessage", 4, awsfake.FaultSpec{Code: "ExpiredToken", Status: 403, Message: "The security token included in the request is expired"})
	f.Fail("ReceiveMessage", 1, awsfake.FaultSpec{Latency: time.Millisecond}) // served normally
	f.Fail("ReceiveMessage", 1, awsfake.FaultSpec{Code: "InternalError"})
	f.Send(signInEvent("1a2b3c4d-0003-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Success", fBase))

	ctx, cancel := context.WithCancel(context.Background())
	sl := &fakeSleeper{maxN: 7, cancel: cancel}
	src.Sleep = sl.Sleep
	if err := src.Run(ctx); err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	ms := time.Millisecond
	// Four errors (capped at 300ms), a batch that resets the backoff
	// (no wait), one more error, then an empty short poll.
	want := []time.Duration{100 * ms, 200 * ms, 300 * ms, 300 * ms, 100 * ms, time.Second}
	if got := sl.delays(); len(got) < len(want) || !slices.Equal(got[:len(want)], want) {
		t.Fatalf("waits: got %v, want %v...", got, want)
	}
	if len(f.Deleted()) != 1 {
		t.Fatalf("deleted: got %d, want 1", len(f.Deleted()))
	}
	out := logs.String()
	if !strings.Contains(out, "code=ExpiredToken") || !strings.Contains(out, "credentials") || !strings.Contains(out, "level=ERROR") {
		t.Fatalf("log does not report the expired credentials clearly:\n%s", out)
	}
	if strings.Contains(out, awsfake.SecretAccessKey+" ") || strings.Contains(out, "Signature=") {
		t.Fatalf("log leaks request signing material:\n%s", out)
	}
}

func TestSQSRunNeedsConfiguration(t *testing.T) {
	if err := NewSQS(nil, "", nil, nil).Run(context.Background()); err == nil {
		t.Fatalf("Run without queue: got nil error, want one")
	}
}

// TestSQSReceiversShareTheBacklog queues a backlog: more receive loops
// than one record at once (never more than Receivers), and every message is
// recorded and deleted once.
func TestSQSReceiversShareTheBacklog(t *testing.T) {
	var inFlight, most atomic.Int32
	sink := &recSink{} // it holds a lock in Record: count outside it
	f, src, _ := newSQS(t, sinkFunc(func(ctx context.Context, evs []cloudtrail.SignIn) error {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		time.Sleep(5 * time.Millisecond) // a commit
		return sink.Record(ctx, evs)
	}))
	src.Receivers = 4
	const n = 300
	for i := range n {
		f.Send(signInEvent(fmt.Sprintf("1a2b3c4d-%04d-4e5f-8a9b-0c1d2e3f4a5b", i), "nadia.okoro", "198.51.100.23", "Failure", fBase.Add(time.Duration(i)*time.Second)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	stop := start(t, ctx, cancel, src)
	waitFor(t, "every message deleted", func() bool { return len(f.Deleted()) == n })
	stop()
	if m := most.Load(); m < 2 || m > 4 {
		t.Fatalf("Records at once: at most %d, want 2 to 4", m)
	}
	_, events := sink.snapshot()
	seen := map[string]bool{}
	for _, e := range events {
		if seen[e.EventID] {
			t.Fatalf("event %s recorded twice", e.EventID)
		}
		seen[e.EventID] = true
	}
	if len(seen) != n {
		t.Fatalf("events recorded: %d, want %d", len(seen), n)
	}
}

type sinkFunc func(context.Context, []cloudtrail.SignIn) error

func (f sinkFunc) Record(ctx context.Context, evs []cloudtrail.SignIn) error { return f(ctx, evs) }

// TestParseBodiesMatchesParseBody: decoding a receive's bodies together
// gives every message exactly what decoding it alone gives, whatever else
// is in the receive.
func TestParseBodiesMatchesParseBody(t *testing.T) {
	good := func(i int) string {
		return signInEvent(fmt.Sprintf("5e6f7a8b-%04d-4c5d-9e0f-1a2b3c4d5e6f", i), "nadia.okoro", "198.51.100.23", "Failure", fBase.Add(time.Duration(i)*time.Second))
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(good(90)), "", "  "); err != nil {
		t.Fatal(err)
	}
	others := []string{
		"this is not JSON",
		`{"hello":"world"}`,
		otherEvent,
		eventBridge("AWS Console Sign In via CloudTrail", "aws.signin",
			`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","eventTime":"2026-05-11T08:00:00Z","userIdentity":"oops"}`),
		good(91) + " " + good(92), // two events on one line
		pretty.String(),
		`{"Records":[` + consoleLogin("5e6f7a8b-0093-4c5d-9e0f-1a2b3c4d5e6f", "ines.moreau", "192.0.2.7", "Failure", fBase) + `]}`,
		"",
		"{",
	}
	cases := [][]string{{good(1), good(2), good(3)}}
	for i, o := range others {
		cases = append(cases, []string{good(10 * i), o, good(10*i + 1)}, []string{o, good(10*i + 2)}, []string{o})
	}
	for _, bodies := range cases {
		var msgs []types.Message
		for i, b := range bodies {
			msgs = append(msgs, types.Message{MessageId: aws.String(fmt.Sprint("m", i)), Body: aws.String(b)})
		}
		ins, reasons, err := parseBodies(context.Background(), msgs)
		if err != nil {
			t.Fatal(err)
		}
		for i, m := range msgs {
			wantIns, wantReason, err := parseBody(context.Background(), m)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ins[i], wantIns) || reasons[i] != wantReason {
				t.Errorf("body %q among %d: got %d sign-ins, reason %q; alone: %d sign-ins, reason %q",
					bodies[i], len(bodies), len(ins[i]), reasons[i], len(wantIns), wantReason)
			}
		}
	}
}

// TestBufferedRequestBody: the client below sees its own copy of the body,
// which closing the original does not touch.
func TestBufferedRequestBody(t *testing.T) {
	var got []byte
	var orig io.ReadCloser
	next := doerFunc(func(r *http.Request) (*http.Response, error) {
		orig.Close() // as the SDK may, while net/http still reads the body
		b, err := io.ReadAll(r.Body)
		got = b
		if r.ContentLength != int64(len(b)) {
			t.Errorf("content length %d for %d bytes", r.ContentLength, len(b))
		}
		return &http.Response{StatusCode: 200, Body: http.NoBody}, err
	})
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", strings.NewReader(`{"QueueUrl":"q"}`))
	if err != nil {
		t.Fatal(err)
	}
	orig = req.Body
	if _, err := (bufferedBodyClient{next}).Do(req); err != nil {
		t.Fatal(err)
	}
	if string(got) != `{"QueueUrl":"q"}` {
		t.Fatalf("body below: %q", got)
	}
}

type doerFunc func(*http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
)

// Fixture values, made up for these tests (account 123456789012, RFC 5737
// addresses).
const (
	fAccount = "123456789012"
	fAgent   = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
)

var fBase = time.Date(2026, 5, 11, 8, 0, 0, 0, time.UTC)

// consoleLogin returns a ConsoleLogin record of an IAM user.
func consoleLogin(id, user, ip, outcome string, at time.Time) string {
	ident := map[string]any{"type": "IAMUser", "principalId": "AIDAFAKEEXAMPLE00001", "accountId": fAccount, "accessKeyId": "", "userName": user}
	rec := map[string]any{
		"eventVersion": "1.11", "userIdentity": ident, "eventTime": at.UTC().Format(time.RFC3339),
		"eventSource": "signin.amazonaws.com", "eventName": "ConsoleLogin", "awsRegion": "us-east-1",
		"sourceIPAddress": ip, "userAgent": fAgent, "requestParameters": nil,
		"responseElements":    map[string]any{"ConsoleLogin": outcome},
		"additionalEventData": map[string]any{"MobileVersion": "No", "MFAUsed": "Yes"},
		"eventID":             id, "readOnly": false, "eventType": "AwsConsoleSignIn", "managementEvent": true,
		"recipientAccountId": fAccount, "eventCategory": "Management",
	}
	if outcome == "Failure" {
		rec["errorMessage"] = "Failed authentication"
	} else {
		ident["arn"] = "arn:aws:iam::" + fAccount + ":user/" + user
	}
	b, err := json.Marshal(rec)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// eventBridge wraps a record in an EventBridge event.
func eventBridge(detailType, source, record string) string {
	return `{"version":"0","id":"0d9f2c4e-1111-4a2b-8c3d-4e5f6a7b8c9d","detail-type":"` + detailType +
		`","source":"` + source + `","account":"` + fAccount + `","time":"2026-05-11T08:00:00Z","region":"us-east-1","resources":[],"detail":` + record + `}`
}

func signInEvent(id, user, ip, outcome string, at time.Time) string {
	return eventBridge("AWS Console Sign In via CloudTrail", "aws.signin", consoleLogin(id, user, ip, outcome, at))
}

// otherEvent is a parseable EventBridge event that is not a sign-in.
const otherEvent = `{"version":"0","id":"5a6b7c8d-2222-4e3f-9a0b-1c2d3e4f5a6b","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"123456789012","time":"2026-05-11T08:00:00Z","region":"us-east-1","resources":[],` +
	`"detail":{"eventVersion":"1.11","eventTime":"2026-05-11T08:00:00Z","eventSource":"iam.amazonaws.com","eventName":"ListUsers","awsRegion":"us-east-1","eventID":"9f8e7d6c-3333-4b5a-8c7d-6e5f4a3b2c1d","eventType":"AwsApiCall"}}`

// recSink records what it is given; it fails while failN > 0.
type recSink struct {
	mu     sync.Mutex
	calls  int
	events []cloudtrail.SignIn
	sizes  []int
	failN  int
	before func() // runs inside Record, before the events are kept
}

var errSinkDown = errors.New("store unavailable")

func (s *recSink) Record(ctx context.Context, events []cloudtrail.SignIn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.before != nil {
		s.before()
	}
	if s.failN > 0 {
		s.failN--
		return errSinkDown
	}
	s.events = append(s.events, events...)
	s.sizes = append(s.sizes, len(events))
	return nil
}

func (s *recSink) snapshot() (calls int, events []cloudtrail.SignIn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]cloudtrail.SignIn(nil), s.events...)
}

// fakeSleeper records the waits asked for, advances a fake clock by them
// and returns at once; after limit of fake time it cancels the run.
type fakeSleeper struct {
	mu     sync.Mutex
	now    time.Duration
	ds     []time.Duration
	limit  time.Duration
	maxN   int
	cancel context.CancelFunc
}

func (f *fakeSleeper) Sleep(ctx context.Context, d time.Duration) error {
	f.mu.Lock()
	f.ds = append(f.ds, d)
	f.now += d
	stop := (f.limit > 0 && f.now > f.limit) || (f.maxN > 0 && len(f.ds) >= f.maxN)
	f.mu.Unlock()
	if stop {
		f.cancel()
	}
	return ctx.Err()
}

func (f *fakeSleeper) delays() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.ds...)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger() (*slog.Logger, *syncBuffer) {
	buf := &syncBuffer{}
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})), buf
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

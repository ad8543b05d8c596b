package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/mfabot/mfabot/internal/cloudtrail"
)

// SQSAPI lists the SQS operations the queue source calls; *sqs.Client
// satisfies it.
type SQSAPI interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, optFns ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessageBatch(ctx context.Context, in *sqs.DeleteMessageBatchInput, optFns ...func(*sqs.Options)) (*sqs.DeleteMessageBatchOutput, error)
}

// SQS reads EventBridge sign-in events from an SQS queue. A message is
// deleted only after its events are recorded. A message that cannot be
// parsed is logged and left on the queue: it becomes visible again after
// the visibility timeout, and the queue's redrive policy eventually moves
// it to the dead-letter queue.
type SQS struct {
	api      SQSAPI
	queueURL string
	sink     Sink
	log      *slog.Logger

	// WaitTime is the long-poll wait of each receive (0-20 s). Default 20 s.
	WaitTime time.Duration
	// MinBackoff is the first wait after a receive error, a failed Record
	// or a batch with nothing usable; it doubles up to MaxBackoff and is
	// reset by a batch that makes progress. Defaults 100 ms and 30 s.
	MinBackoff, MaxBackoff time.Duration
	// IdleWait is the pause after an empty receive when WaitTime is 0
	// (short polling), so an empty queue is not polled in a loop; after an
	// empty long poll the pause is MinBackoff. Default 1 s.
	IdleWait time.Duration
	// Sleep waits between receives; tests replace it.
	Sleep Sleeper
	// Receivers bounds the receive loops that run at once. One loop
	// long-polls the queue. While the queue has a backlog (a receive
	// returns a full batch of 10), up to Receivers-1 more receive,
	// parse and record alongside it, so that parsing overlaps the
	// store's commits and concurrent batches share one commit; each of
	// them stops at its first receive that is not a full batch, and
	// never waits or backs off (the first loop does). Default 8; 1 or
	// less means the one loop.
	Receivers int

	helpers atomic.Int32   // extra loops running
	wg      sync.WaitGroup // the extra loops
}

// NewSQS returns a queue source with the defaults. A nil logger discards
// logs.
func NewSQS(api SQSAPI, queueURL string, sink Sink, logger *slog.Logger) *SQS {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &SQS{
		api: api, queueURL: queueURL, sink: sink, log: logger,
		WaitTime: 20 * time.Second, MinBackoff: 100 * time.Millisecond, MaxBackoff: 30 * time.Second,
		IdleWait: time.Second, Sleep: Sleep, Receivers: DefaultSQSReceivers,
	}
}

// DefaultSQSReceivers is the default of SQS.Receivers.
const DefaultSQSReceivers = 8

// batchResult is what one receive achieved.
type batchResult int

const (
	progressed batchResult = iota // some messages were recorded and deleted
	idle                          // the queue had nothing
	stalled                       // an error, or nothing usable: back off
)

// Run receives, records and deletes messages until ctx ends, then returns
// nil. Errors are logged and retried with exponential backoff; Run never
// polls in a tight loop. It returns an error only when misconfigured.
func (s *SQS) Run(ctx context.Context) error {
	if s.queueURL == "" || s.sink == nil || s.api == nil {
		return errors.New("sqs source: queue URL, SQS client and sink are required")
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	minB, maxB := s.MinBackoff, s.MaxBackoff
	if minB <= 0 {
		minB = 100 * time.Millisecond
	}
	if maxB < minB {
		maxB = max(30*time.Second, minB)
	}
	defer s.wg.Wait()
	waitSeconds := int32(min(max(s.WaitTime, 0), 20*time.Second) / time.Second)
	delay := minB
	for ctx.Err() == nil {
		var wait time.Duration
		res, full := s.poll(ctx, waitSeconds)
		if res == progressed && full {
			s.addHelper(ctx)
		}
		switch res {
		case progressed:
			delay = minB
		case idle:
			// A long poll already waited; the short pause guards
			// against a receive that returns early every time.
			delay, wait = minB, minB
			if s.WaitTime <= 0 {
				wait = max(s.IdleWait, minB)
			}
		case stalled:
			wait = delay
			delay = min(2*delay, maxB)
		}
		if wait > 0 && sleep(ctx, wait) != nil {
			break
		}
	}
	return nil
}

// addHelper starts one more receive loop if fewer than Receivers run. A
// helper short-polls (the backlog is there to take), and stops at its first
// receive that is not a full batch, or that fails: the first loop handles
// idling and backing off.
func (s *SQS) addHelper(ctx context.Context) {
	if int(s.helpers.Add(1)) > s.Receivers-1 {
		s.helpers.Add(-1)
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.helpers.Add(-1)
		for ctx.Err() == nil {
			if res, full := s.poll(ctx, 0); res != progressed || !full {
				return
			}
		}
	}()
}

// poll runs one receive, waiting up to wait seconds, and handles its
// messages. full reports a receive of as many messages as one may return.
func (s *SQS) poll(ctx context.Context, wait int32) (res batchResult, full bool) {
	const maxMessages = 10
	out, err := s.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(s.queueURL),
		MaxNumberOfMessages:         maxMessages,
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	}, bufferRequestBody)
	if err != nil {
		if ctx.Err() != nil {
			return stalled, false
		}
		s.logAWSError(ctx, "sqs receive failed", err)
		return stalled, false
	}
	if len(out.Messages) == 0 {
		return idle, false
	}
	full = len(out.Messages) >= maxMessages

	parsed, reasons, err := parseBodies(ctx, out.Messages)
	if err != nil {
		return stalled, full // ctx ended
	}
	var events []cloudtrail.SignIn
	var done []types.Message
	for i, m := range out.Messages {
		ins, reason := parsed[i], reasons[i]
		if reason != "" {
			s.log.WarnContext(ctx, "sqs message not parseable; left on the queue for its redrive policy",
				"message_id", aws.ToString(m.MessageId), "receive_count", receiveCount(m), "reason", reason)
			continue
		}
		events = append(events, ins...)
		done = append(done, m)
	}
	if len(done) == 0 {
		return stalled, full
	}
	if len(events) > 0 {
		if err := s.sink.Record(ctx, events); err != nil {
			s.log.ErrorContext(ctx, "recording sqs events failed; messages left on the queue",
				"messages", len(done), "events", len(events), "err", err)
			return stalled, full
		}
	}
	if !s.delete(ctx, done) {
		return stalled, full
	}
	s.log.DebugContext(ctx, "sqs batch recorded", "messages", len(done), "events", len(events))
	return progressed, full
}

// delete deletes recorded messages and reports whether the request went
// through. Messages it fails to delete come back and are recorded again;
// the sink ignores the repeated event IDs.
func (s *SQS) delete(ctx context.Context, msgs []types.Message) bool {
	entries := make([]types.DeleteMessageBatchRequestEntry, len(msgs))
	ids := map[string]string{}
	for i, m := range msgs {
		id := "m" + strconv.Itoa(i)
		entries[i] = types.DeleteMessageBatchRequestEntry{Id: aws.String(id), ReceiptHandle: m.ReceiptHandle}
		ids[id] = aws.ToString(m.MessageId)
	}
	out, err := s.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.queueURL), Entries: entries}, bufferRequestBody)
	if err != nil {
		if ctx.Err() == nil {
			s.logAWSError(ctx, "sqs delete failed; recorded messages will be delivered again", err)
		}
		return false
	}
	for _, f := range out.Failed {
		s.log.WarnContext(ctx, "sqs message not deleted; it will be delivered again",
			"message_id", ids[aws.ToString(f.Id)], "code", aws.ToString(f.Code), "reason", aws.ToString(f.Message))
	}
	return true
}

// bufferRequestBody hands net/http a copy of each request's body. The SDK
// closes a request's body as soon as the response headers arrive, while
// net/http's writer may not be done with it: the writer then fails and
// closes the connection under the response, whose body is lost although
// SQS answered. For ReceiveMessage that hides the messages SQS handed out
// until their visibility timeout ends (30 s by default). Seen on 1-5% of
// receives against the local SQS fake from another process, whether or not
// the SDK retries, and never with a body nobody else closes, which is what
// this gives net/http; the bodies are small.
func bufferRequestBody(o *sqs.Options) {
	if o.HTTPClient != nil {
		o.HTTPClient = bufferedBodyClient{o.HTTPClient}
	}
}

type bufferedBodyClient struct{ next sqs.HTTPClient }

func (c bufferedBodyClient) Do(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return c.next.Do(r)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	cp := r.Clone(r.Context())
	cp.Body = io.NopCloser(bytes.NewReader(body))
	cp.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	cp.ContentLength = int64(len(body))
	return c.next.Do(cp)
}

// logAWSError logs an AWS call's failure with its error code, loudly when
// the credentials are the problem.
func (s *SQS) logAWSError(ctx context.Context, msg string, err error) {
	code := errorCode(err)
	if credentialCodes[code] {
		s.log.ErrorContext(ctx, msg+": check the bot's AWS credentials and permissions", "code", code, "queue", s.queueURL, "err", err)
		return
	}
	s.log.WarnContext(ctx, msg, "code", code, "queue", s.queueURL, "err", err)
}

// parseBodies decodes the bodies of one receive: ins[i] holds the sign-ins
// of msgs[i], and reasons[i] says why msgs[i] is unusable, if it is. err is
// set only when ctx ended.
//
// The usual body is one EventBridge event on one line. Such bodies are
// decoded together, as the lines of one JSON Lines input: one decode with
// one set of buffers for the whole receive, each sign-in going to the body
// on whose line it starts. Whenever that decode reports a problem, and for
// every body that gave no sign-in there or is not a one-line object, the
// body is decoded on its own by parseBody, so that what is reported about
// a message never depends on the other messages of its receive.
func parseBodies(ctx context.Context, msgs []types.Message) (ins [][]cloudtrail.SignIn, reasons []string, err error) {
	ins = make([][]cloudtrail.SignIn, len(msgs))
	reasons = make([]string, len(msgs))
	var joined []byte
	var lines []int // the message on each line of joined
	for i, m := range msgs {
		if body := strings.TrimSpace(aws.ToString(m.Body)); oneLineObject(body) {
			joined = append(append(joined, body...), '\n')
			lines = append(lines, i)
		}
	}
	together := len(lines) > 1
	if together {
		_, derr := cloudtrail.Decode(ctx, bytes.NewReader(joined), "sqs receive", cloudtrail.Handler{
			SignIn: func(si cloudtrail.SignIn, p cloudtrail.Position) error {
				if p.Line < 1 || p.Line > len(lines) {
					together = false
					return nil
				}
				i := lines[p.Line-1]
				ins[i] = append(ins[i], si)
				return nil
			},
			Problem: func(cloudtrail.Problem) { together = false },
		})
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		if derr != nil {
			together = false
		}
	}
	for i, m := range msgs {
		if together && len(ins[i]) > 0 {
			continue
		}
		if ins[i], reasons[i], err = parseBody(ctx, m); err != nil {
			return nil, nil, err
		}
	}
	return ins, reasons, nil
}

// oneLineObject reports whether body can be decoded as one line among
// others: a JSON object on one line that is not a CloudTrail log file.
func oneLineObject(body string) bool {
	return strings.HasPrefix(body, "{") && !strings.ContainsAny(body, "\r\n") &&
		!strings.HasPrefix(strings.TrimLeft(body[1:], " \t"), `"Records"`)
}

// parseBody decodes a message body as CloudTrail input (normally one
// EventBridge event). reason is set when the message is unusable; err only
// when ctx ended.
func parseBody(ctx context.Context, m types.Message) (ins []cloudtrail.SignIn, reason string, err error) {
	body := aws.ToString(m.Body)
	if strings.TrimSpace(body) == "" {
		return nil, "empty body", nil
	}
	var problems []string
	st, derr := cloudtrail.Decode(ctx, strings.NewReader(body), "sqs:"+aws.ToString(m.MessageId), cloudtrail.Handler{
		SignIn:  func(s cloudtrail.SignIn, _ cloudtrail.Position) error { ins = append(ins, s); return nil },
		Problem: func(p cloudtrail.Problem) { problems = append(problems, p.Reason) },
	})
	switch {
	case ctx.Err() != nil:
		return nil, "", ctx.Err()
	case derr != nil:
		return nil, derr.Error(), nil
	case len(problems) > 0:
		return nil, strings.Join(problems, "; "), nil
	// A body that gave sign-ins held an event; only one that gave none
	// needs the closer look (which parses it again).
	case st.Records == 0 || len(ins) == 0 && !hasEvent(body):
		return nil, "no CloudTrail or EventBridge event in the body", nil
	}
	return ins, "", nil
}

// hasEvent reports whether a body that decoded cleanly holds an event: a
// JSON object with a key of an EventBridge event, a CloudTrail record, a
// log file or a CloudWatch Logs event. Arrays and JSON Lines are trusted to
// the decoder.
func hasEvent(body string) bool {
	trimmed := strings.TrimSpace(body)
	if !strings.HasPrefix(trimmed, "{") {
		return true
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal([]byte(trimmed), &keys); err != nil {
		return true // several values: the decoder read them
	}
	for _, k := range []string{"detail", "eventName", "eventSource", "Records", "message"} {
		if _, ok := keys[k]; ok {
			return true
		}
	}
	return false
}

// receiveCount returns the message's ApproximateReceiveCount, or "".
func receiveCount(m types.Message) string {
	return m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)]
}

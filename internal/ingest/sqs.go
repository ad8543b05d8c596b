package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
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
		IdleWait: time.Second, Sleep: Sleep,
	}
}

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
	delay := minB
	for ctx.Err() == nil {
		var wait time.Duration
		switch s.poll(ctx) {
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

// poll runs one receive and handles its messages.
func (s *SQS) poll(ctx context.Context) batchResult {
	wait := int32(min(max(s.WaitTime, 0), 20*time.Second) / time.Second)
	out, err := s.api.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(s.queueURL),
		MaxNumberOfMessages:         10,
		WaitTimeSeconds:             wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		if ctx.Err() != nil {
			return stalled
		}
		s.logAWSError(ctx, "sqs receive failed", err)
		return stalled
	}
	if len(out.Messages) == 0 {
		return idle
	}

	var events []cloudtrail.SignIn
	var done []types.Message
	for _, m := range out.Messages {
		ins, reason, err := parseBody(ctx, m)
		if err != nil {
			return stalled // ctx ended
		}
		if reason != "" {
			s.log.WarnContext(ctx, "sqs message not parseable; left on the queue for its redrive policy",
				"message_id", aws.ToString(m.MessageId), "receive_count", receiveCount(m), "reason", reason)
			continue
		}
		events = append(events, ins...)
		done = append(done, m)
	}
	if len(done) == 0 {
		return stalled
	}
	if len(events) > 0 {
		if err := s.sink.Record(ctx, events); err != nil {
			s.log.ErrorContext(ctx, "recording sqs events failed; messages left on the queue",
				"messages", len(done), "events", len(events), "err", err)
			return stalled
		}
	}
	if !s.delete(ctx, done) {
		return stalled
	}
	s.log.DebugContext(ctx, "sqs batch recorded", "messages", len(done), "events", len(events))
	return progressed
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
	out, err := s.api.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(s.queueURL), Entries: entries})
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
	case st.Records == 0 || !hasEvent(body):
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

package awsfake

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
)

// testEvent is a made-up EventBridge-style payload for the SQS tests.
const testEvent = `{"detail-type":"AWS Console Sign In via CloudTrail","detail":{"eventName":"ConsoleLogin","userIdentity":{"userName":"tomas.lindqvist"}}}`

func newTestSQS(t *testing.T) (*SQS, *sqs.Client) {
	t.Helper()
	f := NewSQS()
	t.Cleanup(f.Close)
	return f, f.Client()
}

func receiveOne(t *testing.T, client *sqs.Client, url string, wait int32) *types.Message {
	t.Helper()
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 1, WaitTimeSeconds: wait,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: got %v, want nil", err)
	}
	if len(out.Messages) == 0 {
		return nil
	}
	return &out.Messages[0]
}

func TestSQSSendReceiveDelete(t *testing.T) {
	f, client := newTestSQS(t)
	ctx := context.Background()
	urlOut, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(DefaultQueueName)})
	if err != nil {
		t.Fatalf("GetQueueUrl: got %v, want nil", err)
	}
	url := aws.ToString(urlOut.QueueUrl)
	if url != f.QueueURL() {
		t.Fatalf("queue URL: got %q, want %q", url, f.QueueURL())
	}

	// The SDK validates MD5OfMessageBody and would fail this call on a bad digest.
	sent, err := client.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl: aws.String(url), MessageBody: aws.String(testEvent),
		MessageAttributes: map[string]types.MessageAttributeValue{
			"source":  {DataType: aws.String("String"), StringValue: aws.String("aws.signin")},
			"attempt": {DataType: aws.String("Number"), StringValue: aws.String("3")},
			"raw":     {DataType: aws.String("Binary"), BinaryValue: []byte{0x1f, 0x8b, 0x00}},
		},
	})
	if err != nil {
		t.Fatalf("SendMessage: got %v, want nil", err)
	}
	// The digest must match the SQS algorithm (checked against published values in md5_test.go).
	if got := aws.ToString(sent.MD5OfMessageAttributes); got != md5OfAttributes(map[string]MessageAttribute{
		"source": {DataType: "String", StringValue: "aws.signin"}, "attempt": {DataType: "Number", StringValue: "3"},
		"raw": {DataType: "Binary", BinaryValue: []byte{0x1f, 0x8b, 0x00}},
	}) || len(got) != 32 {
		t.Fatalf("MD5OfMessageAttributes: got %q, want a 32-digit digest", got)
	}

	out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl: aws.String(url), MaxNumberOfMessages: 10,
		MessageAttributeNames:       []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameSentTimestamp},
	})
	if err != nil {
		t.Fatalf("ReceiveMessage: got %v, want nil", err)
	}
	if len(out.Messages) != 1 {
		t.Fatalf("messages: got %d, want %d", len(out.Messages), 1)
	}
	m := out.Messages[0]
	if aws.ToString(m.Body) != testEvent || aws.ToString(m.MessageId) != aws.ToString(sent.MessageId) {
		t.Fatalf("message: got id %s body %q, want id %s body %q", aws.ToString(m.MessageId), aws.ToString(m.Body), aws.ToString(sent.MessageId), testEvent)
	}
	if m.MessageAttributes["raw"].BinaryValue[1] != 0x8b || aws.ToString(m.MessageAttributes["source"].StringValue) != "aws.signin" {
		t.Fatalf("message attributes: got %+v, want source and raw", m.MessageAttributes)
	}
	if aws.ToString(m.MD5OfMessageAttributes) != aws.ToString(sent.MD5OfMessageAttributes) {
		t.Fatalf("received attribute digest: got %s, want %s", aws.ToString(m.MD5OfMessageAttributes), aws.ToString(sent.MD5OfMessageAttributes))
	}
	if _, err := strconv.ParseInt(m.Attributes["SentTimestamp"], 10, 64); err != nil || len(m.Attributes) != 1 {
		t.Fatalf("system attributes: got %v, want only SentTimestamp", m.Attributes)
	}
	if n := len(f.InFlight()); n != 1 {
		t.Fatalf("in flight: got %d, want %d", n, 1)
	}

	if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
		t.Fatalf("DeleteMessage: got %v, want nil", err)
	}
	if got := f.Deleted(); len(got) != 1 || got[0].Body != testEvent {
		t.Fatalf("deleted: got %v, want the sent message", got)
	}
	if n := len(f.InFlight()) + len(f.Visible()); n != 0 {
		t.Fatalf("left in queue: got %d, want %d", n, 0)
	}
	_, err = client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String("never-issued")})
	var rhi *types.ReceiptHandleIsInvalid
	if !errors.As(err, &rhi) {
		t.Fatalf("unknown handle: got %v, want *types.ReceiptHandleIsInvalid", err)
	}
}

func TestSQSLongPollWakesOnSend(t *testing.T) {
	f, client := newTestSQS(t)
	go func() {
		time.Sleep(50 * time.Millisecond)
		sender := f.Client()
		_, _ = sender.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.QueueURL()), MessageBody: aws.String(testEvent)})
	}()
	began := time.Now()
	m := receiveOne(t, client, f.QueueURL(), 10)
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Fatalf("long poll returned after %v, want well under the 10s wait", elapsed)
	}
	if m == nil || aws.ToString(m.Body) != testEvent {
		t.Fatalf("message: got %v, want the sent message", m)
	}
}

func TestSQSLongPollEndsWithContext(t *testing.T) {
	f, client := newTestSQS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL()), WaitTimeSeconds: 20})
	if err == nil {
		t.Fatalf("ReceiveMessage: got nil error, want a context error")
	}
	if elapsed := time.Since(began); elapsed > 2*time.Second {
		t.Fatalf("returned after %v, want about 100ms", elapsed)
	}
	out, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL()), WaitTimeSeconds: 0})
	if err != nil || len(out.Messages) != 0 {
		t.Fatalf("short poll on empty queue: got %v, %d messages, want nil and 0", err, len(out.Messages))
	}
}

func TestSQSVisibilityTimeout(t *testing.T) {
	f, client := newTestSQS(t)
	clock := NewManualClock(time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC))
	f.SetClock(clock)
	f.SetVisibilityTimeout(30 * time.Second)
	f.Send(testEvent)

	first := receiveOne(t, client, f.QueueURL(), 0)
	if first == nil || first.Attributes["ApproximateReceiveCount"] != "1" {
		t.Fatalf("first receive: got %v, want receive count 1", first)
	}
	if m := receiveOne(t, client, f.QueueURL(), 0); m != nil {
		t.Fatalf("during timeout: got %v, want no message", m)
	}
	clock.Advance(31 * time.Second)
	if n := len(f.Visible()); n != 1 {
		t.Fatalf("visible after timeout: got %d, want %d", n, 1)
	}
	second := receiveOne(t, client, f.QueueURL(), 0)
	if second == nil || second.Attributes["ApproximateReceiveCount"] != "2" {
		t.Fatalf("second receive: got %v, want receive count 2", second)
	}
	if aws.ToString(second.ReceiptHandle) == aws.ToString(first.ReceiptHandle) {
		t.Fatalf("receipt handle: got the same handle twice, want a new one per receive")
	}
	if second.Attributes["ApproximateFirstReceiveTimestamp"] != strconv.FormatInt(clock.Now().Add(-31*time.Second).UnixMilli(), 10) {
		t.Fatalf("first receive timestamp: got %s, want the first receive time", second.Attributes["ApproximateFirstReceiveTimestamp"])
	}

	// The stale handle of the first receive succeeds but deletes nothing.
	if _, err := client.DeleteMessage(context.Background(), &sqs.DeleteMessageInput{QueueUrl: aws.String(f.QueueURL()), ReceiptHandle: first.ReceiptHandle}); err != nil {
		t.Fatalf("stale delete: got %v, want nil", err)
	}
	if f.StaleDeletes() != 1 || len(f.InFlight()) != 1 {
		t.Fatalf("after stale delete: got %d stale, %d in flight, want 1 and 1", f.StaleDeletes(), len(f.InFlight()))
	}
	_, err := client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(f.QueueURL()), ReceiptHandle: first.ReceiptHandle, VisibilityTimeout: 0,
	})
	var mni *types.MessageNotInflight
	if !errors.As(err, &mni) {
		t.Fatalf("stale visibility change: got %v, want *types.MessageNotInflight", err)
	}
	if _, err := client.ChangeMessageVisibility(context.Background(), &sqs.ChangeMessageVisibilityInput{
		QueueUrl: aws.String(f.QueueURL()), ReceiptHandle: second.ReceiptHandle, VisibilityTimeout: 0,
	}); err != nil {
		t.Fatalf("ChangeMessageVisibility: got %v, want nil", err)
	}
	if n := len(f.Visible()); n != 1 {
		t.Fatalf("visible after release: got %d, want %d", n, 1)
	}
}

func TestSQSRedrive(t *testing.T) {
	f, client := newTestSQS(t)
	clock := NewManualClock(time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC))
	f.SetClock(clock)
	f.SetRedrive(2)
	id := f.Send(testEvent)
	for i := 1; i <= 2; i++ {
		m := receiveOne(t, client, f.QueueURL(), 0)
		if m == nil || m.Attributes["ApproximateReceiveCount"] != strconv.Itoa(i) {
			t.Fatalf("receive %d: got %v, want receive count %d", i, m, i)
		}
		clock.Advance(time.Minute)
	}
	if m := receiveOne(t, client, f.QueueURL(), 0); m != nil {
		t.Fatalf("third receive: got %v, want no message", m)
	}
	dead := f.DeadLetters()
	if len(dead) != 1 || dead[0].ID != id || dead[0].ReceiveCount != 2 {
		t.Fatalf("dead letters: got %+v, want message %s received twice", dead, id)
	}
	if n := len(f.Visible()); n != 0 {
		t.Fatalf("visible: got %d, want %d", n, 0)
	}
}

func TestSQSBatches(t *testing.T) {
	f, client := newTestSQS(t)
	ctx := context.Background()
	out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(f.QueueURL()),
		Entries: []types.SendMessageBatchRequestEntry{
			{Id: aws.String("a"), MessageBody: aws.String("first")},
			{Id: aws.String("b"), MessageBody: aws.String("second")},
			{Id: aws.String("c"), MessageBody: aws.String("bad \x00 body")},
		},
	})
	if err != nil {
		t.Fatalf("SendMessageBatch: got %v, want nil", err)
	}
	if len(out.Successful) != 2 || len(out.Failed) != 1 || aws.ToString(out.Failed[0].Code) != "InvalidMessageContents" {
		t.Fatalf("batch result: got %d ok, %+v failed, want 2 ok and c failed", len(out.Successful), out.Failed)
	}
	recv, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL()), MaxNumberOfMessages: 10})
	if err != nil || len(recv.Messages) != 2 {
		t.Fatalf("receive: got %v, %d messages, want nil and 2", err, len(recv.Messages))
	}
	del, err := client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{
		QueueUrl: aws.String(f.QueueURL()),
		Entries: []types.DeleteMessageBatchRequestEntry{
			{Id: aws.String("x"), ReceiptHandle: recv.Messages[0].ReceiptHandle},
			{Id: aws.String("y"), ReceiptHandle: recv.Messages[1].ReceiptHandle},
			{Id: aws.String("z"), ReceiptHandle: aws.String("never-issued")},
		},
	})
	if err != nil || len(del.Successful) != 2 || len(del.Failed) != 1 {
		t.Fatalf("DeleteMessageBatch: got %v, %+v, want 2 ok and 1 failed", err, del)
	}
	if n := len(f.Deleted()); n != 2 {
		t.Fatalf("deleted: got %d, want %d", n, 2)
	}
	_, err = client.DeleteMessageBatch(ctx, &sqs.DeleteMessageBatchInput{QueueUrl: aws.String(f.QueueURL()), Entries: []types.DeleteMessageBatchRequestEntry{}})
	var ebr *types.EmptyBatchRequest
	if !errors.As(err, &ebr) {
		t.Fatalf("empty batch: got %v, want *types.EmptyBatchRequest", err)
	}
}

func TestSQSErrors(t *testing.T) {
	f, client := newTestSQS(t)
	ctx := context.Background()
	_, err := client.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String("no-such-queue")})
	var qdne *types.QueueDoesNotExist
	if !errors.As(err, &qdne) {
		t.Fatalf("missing queue: got %v, want *types.QueueDoesNotExist", err)
	}
	if qdne.ErrorCode() != "AWS.SimpleQueueService.NonExistentQueue" {
		t.Fatalf("missing queue code: got %q, want the query-compatible code", qdne.ErrorCode())
	}

	cases := []struct {
		code, wantCode string
		status         int
	}{
		{"RequestThrottled", "RequestThrottled", 403},
		{"ThrottlingException", "ThrottlingException", 400},
		{"AccessDenied", "AccessDenied", 403},
		{"InternalError", "InternalError", 500},
	}
	for _, c := range cases {
		f.Fail("ReceiveMessage", 1, FaultSpec{Code: c.code})
		_, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL())})
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != c.wantCode {
			t.Fatalf("fault %s: got %v, want code %s", c.code, err, c.wantCode)
		}
		var re interface{ HTTPStatusCode() int }
		if !errors.As(err, &re) || re.HTTPStatusCode() != c.status {
			t.Fatalf("fault %s status: got %v, want %d", c.code, err, c.status)
		}
	}
	var rt *types.RequestThrottled
	f.Fail("SendMessage", 1, FaultSpec{Code: "RequestThrottled"})
	_, err = client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(f.QueueURL()), MessageBody: aws.String("x")})
	if !errors.As(err, &rt) {
		t.Fatalf("typed throttle: got %v, want *types.RequestThrottled", err)
	}
	_, err = client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL()), MaxNumberOfMessages: 11})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "InvalidParameterValue" {
		t.Fatalf("max 11: got %v, want InvalidParameterValue", err)
	}
	if got := f.CallsTo("SendMessage")[0].ErrorCode; got != "RequestThrottled" {
		t.Fatalf("recorded code: got %q, want %q", got, "RequestThrottled")
	}
}

func TestSQSCreateQueueWithRedrivePolicy(t *testing.T) {
	f, client := newTestSQS(t)
	ctx := context.Background()
	out, err := client.CreateQueue(ctx, &sqs.CreateQueueInput{
		QueueName:  aws.String("mfabot-approvals"),
		Attributes: map[string]string{"VisibilityTimeout": "0", "RedrivePolicy": `{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"5"}`},
	})
	if err != nil {
		t.Fatalf("CreateQueue: got %v, want nil", err)
	}
	if want := f.URL() + "/" + AccountID + "/mfabot-approvals"; aws.ToString(out.QueueUrl) != want {
		t.Fatalf("queue URL: got %q, want %q", aws.ToString(out.QueueUrl), want)
	}
	if _, err := client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: out.QueueUrl, MessageBody: aws.String("approve")}); err != nil {
		t.Fatalf("SendMessage: got %v, want nil", err)
	}
	attrs, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: out.QueueUrl, AttributeNames: []types.QueueAttributeName{types.QueueAttributeNameAll}})
	if err != nil {
		t.Fatalf("GetQueueAttributes: got %v, want nil", err)
	}
	if attrs.Attributes["ApproximateNumberOfMessages"] != "1" || attrs.Attributes["VisibilityTimeout"] != "0" {
		t.Fatalf("attributes: got %v, want 1 message and visibility 0", attrs.Attributes)
	}
	if n := len(f.Visible()); n != 0 {
		t.Fatalf("default queue: got %d visible, want %d", n, 0)
	}
}

func TestSQSLatencyAndClose(t *testing.T) {
	f, client := newTestSQS(t)
	f.Fail("SendMessage", 1, FaultSpec{Latency: 40 * time.Millisecond})
	began := time.Now()
	if _, err := client.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(f.QueueURL()), MessageBody: aws.String("slow")}); err != nil {
		t.Fatalf("delayed SendMessage: got %v, want nil", err)
	}
	if d := time.Since(began); d < 40*time.Millisecond {
		t.Fatalf("latency: got %v, want at least 40ms", d)
	}
	if _, err := client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL())}); err != nil {
		t.Fatalf("drain: got %v, want nil", err)
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = client.ReceiveMessage(context.Background(), &sqs.ReceiveMessageInput{QueueUrl: aws.String(f.QueueURL()), WaitTimeSeconds: 20})
	}()
	time.Sleep(50 * time.Millisecond)
	began = time.Now()
	f.Close()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatalf("long poll still waiting %v after Close, want it to end at once", time.Since(began))
	}
}

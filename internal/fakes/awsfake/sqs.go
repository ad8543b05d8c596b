package awsfake

import (
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// DefaultQueueName is the queue that NewSQS creates and that the SQS test
// hooks operate on.
const DefaultQueueName = "mfabot-events"

// sqsStatuses maps SQS error codes to the HTTP statuses of the real service.
var sqsStatuses = map[string]int{
	"RequestThrottled":       http.StatusForbidden,
	"ReceiptHandleIsInvalid": http.StatusNotFound,
	"InvalidAddress":         http.StatusNotFound,
	"OverLimit":              http.StatusForbidden,
	"AccessDenied":           http.StatusForbidden,
	"InternalError":          http.StatusInternalServerError,
}

var sqsProto = jsonProto{
	targetPrefix: "AmazonSQS.",
	contentType:  "application/x-amz-json-1.0",
	namespace:    "com.amazonaws.sqs#",
	queryCompat:  true,
	queryCodes: map[string]string{
		"QueueDoesNotExist":            "AWS.SimpleQueueService.NonExistentQueue",
		"MessageNotInflight":           "AWS.SimpleQueueService.MessageNotInflight",
		"EmptyBatchRequest":            "AWS.SimpleQueueService.EmptyBatchRequest",
		"TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"BatchEntryIdsNotDistinct":     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
		"InvalidBatchEntryId":          "AWS.SimpleQueueService.InvalidBatchEntryId",
		"QueueNameExists":              "QueueAlreadyExists",
	},
}

// MessageAttribute is an SQS message attribute. DataType is "String",
// "Number" or "Binary", optionally with a custom suffix such as
// "String.trace".
type MessageAttribute struct {
	DataType    string
	StringValue string
	BinaryValue []byte
}

// Message is a snapshot of a message held by the SQS fake.
type Message struct {
	ID           string
	Body         string
	Attributes   map[string]MessageAttribute
	SentAt       time.Time
	ReceiveCount int
	// ReceiptHandle is the handle of the latest receive, or "".
	ReceiptHandle string
}

// sqsMessage is a message in a queue.
type sqsMessage struct {
	id, body, sender string
	attrs            map[string]MessageAttribute
	sent, firstRecv  time.Time
	availableAt      time.Time // hidden (delayed or in flight) until then
	receiveCount     int
	receipt          string
	gone             bool // deleted or moved to the dead-letter list
}

func (m *sqsMessage) snapshot() Message {
	return Message{ID: m.id, Body: m.body, Attributes: m.attrs, SentAt: m.sent, ReceiveCount: m.receiveCount, ReceiptHandle: m.receipt}
}

// sqsQueue is one queue of the fake.
type sqsQueue struct {
	name        string
	visibility  int // seconds
	waitSeconds int
	delay       int
	maxReceives int // 0: no redrive
	msgs        []*sqsMessage
	deleted     []Message
	dead        []Message
	handles     map[string]*sqsMessage // every receipt handle issued
	stale       int
}

// SQS is a fake of the SQS JSON API: CreateQueue, GetQueueUrl,
// GetQueueAttributes, SendMessage, SendMessageBatch, ReceiveMessage (with
// long polling), DeleteMessage, DeleteMessageBatch and
// ChangeMessageVisibility. It starts with one queue, DefaultQueueName,
// which the test hooks (Send, Visible, InFlight, ...) operate on.
//
// Receipt handles follow the documented semantics: each receive issues a new
// handle; deleting with the latest handle deletes the message, even after
// the visibility timeout expired; deleting with an older handle succeeds but
// leaves the message in the queue (counted by StaleDeletes); a handle the
// fake never issued fails with ReceiptHandleIsInvalid.
type SQS struct {
	base

	mu      sync.Mutex
	clock   Clock
	queues  map[string]*sqsQueue
	changed chan struct{} // closed and replaced on every change
}

// NewSQS starts an SQS fake with the queue DefaultQueueName, a 30 s
// visibility timeout and the real clock. Call Close when done.
func NewSQS() *SQS {
	f := &SQS{clock: realClock{}, queues: map[string]*sqsQueue{}, changed: make(chan struct{})}
	f.queues[DefaultQueueName] = newQueue(DefaultQueueName)
	f.start(sqsStatuses, "MissingAuthenticationToken", f.serveHTTP)
	return f
}

func newQueue(name string) *sqsQueue {
	return &sqsQueue{name: name, visibility: 30, handles: map[string]*sqsMessage{}}
}

// Client returns an SQS client that talks to the fake. optFns run after the
// endpoint is set, so they can override anything.
func (f *SQS) Client(optFns ...func(*sqs.Options)) *sqs.Client {
	opts := append([]func(*sqs.Options){func(o *sqs.Options) { o.BaseEndpoint = aws.String(f.URL()) }}, optFns...)
	return sqs.NewFromConfig(Config(f.URL()), opts...)
}

// QueueURL returns the URL of the default queue.
func (f *SQS) QueueURL() string { return f.queueURL(DefaultQueueName) }

func (f *SQS) queueURL(name string) string { return f.URL() + "/" + AccountID + "/" + name }

// SetClock replaces the clock used for visibility timeouts, delays and
// timestamps, for example with a ManualClock. Long polls still wait in real
// time, and notice clock changes within about 25 ms.
func (f *SQS) SetClock(c Clock) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.clock = c
	f.notifyLocked()
}

// SetVisibilityTimeout sets the default queue's visibility timeout.
func (f *SQS) SetVisibilityTimeout(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[DefaultQueueName].visibility = int(d / time.Second)
}

// SetRedrive makes the default queue move a message to the dead-letter list
// when a receive would make its receive count exceed maxReceives, like an
// SQS redrive policy with maxReceiveCount. Zero disables redrive.
func (f *SQS) SetRedrive(maxReceives int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[DefaultQueueName].maxReceives = maxReceives
}

// Send puts a message with body on the default queue and returns its ID.
func (f *SQS) Send(body string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sendLocked(f.queues[DefaultQueueName], body, nil, 0, "AIDAFAKETESTHOOK").id
}

// Visible returns the messages of the default queue that a receive could
// return now.
func (f *SQS) Visible() []Message {
	return f.snapshot(func(m *sqsMessage, now time.Time) bool { return !now.Before(m.availableAt) })
}

// InFlight returns the messages of the default queue that were received and
// whose visibility timeout has not expired.
func (f *SQS) InFlight() []Message {
	return f.snapshot(func(m *sqsMessage, now time.Time) bool { return m.receiveCount > 0 && now.Before(m.availableAt) })
}

// Deleted returns the messages deleted from the default queue, in order.
func (f *SQS) Deleted() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.queues[DefaultQueueName].deleted...)
}

// DeadLetters returns the messages that redrive moved off the default queue.
func (f *SQS) DeadLetters() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.queues[DefaultQueueName].dead...)
}

// StaleDeletes returns how many deletes on the default queue used a receipt
// handle superseded by a later receive, and so deleted nothing.
func (f *SQS) StaleDeletes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queues[DefaultQueueName].stale
}

func (f *SQS) snapshot(keep func(*sqsMessage, time.Time) bool) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.clock.Now()
	var out []Message
	for _, m := range f.queues[DefaultQueueName].msgs {
		if keep(m, now) {
			out = append(out, m.snapshot())
		}
	}
	return out
}

// notifyLocked wakes every long poll.
func (f *SQS) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// sendLocked appends a message to q.
func (f *SQS) sendLocked(q *sqsQueue, body string, attrs map[string]MessageAttribute, delay int, sender string) *sqsMessage {
	now := f.clock.Now()
	m := &sqsMessage{id: newID(), body: body, sender: sender, attrs: attrs, sent: now, availableAt: now.Add(time.Duration(delay) * time.Second)}
	q.msgs = append(q.msgs, m)
	f.notifyLocked()
	return m
}

// receiveLocked takes up to limit visible messages from q, hiding each for
// visibility seconds, and applies redrive.
func (f *SQS) receiveLocked(q *sqsQueue, limit, visibility int) []*sqsMessage {
	now := f.clock.Now()
	var out []*sqsMessage
	kept := q.msgs[:0]
	for _, m := range q.msgs {
		if len(out) == limit || now.Before(m.availableAt) {
			kept = append(kept, m)
			continue
		}
		if q.maxReceives > 0 && m.receiveCount >= q.maxReceives {
			m.gone = true
			q.dead = append(q.dead, m.snapshot())
			continue
		}
		m.receiveCount++
		if m.receiveCount == 1 {
			m.firstRecv = now
		}
		m.receipt = newReceiptHandle(q.name, m.id)
		q.handles[m.receipt] = m
		m.availableAt = now.Add(time.Duration(visibility) * time.Second)
		out = append(out, m)
		kept = append(kept, m)
	}
	clear(q.msgs[len(kept):])
	q.msgs = kept
	return out
}

// deleteLocked deletes the message that handle names. It reports whether
// the handle was one the fake issued for q.
func (f *SQS) deleteLocked(q *sqsQueue, handle string) bool {
	m := q.handles[handle]
	switch {
	case m == nil:
		return false
	case m.gone:
	case m.receipt != handle:
		q.stale++
	default:
		m.gone = true
		for i, x := range q.msgs {
			if x == m {
				q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
				break
			}
		}
		q.deleted = append(q.deleted, m.snapshot())
		f.notifyLocked()
	}
	return true
}

// newReceiptHandle returns an opaque, unique receipt handle.
func newReceiptHandle(queue, id string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString([]byte(queue+"/"+id+"/")) + hex.EncodeToString(b[:])
}

// md5Hex returns the hex MD5 digest of s.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes computes MD5OfMessageAttributes the way SQS does: for each
// attribute in name order, the length-prefixed name, the length-prefixed
// data type, a transport byte (1 string, 2 binary) and the length-prefixed
// value.
func md5OfAttributes(attrs map[string]MessageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	put := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		put([]byte(n))
		put([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			h.Write([]byte{2})
			put(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			put([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// validBody reports whether body has only the characters SQS allows:
// #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD and #x10000-#x10FFFF.
func validBody(body string) bool {
	for _, r := range body {
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		if !ok {
			return false
		}
	}
	return true
}

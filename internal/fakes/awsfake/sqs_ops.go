package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	sqsQueueNamePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}(\.fifo)?$`)
	sqsBatchIDPattern   = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)
)

// sqsAttrValue is the wire form of a message attribute value.
type sqsAttrValue struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
}

// sqsSendEntry is the common part of SendMessage and batch entries.
type sqsSendEntry struct {
	ID                string                  `json:"Id"`
	MessageBody       *string                 `json:"MessageBody"`
	DelaySeconds      *int                    `json:"DelaySeconds"`
	MessageAttributes map[string]sqsAttrValue `json:"MessageAttributes"`
}

// sqsHandleEntry is one entry of DeleteMessageBatch.
type sqsHandleEntry struct {
	ID            string `json:"Id"`
	ReceiptHandle string `json:"ReceiptHandle"`
}

// sqsErr builds an SQS error with the status the real service uses.
func sqsErr(code, msg string) *apiError { return newAPIError(sqsStatuses, code, msg) }

// serveHTTP handles one JSON 1.0 request.
func (f *SQS) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op, raw, params, aerr := sqsProto.parse(r)
	idx, ferr := f.begin(r, op, params)
	if aerr == nil {
		aerr = ferr
	}
	var out any
	if aerr == nil {
		if op == "ReceiveMessage" {
			out, aerr = f.receiveMessage(r.Context(), raw)
		} else {
			key, _ := parseAuth(r.Header.Get("Authorization"))
			f.mu.Lock()
			out, aerr = f.dispatchLocked(op, raw, key)
			f.mu.Unlock()
		}
	}
	f.finish(idx, aerr)
	if aerr != nil {
		sqsProto.writeError(w, aerr)
		return
	}
	sqsProto.writeResult(w, out)
}

// dispatchLocked runs every operation except ReceiveMessage with f.mu held.
func (f *SQS) dispatchLocked(op string, raw []byte, sender string) (any, *apiError) {
	switch op {
	case "CreateQueue":
		return f.createQueue(raw)
	case "GetQueueUrl":
		var in struct{ QueueName string }
		if aerr := decode(raw, &in); aerr != nil {
			return nil, aerr
		}
		if f.queues[in.QueueName] == nil {
			return nil, sqsErr("QueueDoesNotExist", "The specified queue does not exist.")
		}
		return map[string]any{"QueueUrl": f.queueURL(in.QueueName)}, nil
	case "GetQueueAttributes":
		return f.getQueueAttributes(raw)
	case "SendMessage":
		return f.sendMessage(raw, sender)
	case "SendMessageBatch":
		return f.sendMessageBatch(raw, sender)
	case "DeleteMessage":
		return f.deleteMessage(raw)
	case "DeleteMessageBatch":
		return f.deleteMessageBatch(raw)
	case "ChangeMessageVisibility":
		return f.changeMessageVisibility(raw)
	}
	return nil, sqsErr("UnsupportedOperation", "The fake does not support "+op+".")
}

// queueLocked finds the queue that a QueueUrl names.
func (f *SQS) queueLocked(url string) (*sqsQueue, *apiError) {
	if url == "" {
		return nil, sqsErr("MissingParameter", "The request must contain the parameter QueueUrl.")
	}
	q := f.queues[url[strings.LastIndex(url, "/")+1:]]
	if q == nil {
		return nil, sqsErr("QueueDoesNotExist", "The specified queue does not exist.")
	}
	return q, nil
}

// intParam checks an optional integer parameter against [lo, hi].
func intParam(name string, v *int, def, lo, hi int) (int, *apiError) {
	if v == nil {
		return def, nil
	}
	if *v < lo || *v > hi {
		return 0, sqsErr("InvalidParameterValue", fmt.Sprintf(
			"Value %d for parameter %s is invalid. Reason: Must be between %d and %d, if provided.", *v, name, lo, hi))
	}
	return *v, nil
}

// createQueue serves CreateQueue. An existing queue is returned unchanged.
func (f *SQS) createQueue(raw []byte) (any, *apiError) {
	var in struct {
		QueueName  string
		Attributes map[string]string
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	if !sqsQueueNamePattern.MatchString(in.QueueName) {
		return nil, sqsErr("InvalidParameterValue", "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	q := f.queues[in.QueueName]
	if q == nil {
		q = newQueue(in.QueueName)
		for name, v := range in.Attributes {
			var err error
			switch name {
			case "VisibilityTimeout":
				q.visibility, err = strconv.Atoi(v)
			case "DelaySeconds":
				q.delay, err = strconv.Atoi(v)
			case "ReceiveMessageWaitTimeSeconds":
				q.waitSeconds, err = strconv.Atoi(v)
			case "RedrivePolicy":
				var rp struct {
					MaxReceiveCount json.Number `json:"maxReceiveCount"`
				}
				if err = json.Unmarshal([]byte(v), &rp); err == nil {
					q.maxReceives, err = strconv.Atoi(rp.MaxReceiveCount.String())
				}
			}
			if err != nil {
				return nil, sqsErr("InvalidAttributeValue", fmt.Sprintf("Invalid value for the parameter %s.", name))
			}
		}
		f.queues[in.QueueName] = q
	}
	return map[string]any{"QueueUrl": f.queueURL(in.QueueName)}, nil
}

// getQueueAttributes serves GetQueueAttributes for the attributes the fake
// tracks.
func (f *SQS) getQueueAttributes(raw []byte) (any, *apiError) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	q, aerr := f.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	now := f.clock.Now()
	var visible, inFlight, delayed int
	for _, m := range q.msgs {
		switch {
		case !now.Before(m.availableAt):
			visible++
		case m.receiveCount > 0:
			inFlight++
		default:
			delayed++
		}
	}
	all := map[string]string{
		"QueueArn":                              "arn:aws:sqs:" + Region + ":" + AccountID + ":" + q.name,
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(inFlight),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"VisibilityTimeout":                     strconv.Itoa(q.visibility),
		"DelaySeconds":                          strconv.Itoa(q.delay),
		"ReceiveMessageWaitTimeSeconds":         strconv.Itoa(q.waitSeconds),
	}
	if q.maxReceives > 0 {
		all["RedrivePolicy"] = fmt.Sprintf(`{"deadLetterTargetArn":"arn:aws:sqs:%s:%s:%s-dlq","maxReceiveCount":%d}`, Region, AccountID, q.name, q.maxReceives)
	}
	out := map[string]string{}
	for k, v := range all {
		if slices.Contains(in.AttributeNames, "All") || slices.Contains(in.AttributeNames, k) {
			out[k] = v
		}
	}
	return map[string]any{"Attributes": out}, nil
}

// send validates one entry and enqueues it. It returns the result members.
func (f *SQS) send(q *sqsQueue, e sqsSendEntry, sender string) (map[string]any, *apiError) {
	if e.MessageBody == nil || *e.MessageBody == "" {
		return nil, sqsErr("MissingParameter", "The request must contain the parameter MessageBody.")
	}
	if !validBody(*e.MessageBody) {
		return nil, sqsErr("InvalidMessageContents", "Invalid characters found in the message body.")
	}
	delay, aerr := intParam("DelaySeconds", e.DelaySeconds, q.delay, 0, 900)
	if aerr != nil {
		return nil, aerr
	}
	var attrs map[string]MessageAttribute
	for name, v := range e.MessageAttributes {
		if v.DataType == "" || (v.StringValue == nil && v.BinaryValue == nil) {
			return nil, sqsErr("InvalidParameterValue", fmt.Sprintf("The message attribute '%s' must contain a non-empty value and attribute type.", name))
		}
		if attrs == nil {
			attrs = map[string]MessageAttribute{}
		}
		attrs[name] = MessageAttribute{DataType: v.DataType, StringValue: derefString(v.StringValue), BinaryValue: v.BinaryValue}
	}
	m := f.sendLocked(q, *e.MessageBody, attrs, delay, sender)
	out := map[string]any{"MessageId": m.id, "MD5OfMessageBody": md5Hex(m.body)}
	if len(attrs) > 0 {
		out["MD5OfMessageAttributes"] = md5OfAttributes(attrs)
	}
	return out, nil
}

// derefString returns *s, or "" for nil.
func derefString(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sendMessage serves SendMessage.
func (f *SQS) sendMessage(raw []byte, sender string) (any, *apiError) {
	var in struct {
		QueueUrl string
		sqsSendEntry
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	q, aerr := f.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	return f.send(q, in.sqsSendEntry, sender)
}

// checkBatch validates the entry IDs of a batch request.
func checkBatch(ids []string) *apiError {
	switch {
	case len(ids) == 0:
		return sqsErr("EmptyBatchRequest", "There should be at least one entry in the request.")
	case len(ids) > 10:
		return sqsErr("TooManyEntriesInBatchRequest", fmt.Sprintf("Maximum number of entries per request are 10. You have sent %d.", len(ids)))
	}
	seen := map[string]bool{}
	for _, id := range ids {
		if !sqsBatchIDPattern.MatchString(id) {
			return sqsErr("InvalidBatchEntryId", "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[id] {
			return sqsErr("BatchEntryIdsNotDistinct", "Id "+id+" repeated.")
		}
		seen[id] = true
	}
	return nil
}

// batchFailure is one Failed entry of a batch response.
func batchFailure(id string, e *apiError) map[string]any {
	return map[string]any{"Id": id, "SenderFault": e.sender(), "Code": e.Code, "Message": e.Message}
}

// sendMessageBatch serves SendMessageBatch; invalid entries are reported
// as Failed rather than failing the request.
func (f *SQS) sendMessageBatch(raw []byte, sender string) (any, *apiError) {
	var in struct {
		QueueUrl string
		Entries  []sqsSendEntry
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	q, aerr := f.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
	}
	if aerr := checkBatch(ids); aerr != nil {
		return nil, aerr
	}
	ok, failed := []map[string]any{}, []map[string]any{}
	for _, e := range in.Entries {
		res, aerr := f.send(q, e, sender)
		if aerr != nil {
			failed = append(failed, batchFailure(e.ID, aerr))
			continue
		}
		res["Id"] = e.ID
		ok = append(ok, res)
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

// invalidHandle is the error for a receipt handle the fake never issued.
func invalidHandle(h string) *apiError {
	return sqsErr("ReceiptHandleIsInvalid", fmt.Sprintf("The input receipt handle \"%s\" is not a valid receipt handle.", h))
}

// deleteMessage serves DeleteMessage.
func (f *SQS) deleteMessage(raw []byte) (any, *apiError) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	q, aerr := f.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if !f.deleteLocked(q, in.ReceiptHandle) {
		return nil, invalidHandle(in.ReceiptHandle)
	}
	return map[string]any{}, nil
}

// deleteMessageBatch serves DeleteMessageBatch.
func (f *SQS) deleteMessageBatch(raw []byte) (any, *apiError) {
	var in struct {
		QueueUrl string
		Entries  []sqsHandleEntry
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	q, aerr := f.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	ids := make([]string, len(in.Entries))
	for i, e := range in.Entries {
		ids[i] = e.ID
	}
	if aerr := checkBatch(ids); aerr != nil {
		return nil, aerr
	}
	ok, failed := []map[string]any{}, []map[string]any{}
	for _, e := range in.Entries {
		if !f.deleteLocked(q, e.ReceiptHandle) {
			failed = append(failed, batchFailure(e.ID, invalidHandle(e.ReceiptHandle)))
			continue
		}
		ok = append(ok, map[string]any{"Id": e.ID})
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

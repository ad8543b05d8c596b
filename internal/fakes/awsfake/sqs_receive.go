package awsfake

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the SQS operations that involve visibility: receiving
// messages (with long polling) and changing their visibility timeout.

func (f *SQS) changeMessageVisibility(raw []byte) (any, *apiError) {
	var in struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       *int
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	q, aerr := f.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if in.VisibilityTimeout == nil {
		return nil, sqsErr("MissingParameter", "The request must contain the parameter VisibilityTimeout.")
	}
	vis, aerr := intParam("VisibilityTimeout", in.VisibilityTimeout, 0, 0, 43200)
	if aerr != nil {
		return nil, aerr
	}
	m := q.handles[in.ReceiptHandle]
	if m == nil {
		return nil, invalidHandle(in.ReceiptHandle)
	}
	now := f.clock.Now()
	if m.gone || m.receipt != in.ReceiptHandle || !now.Before(m.availableAt) {
		return nil, sqsErr("MessageNotInflight", fmt.Sprintf(
			"Value %s for parameter ReceiptHandle is invalid. Reason: Message does not exist or is not available for visibility timeout change.", in.ReceiptHandle))
	}
	m.availableAt = now.Add(time.Duration(vis) * time.Second)
	f.notifyLocked()
	return map[string]any{}, nil
}

// receiveMessage serves ReceiveMessage, long polling for up to
// WaitTimeSeconds of real time, or until ctx ends or the fake closes.
func (f *SQS) receiveMessage(ctx context.Context, raw []byte) (any, *apiError) {
	var in struct {
		QueueUrl                    string
		AttributeNames              []string
		MessageSystemAttributeNames []string
		MessageAttributeNames       []string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             *int
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	f.mu.Lock()
	q, aerr := f.queueLocked(in.QueueUrl)
	var limit, vis, wait int
	if aerr == nil {
		limit, aerr = intParam("MaxNumberOfMessages", in.MaxNumberOfMessages, 1, 1, 10)
	}
	if aerr == nil {
		vis, aerr = intParam("VisibilityTimeout", in.VisibilityTimeout, q.visibility, 0, 43200)
	}
	if aerr == nil {
		wait, aerr = intParam("WaitTimeSeconds", in.WaitTimeSeconds, q.waitSeconds, 0, 20)
	}
	f.mu.Unlock()
	if aerr != nil {
		return nil, aerr
	}
	sysNames := append(slices.Clone(in.AttributeNames), in.MessageSystemAttributeNames...)
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		f.mu.Lock()
		var out []map[string]any
		for _, m := range f.receiveLocked(q, limit, vis) {
			out = append(out, renderMessage(m, sysNames, in.MessageAttributeNames))
		}
		changed := f.changed
		f.mu.Unlock()
		remaining := time.Until(deadline)
		if len(out) > 0 || remaining <= 0 {
			if len(out) == 0 {
				return map[string]any{}, nil
			}
			return map[string]any{"Messages": out}, nil
		}
		t := time.NewTimer(min(remaining, 25*time.Millisecond))
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
			deadline = time.Now()
		case <-f.done:
			deadline = time.Now()
		}
		t.Stop()
	}
}

// renderMessage builds the wire form of a received message with the
// requested system and message attributes.
func renderMessage(m *sqsMessage, sysNames, attrNames []string) map[string]any {
	out := map[string]any{"MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body, "MD5OfBody": md5Hex(m.body)}
	sys := map[string]string{
		"SenderId":                         m.sender,
		"SentTimestamp":                    strconv.FormatInt(m.sent.UnixMilli(), 10),
		"ApproximateReceiveCount":          strconv.Itoa(m.receiveCount),
		"ApproximateFirstReceiveTimestamp": strconv.FormatInt(m.firstRecv.UnixMilli(), 10),
	}
	attrs := map[string]string{}
	for k, v := range sys {
		if slices.Contains(sysNames, "All") || slices.Contains(sysNames, k) {
			attrs[k] = v
		}
	}
	if len(attrs) > 0 {
		out["Attributes"] = attrs
	}
	selected := map[string]MessageAttribute{}
	for name, a := range m.attrs {
		for _, want := range attrNames {
			prefix, isPrefix := strings.CutSuffix(want, ".*")
			if want == "All" || want == ".*" || want == name || (isPrefix && strings.HasPrefix(name, prefix+".")) {
				selected[name] = a
				break
			}
		}
	}
	if len(selected) > 0 {
		wire := map[string]sqsAttrValue{}
		for name, a := range selected {
			v := sqsAttrValue{DataType: a.DataType}
			if strings.HasPrefix(a.DataType, "Binary") {
				v.BinaryValue = a.BinaryValue
			} else {
				s := a.StringValue
				v.StringValue = &s
			}
			wire[name] = v
		}
		out["MessageAttributes"] = wire
		out["MD5OfMessageAttributes"] = md5OfAttributes(selected)
	}
	return out
}

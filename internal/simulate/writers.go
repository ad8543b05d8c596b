package simulate

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// Format is how a Writer lays out records.
type Format string

// Formats.
const (
	// FormatLog is a CloudTrail S3 log object: {"Records":[...]}.
	FormatLog Format = "log"
	// FormatEventBridge is one EventBridge event per line, as a rule
	// target receives it.
	FormatEventBridge Format = "eventbridge"
	// FormatJSONLines is one record per line.
	FormatJSONLines Format = "jsonl"
)

// ErrClosed is returned by a Writer used after Close.
var ErrClosed = errors.New("simulate: writer closed")

// Writer is a Sink that writes the records it receives in one Format.
// Close writes what the format needs after the last record and flushes;
// it does not close the underlying io.Writer.
type Writer interface {
	Sink
	Close() error
}

// NewWriter returns a buffered Writer of the format onto w.
func NewWriter(w io.Writer, f Format) (Writer, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	switch f {
	case FormatLog:
		return &logWriter{w: bw}, nil
	case FormatEventBridge:
		return &eventBridgeWriter{w: bw}, nil
	case FormatJSONLines:
		return &linesWriter{w: bw}, nil
	}
	return nil, fmt.Errorf("unknown format %q", f)
}

// WriteLogFile generates the records of opts into one CloudTrail log file.
func WriteLogFile(w io.Writer, opts Options) (Stats, error) { return write(w, FormatLog, opts) }

// WriteEventBridge generates the records of opts as EventBridge events,
// one per line.
func WriteEventBridge(w io.Writer, opts Options) (Stats, error) {
	return write(w, FormatEventBridge, opts)
}

// WriteJSONLines generates the records of opts, one per line.
func WriteJSONLines(w io.Writer, opts Options) (Stats, error) {
	return write(w, FormatJSONLines, opts)
}

func write(w io.Writer, f Format, opts Options) (Stats, error) {
	g, err := New(opts)
	if err != nil {
		return Stats{}, err
	}
	out, err := NewWriter(w, f)
	if err != nil {
		return Stats{}, err
	}
	st, err := g.Generate(out)
	if err != nil {
		return st, err
	}
	return st, out.Close()
}

// logWriter writes {"Records":[...]}.
type logWriter struct {
	w      *bufio.Writer
	n      int
	closed bool
}

func (l *logWriter) Record(raw []byte, _ time.Time) error {
	if l.closed {
		return ErrClosed
	}
	if l.n == 0 {
		l.w.WriteString(`{"Records":[`)
	} else {
		l.w.WriteByte(',')
	}
	l.n++
	_, err := l.w.Write(raw)
	return err
}

func (l *logWriter) Close() error {
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	if l.n == 0 {
		l.w.WriteString(`{"Records":[`)
	}
	l.w.WriteString("]}")
	return l.w.Flush()
}

// linesWriter writes one record per line.
type linesWriter struct {
	w      *bufio.Writer
	closed bool
}

func (l *linesWriter) Record(raw []byte, _ time.Time) error {
	if l.closed {
		return ErrClosed
	}
	l.w.Write(raw)
	return l.w.WriteByte('\n')
}

func (l *linesWriter) Close() error {
	if l.closed {
		return ErrClosed
	}
	l.closed = true
	return l.w.Flush()
}

// eventBridgeWriter wraps each record in the envelope EventBridge puts
// around CloudTrail events.
type eventBridgeWriter struct {
	w      *bufio.Writer
	buf    []byte
	seq    uint64
	r      rand.PCG
	tc     timeCache
	closed bool
}

func (e *eventBridgeWriter) Record(raw []byte, eventTime time.Time) error {
	if e.closed {
		return ErrClosed
	}
	f, err := envelopeFields(raw)
	if err != nil {
		return err
	}
	// The envelope id depends on the record and on its place in the
	// stream, so a duplicated record gets a new envelope, as it would.
	e.seq++
	e.r.Seed(hashString(f.eventID), e.seq)
	b := append(e.buf[:0], `{"version":"0","id":"`...)
	b = appendUUID(b, newUUID(&e.r))
	if f.eventSource == "signin.amazonaws.com" {
		b = append(b, `","detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin",`...)
	} else {
		b = append(b, `","detail-type":"AWS API Call via CloudTrail","source":`...)
		b = appendStr(b, "aws."+strings.TrimSuffix(f.eventSource, ".amazonaws.com"))
		b = append(b, ',')
	}
	b = appendKV(b, "account", f.account)
	b = append(b, `"time":"`...)
	b = e.tc.appendTime(b, eventTime)
	b = append(b, `",`...)
	b = appendKV(b, "region", f.region)
	b = append(b, `"resources":[],"detail":`...)
	b = append(b, raw...)
	b = append(b, '}', '\n')
	e.buf = b
	_, err = e.w.Write(b)
	return err
}

func (e *eventBridgeWriter) Close() error {
	if e.closed {
		return ErrClosed
	}
	e.closed = true
	return e.w.Flush()
}

// envelope holds the record fields an EventBridge envelope repeats.
type envelope struct {
	eventID, eventSource, region, account string
}

// envelopeFields finds the fields of the envelope in a record. Records
// from this package are compact with these keys at the top level only, so
// a scan finds them; any other record is decoded.
func envelopeFields(raw []byte) (envelope, error) {
	var f envelope
	var ok1, ok2, ok3, ok4 bool
	f.eventID, ok1 = scanString(raw, `"eventID":"`)
	f.eventSource, ok2 = scanString(raw, `"eventSource":"`)
	f.region, ok3 = scanString(raw, `"awsRegion":"`)
	f.account, ok4 = scanString(raw, `"recipientAccountId":"`)
	if ok1 && ok2 && ok3 && ok4 {
		return f, nil
	}
	var rec struct {
		EventID            string `json:"eventID"`
		EventSource        string `json:"eventSource"`
		AWSRegion          string `json:"awsRegion"`
		RecipientAccountID string `json:"recipientAccountId"`
		UserIdentity       struct {
			AccountID string `json:"accountId"`
		} `json:"userIdentity"`
	}
	if err := json.Unmarshal(raw, &rec); err != nil {
		return f, fmt.Errorf("decode record: %w", err)
	}
	f = envelope{rec.EventID, rec.EventSource, rec.AWSRegion, rec.RecipientAccountID}
	if f.account == "" {
		f.account = rec.UserIdentity.AccountID
	}
	return f, nil
}

// scanString returns the string value after key (which ends with the
// opening quote) if it occurs exactly once and needs no unescaping.
func scanString(raw []byte, key string) (string, bool) {
	i := bytes.Index(raw, []byte(key))
	if i < 0 {
		return "", false
	}
	rest := raw[i+len(key):]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || bytes.IndexByte(rest[:end], '\\') >= 0 || bytes.Contains(rest[end:], []byte(key)) {
		return "", false
	}
	return string(rest[:end]), true
}

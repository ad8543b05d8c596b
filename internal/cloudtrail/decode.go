// Package cloudtrail reads AWS CloudTrail records in every form mfabot
// receives them and turns console sign-in records into SignIn values.
//
// Accepted input: CloudTrail log files ({"Records":[...]}), plain or gzip;
// a JSON array of records; EventBridge events (the record under "detail");
// CloudWatch Logs events (the record as a string under "message"); and one
// record or event per line (JSON Lines, as CloudWatch Logs exports write).
// Input is streamed: a file of any size is read with a fixed buffer, and only
// records that mention signin.amazonaws.com are decoded.
package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// Position locates a record in its input.
type Position struct {
	// Source names the input: a file path, or "-" for standard input.
	Source string
	// Index counts records (or lines) in the source from 0.
	Index int
	// Line is the 1-based line on which the record starts.
	Line int
}

func (p Position) String() string {
	return fmt.Sprintf("%s: record %d (line %d)", p.Source, p.Index, p.Line)
}

// Problem is a record that was reported and skipped.
type Problem struct {
	Position
	Reason string
}

func (p Problem) String() string { return p.Position.String() + ": " + p.Reason }

// Stats counts what a decode saw.
type Stats struct {
	// Records counts every record read, sign-in or not.
	Records int
	// SignIns counts console sign-in steps handed to the handler.
	SignIns int
	// Skipped counts malformed records that were reported.
	Skipped int
	// Bytes counts the (uncompressed) bytes read.
	Bytes int64
}

// Add sums two Stats.
func (s *Stats) Add(o Stats) {
	s.Records += o.Records
	s.SignIns += o.SignIns
	s.Skipped += o.Skipped
	s.Bytes += o.Bytes
}

// Handler receives what a decode finds. SignIn may return an error to stop
// the decode; Problem is optional.
type Handler struct {
	SignIn  func(SignIn, Position) error
	Problem func(Problem)
}

// ErrNotJSON is returned for input that does not start like JSON.
var ErrNotJSON = errors.New("not JSON")

// Decode reads CloudTrail input from r, gunzipping it when it starts with
// the gzip magic number. It returns an error only when the input as a whole
// cannot be read (an I/O or gzip error, or text that is not JSON); a
// malformed record is passed to h.Problem and skipped.
func Decode(ctx context.Context, r io.Reader, source string, h Handler) (Stats, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2)
	var in io.Reader = br
	if len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return Stats{}, fmt.Errorf("%s: %w", source, err)
		}
		defer zr.Close()
		in = zr
	}
	cr := &countingReader{r: in}
	d := &decoder{ctx: ctx, src: source, h: h, sc: newScanner(cr)}
	err := d.run()
	d.stats.Bytes = cr.n
	return d.stats, err
}

// decoder holds the state of one Decode.
type decoder struct {
	ctx   context.Context
	src   string
	h     Handler
	sc    *scanner
	stats Stats
	index int
	env   envelope
	// nested is set while reading a log file found inside other input.
	nested bool
}

func (d *decoder) run() error {
	sc := d.sc
	sc.skipBOM()
	c, ok := sc.peek()
	if !ok {
		return d.ioErr()
	}
	switch c {
	case '[':
		sc.consume()
		_, err := d.array()
		return err
	case '{':
		if d.recordsKey() {
			if complete, err := d.array(); !complete || err != nil {
				return err
			}
			// Whatever follows the Records array is read as further
			// values (normally just the closing brace).
			return d.rest()
		}
		return d.values()
	default:
		// Perhaps JSON Lines whose first line is damaged: skip it and
		// read on, giving up if the lines keep failing before any record.
		sc.lineMode = true
		return d.values()
	}
}

// maxLeadingBadLines is how many malformed lines may open a file before it
// is taken for something that is not CloudTrail input at all.
const maxLeadingBadLines = 10

// recordsKey consumes `{"Records":[` when the object starts that way.
func (d *decoder) recordsKey() bool {
	const prefix = `"Records"`
	sc := d.sc
	for sc.end-sc.start < 64 && sc.fill(sc.start) {
	}
	b := sc.buf[sc.start:sc.end]
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if !bytes.HasPrefix(b, []byte(prefix)) {
		return false
	}
	b = bytes.TrimLeft(b[len(prefix):], " \t\r\n")
	if len(b) == 0 || b[0] != ':' {
		return false
	}
	b = bytes.TrimLeft(b[1:], " \t\r\n")
	if len(b) == 0 || b[0] != '[' {
		return false
	}
	skipped := sc.buf[sc.start : sc.end-len(b)+1]
	sc.line += bytes.Count(skipped, nl)
	sc.start += len(skipped)
	return true
}

// array reads the elements of an array whose '[' has been consumed. It
// reports whether the array ended properly; after a malformed element the
// rest of the input cannot be trusted and is not read.
func (d *decoder) array() (complete bool, err error) {
	sc := d.sc
	for first := true; ; first = false {
		c, ok := sc.peek()
		if !ok {
			d.problem(d.index, sc.line, "unexpected end of input inside the array")
			return false, d.ioErr()
		}
		if c == ']' {
			sc.consume()
			return true, nil
		}
		if !first {
			if c != ',' {
				d.problem(d.index, sc.line, fmt.Sprintf("expected ',' between records, found %q", c))
				return false, d.ioErr()
			}
			sc.consume()
		}
		if stop, err := d.next(); stop || err != nil {
			return false, err
		}
	}
}

// rest reads whatever follows a log file's Records array.
func (d *decoder) rest() error {
	sc := d.sc
	for {
		c, ok := sc.peek()
		if !ok {
			return d.ioErr()
		}
		if c == '}' {
			sc.consume()
			continue
		}
		return d.values()
	}
}

// values reads a sequence of top-level values. When the first one fits on
// its line the input is JSON Lines: each line must hold one value, and a
// malformed line is skipped on its own. Otherwise values may span lines.
func (d *decoder) values() error {
	sc := d.sc
	bad := 0
	for first := !sc.lineMode; ; first = false {
		c, ok := sc.peek()
		if !ok {
			if bad > 0 && bad == d.index {
				return fmt.Errorf("%s: %w: no line holds a JSON value", d.src, ErrNotJSON)
			}
			return d.ioErr()
		}
		if err := d.ctx.Err(); err != nil {
			return err
		}
		if bad >= maxLeadingBadLines && bad == d.index {
			return fmt.Errorf("%s: %w: the first %d lines hold no JSON value", d.src, ErrNotJSON, bad)
		}
		if c != '{' && c != '[' {
			d.problem(d.index, sc.line, fmt.Sprintf("not a JSON object: starts with %q", c))
			d.index++
			bad++
			sc.lineMode = true
			sc.skipLine()
			continue
		}
		startLine := sc.line
		v, line, err := sc.value()
		if err != nil {
			var se *syntaxError
			if !errors.As(err, &se) {
				return d.ioErr()
			}
			d.problem(d.index, line, se.msg)
			d.index++
			bad++
			if sc.lineMode {
				sc.skipLine()
			}
			continue
		}
		if first {
			sc.lineMode = sc.line == startLine && sc.restOfLine()
		} else if sc.lineMode && !sc.restOfLine() {
			d.problem(d.index, line, "more than one value on the line")
			d.index++
			sc.skipLine()
			continue
		}
		if err := d.record(v, d.index, line); err != nil {
			return err
		}
		d.index++
	}
}

// next reads one array element. A malformed element ends the array: its
// end cannot be found reliably, so stop reports that nothing more can be
// read.
func (d *decoder) next() (stop bool, err error) {
	if d.index&1023 == 0 {
		if err := d.ctx.Err(); err != nil {
			return true, err
		}
	}
	v, line, err := d.sc.value()
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			d.problem(d.index, line, se.msg)
		}
		return true, d.ioErr()
	}
	err = d.record(v, d.index, line)
	d.index++
	return false, err
}

// record handles one value: a record, an EventBridge or CloudWatch Logs
// event, or a nested log file.
func (d *decoder) record(v []byte, index, line int) error {
	if v[0] != '{' {
		d.problem(index, line, "record is not a JSON object")
		return nil
	}
	if !d.nested && bytes.HasPrefix(bytes.TrimLeft(v[1:], " \t\r\n"), []byte(`"Records"`)) {
		return d.logFile(v)
	}
	d.stats.Records++
	if !mayBeSignIn(v) {
		return nil
	}
	env := &d.env
	*env = envelope{}
	if err := json.Unmarshal(v, env); err != nil {
		d.problem(index, line, "malformed record: "+describe(err))
		return nil
	}
	rec := &env.record
	switch {
	case len(env.Detail) > 0:
		var inner record
		if err := json.Unmarshal(env.Detail, &inner); err != nil {
			d.problem(index, line, "malformed EventBridge detail: "+describe(err))
			return nil
		}
		rec = &inner
	case env.Message != "" && rec.EventSource == "":
		var inner record
		if err := json.Unmarshal([]byte(env.Message), &inner); err != nil {
			d.problem(index, line, "malformed CloudWatch Logs message: "+describe(err))
			return nil
		}
		rec = &inner
	}
	s, ok, reason := normalize(rec)
	if reason != "" {
		d.problem(index, line, reason)
		return nil
	}
	if !ok {
		return nil
	}
	d.stats.SignIns++
	if d.h.SignIn == nil {
		return nil
	}
	return d.h.SignIn(s, Position{Source: d.src, Index: index, Line: line})
}

// logFile decodes a whole log file that appeared as one value among others.
// Inside it, a value that looks like a log file again is just a record.
func (d *decoder) logFile(v []byte) error {
	inner := &decoder{ctx: d.ctx, src: d.src, h: d.h, sc: newScanner(bytes.NewReader(v)), index: d.index, nested: true}
	inner.sc.line = d.sc.line - bytes.Count(v, nl)
	err := inner.run()
	d.stats.Records += inner.stats.Records
	d.stats.SignIns += inner.stats.SignIns
	d.stats.Skipped += inner.stats.Skipped
	d.index = inner.index - 1
	return err
}

func (d *decoder) problem(index, line int, reason string) {
	d.stats.Skipped++
	if d.h.Problem != nil {
		d.h.Problem(Problem{Position{d.src, index, line}, reason})
	}
}

// ioErr returns the read error that ended the input, if any.
func (d *decoder) ioErr() error {
	if err := d.sc.readErr(); err != nil {
		return fmt.Errorf("%s: read: %w", d.src, err)
	}
	return nil
}

// describe words a JSON decoding error for a person reading a report.
func describe(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if i := strings.LastIndex(field, "record."); i >= 0 {
			field = field[i+len("record."):]
		}
		return fmt.Sprintf("%s is a JSON %s, not the %s CloudTrail writes", field, te.Value, kindOf(te.Type.Kind()))
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v at byte %d", se, se.Offset)
	}
	return err.Error()
}

func kindOf(k reflect.Kind) string {
	switch k {
	case reflect.Struct, reflect.Map:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.String:
		return "string"
	}
	return k.String()
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

package cloudtrail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// scanner splits a stream of JSON text into values without decoding them.
// It checks structure (balanced brackets, terminated strings, no raw control
// characters in strings) but not grammar: the few values that turn out to be
// sign-in events are decoded in full afterwards, and the rest are only
// counted. This keeps the cost of a log file close to the cost of reading it.
type scanner struct {
	r     io.Reader
	buf   []byte
	start int // first unconsumed byte
	end   int // end of buffered data
	eof   bool
	rerr  error
	line  int // line number of buf[start], 1-based
	stack []byte
	// lineMode holds values to one line each (JSON Lines).
	lineMode bool
}

const (
	scanBufSize = 256 << 10
	// maxValueSize bounds one JSON value, and so the decoder's memory: a
	// CloudTrail record is at most 256 KB, and a log file read as one
	// value (when Records is not its first key) is rarely near this.
	maxValueSize = 32 << 20
)

// errTooLarge is returned for a single value larger than maxValueSize.
var errTooLarge = errors.New("a single JSON value is larger than 32 MiB; CloudTrail records are at most 256 KB")

// syntaxError describes malformed JSON at a line.
type syntaxError struct {
	line int
	msg  string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, scanBufSize), line: 1}
}

// fill reads more data, keeping buf[keep:end]. It returns false at the end
// of input. Positions before keep are discarded, so callers hold offsets
// relative to keep.
func (s *scanner) fill(keep int) bool {
	if s.eof {
		return false
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.end = n
		s.start -= keep
	}
	if s.end == len(s.buf) {
		if len(s.buf) >= maxValueSize {
			s.rerr = errTooLarge
			s.eof = true
			return false
		}
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// readErr is the read error that ended the input, if any.
func (s *scanner) readErr() error { return s.rerr }

// peek skips white space and returns the next byte without consuming it.
// It returns false at the end of input.
func (s *scanner) peek() (byte, bool) {
	for {
		for s.start < s.end {
			c := s.buf[s.start]
			switch c {
			case '\n':
				s.line++
				s.start++
			case ' ', '\t', '\r':
				s.start++
			default:
				return c, true
			}
		}
		if !s.fill(s.start) {
			return 0, false
		}
	}
}

// skipBOM drops a UTF-8 byte order mark at the start of input.
func (s *scanner) skipBOM() {
	for s.end-s.start < 3 && s.fill(s.start) {
	}
	if bytes.HasPrefix(s.buf[s.start:s.end], []byte("\xef\xbb\xbf")) {
		s.start += 3
	}
}

// consume drops one byte, which must be the byte peek returned.
func (s *scanner) consume() { s.start++ }

// value scans one JSON value at the current position (after peek) and
// returns it. The slice is valid until the next call. A malformed value is
// reported with the line it starts on; the scanner then stands after the
// bytes it examined.
func (s *scanner) value() ([]byte, int, error) {
	line := s.line
	c, ok := s.peek()
	if !ok {
		return nil, line, io.ErrUnexpectedEOF
	}
	line = s.line
	switch c {
	case '{', '[':
		return s.container(line)
	case '"':
		return s.scalar(line, true)
	default:
		return s.scalar(line, false)
	}
}

// container scans an object or array.
func (s *scanner) container(line int) ([]byte, int, error) {
	s.stack = s.stack[:0]
	i := s.start
	inStr, esc := false, false
	for {
		for ; i < s.end; i++ {
			c := s.buf[i]
			if inStr {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					inStr = false
				case c < 0x20:
					return nil, line, s.fail(i, line, "unterminated string")
				}
				continue
			}
			switch c {
			case '"':
				inStr = true
			case '\n':
				if s.lineMode {
					return nil, line, s.fail(i, line, "value does not end on its line")
				}
			case '{':
				s.stack = append(s.stack, '}')
			case '[':
				s.stack = append(s.stack, ']')
			case '}', ']':
				n := len(s.stack)
				if n == 0 || s.stack[n-1] != c {
					return nil, line, s.fail(i, line, fmt.Sprintf("unexpected %q", c))
				}
				s.stack = s.stack[:n-1]
				if n == 1 {
					v := s.buf[s.start : i+1]
					s.line += bytes.Count(v, nl)
					s.start = i + 1
					return v, line, nil
				}
			}
		}
		off := i - s.start
		if !s.fill(s.start) {
			s.line += bytes.Count(s.buf[s.start:s.end], nl)
			s.start = s.end
			if s.rerr != nil {
				return nil, line, s.rerr
			}
			return nil, line, &syntaxError{line, "unexpected end of input inside a value"}
		}
		i = s.start + off
	}
}

var nl = []byte{'\n'}

// fail consumes the value's bytes up to and including buf[i] and returns a
// syntax error for the value that started on line.
// A newline at buf[i] is left unconsumed, so that line-oriented input can
// resume on the next line.
func (s *scanner) fail(i, line int, msg string) error {
	if s.buf[i] != '\n' {
		i++
	}
	s.line += bytes.Count(s.buf[s.start:i], nl)
	s.start = i
	return &syntaxError{line, msg}
}

// scalar scans a string, number or literal; only its extent is checked.
func (s *scanner) scalar(line int, quoted bool) ([]byte, int, error) {
	i := s.start
	if quoted {
		i++
	}
	esc := false
	for {
		for ; i < s.end; i++ {
			c := s.buf[i]
			if quoted {
				switch {
				case esc:
					esc = false
				case c == '\\':
					esc = true
				case c == '"':
					v := s.buf[s.start : i+1]
					s.start = i + 1
					return v, line, nil
				case c < 0x20:
					s.start = i
					return nil, line, &syntaxError{line, "unterminated string"}
				}
				continue
			}
			switch c {
			case ',', '}', ']', ' ', '\t', '\r', '\n', '{', '[', '"':
				v := s.buf[s.start:i]
				s.start = i
				if len(v) == 0 {
					s.start = i + 1
					return nil, line, &syntaxError{line, fmt.Sprintf("unexpected %q", c)}
				}
				return v, line, nil
			}
		}
		off := i - s.start
		if !s.fill(s.start) {
			v := s.buf[s.start:s.end]
			s.start = s.end
			if quoted {
				return nil, line, &syntaxError{line, "unexpected end of input inside a string"}
			}
			return v, line, nil
		}
		i = s.start + off
	}
}

// skipLine drops everything up to and including the next newline; it is how
// line-oriented input resynchronises after a malformed line.
func (s *scanner) skipLine() {
	for {
		if j := bytes.IndexByte(s.buf[s.start:s.end], '\n'); j >= 0 {
			s.start += j + 1
			s.line++
			return
		}
		s.start = s.end
		if !s.fill(s.start) {
			return
		}
	}
}

// restOfLine reports whether only white space remains before the next
// newline (or the end of input), consuming that white space but not the
// newline.
func (s *scanner) restOfLine() bool {
	for {
		for s.start < s.end {
			switch s.buf[s.start] {
			case ' ', '\t', '\r':
				s.start++
			case '\n':
				return true
			default:
				return false
			}
		}
		if !s.fill(s.start) {
			return true
		}
	}
}

package simulate

import (
	"math/bits"
	"math/rand/v2"
	"time"
	"unicode/utf8"
)

// This file holds the small, allocation-free helpers that every record
// builder uses: JSON string quoting, UUIDs, timestamps and random picks.

const hexDigits = "0123456789abcdef"

// appendStr appends s as a JSON string. Printable ASCII without quotes or
// backslashes, which is nearly everything the generator writes, is copied
// as is; anything else is escaped the way encoding/json would.
func appendStr(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, `\ufffd`...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendKV appends `"key":"value"` followed by a comma; key must not need
// escaping.
func appendKV(b []byte, key, value string) []byte {
	b = append(b, '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	b = appendStr(b, value)
	return append(b, ',')
}

// newUUID returns a random version 4 UUID.
func newUUID(r *rand.PCG) [16]byte {
	var u [16]byte
	hi, lo := r.Uint64(), r.Uint64()
	for i := range 8 {
		u[i] = byte(hi >> (56 - 8*i))
		u[8+i] = byte(lo >> (56 - 8*i))
	}
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u
}

// appendUUID appends u in its canonical text form, without quotes.
func appendUUID(b []byte, u [16]byte) []byte {
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexDigits[c>>4], hexDigits[c&0xf])
	}
	return b
}

// uuidString formats a fresh random UUID.
func uuidString(r *rand.PCG) string {
	return string(appendUUID(nil, newUUID(r)))
}

// appendRandChars appends n characters drawn from alphabet.
func appendRandChars(b []byte, r *rand.PCG, alphabet string, n int) []byte {
	for range n {
		b = append(b, alphabet[intn(r, len(alphabet))])
	}
	return b
}

// intn returns a number in [0, n) (n > 0). The tiny bias of the
// multiply-shift reduction does not matter for synthetic traffic.
func intn(r *rand.PCG, n int) int {
	hi, _ := bits.Mul64(r.Uint64(), uint64(n))
	return int(hi)
}

// between returns a number in [lo, hi].
func between(r *rand.PCG, lo, hi int) int {
	return lo + intn(r, hi-lo+1)
}

// float returns a number in [0, 1).
func float(r *rand.PCG) float64 {
	return float64(r.Uint64()>>11) / (1 << 53)
}

// pick returns a random element of list.
func pick[T any](r *rand.PCG, list []T) T {
	return list[intn(r, len(list))]
}

// mix64 is the SplitMix64 finalizer; it turns consecutive numbers into
// unrelated seeds.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// hashString is FNV-1a, used to derive stable values from names.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// timeCache formats second-precision UTC timestamps, remembering the last
// one because consecutive records usually share their second.
type timeCache struct {
	sec int64
	buf [20]byte
	ok  bool
}

// appendTime appends t as "2006-01-02T15:04:05Z", without quotes.
func (c *timeCache) appendTime(b []byte, t time.Time) []byte {
	sec := t.Unix()
	if !c.ok || sec != c.sec {
		c.sec, c.ok = sec, true
		t.UTC().AppendFormat(c.buf[:0], "2006-01-02T15:04:05Z")
	}
	return append(b, c.buf[:]...)
}

// formatTime formats t like CloudTrail's eventTime.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

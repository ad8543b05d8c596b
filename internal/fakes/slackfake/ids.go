package slackfake

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newUUID returns a random version 4 UUID.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// randID returns prefix followed by n random upper-case letters and digits,
// the shape of Slack ids such as V0123ABCD or Ev0123ABCD.
func randID(prefix string, n int) string {
	var sb strings.Builder
	sb.WriteString(prefix)
	limit := big.NewInt(int64(len(idAlphabet)))
	for range n {
		i, _ := rand.Int(rand.Reader, limit)
		sb.WriteByte(idAlphabet[i.Int64()])
	}
	return sb.String()
}

// randHex returns n random bytes as hex.
func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// shortHash returns a stable 10-character id derived from s.
func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return strings.ToUpper(hex.EncodeToString(sum[:5]))
}

package handlers

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// ellipsis marks a value that was cut to fit.
const ellipsis = "…"

// Escape makes s safe to place in Slack mrkdwn text: it replaces &, < and >
// with the entities Slack requires, so that nobody can inject <!channel>, a
// user mention or a link, and it breaks the bare special mentions @channel,
// @here and @everyone with a zero-width space. Invalid UTF-8 becomes U+FFFD.
func Escape(s string) string {
	return escapeClip(s, -1, escapeStrict)
}

// Truncate cuts s to at most max characters (runes), ending it with "…" when
// something was cut. It does not escape.
func Truncate(s string, max int) string {
	if max <= 0 {
		return ""
	}
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	runes := []rune(s)
	return string(runes[:max-1]) + ellipsis
}

// escapeMode says how escapeClip treats its input.
type escapeMode int

const (
	// escapeStrict escapes every &, < and >, keeping line breaks.
	escapeStrict escapeMode = iota
	// escapeInline is escapeStrict on one line: control characters and
	// line breaks become spaces.
	escapeInline
	// escapeKeepSafe is for text that mfabot may already have formatted:
	// plain user mentions (<@U123>) and the entities &amp; &lt; &gt; are
	// kept, everything else is escaped as in escapeStrict. Nothing it
	// keeps can notify a channel or hide a link.
	escapeKeepSafe
)

// clip escapes a single-line value from outside (user name, user agent,
// IP...) and cuts it so that the escaped result has at most max characters.
// Control characters and line breaks become spaces.
func clip(s string, max int) string { return escapeClip(s, max, escapeInline) }

// clipLines is clip for values that may span lines (notes, reasons).
func clipLines(s string, max int) string { return escapeClip(s, max, escapeStrict) }

// clipSafe is clipLines for text that may carry mfabot's own mentions and
// escaped values (see escapeKeepSafe).
func clipSafe(s string, max int) string { return escapeClip(s, max, escapeKeepSafe) }

// specialMentions are the bare words Slack may turn into notifications.
var specialMentions = regexp.MustCompile(`(?i)@(channel|here|everyone)`)

// userMention is a plain mention of one user, as mfabot writes them.
var userMention = regexp.MustCompile(`^<@[UW][A-Z0-9]{2,30}>`)

// escapeClip escapes s; with max >= 0 the escaped result has at most max
// characters, a cut never splits an entity or a mention, and a cut value
// ends with "…".
func escapeClip(s string, max int, mode escapeMode) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = specialMentions.ReplaceAllString(s, "@\u200b$1")
	var pieces []string
	var widths []int
	n := 0
	for i := 0; i < len(s); {
		piece, size := nextPiece(s[i:], mode)
		i += size
		w := utf8.RuneCountInString(piece)
		if max >= 0 && n+w > max {
			// Drop whole pieces until the ellipsis fits.
			for len(pieces) > 0 && n+1 > max {
				n -= widths[len(widths)-1]
				pieces, widths = pieces[:len(pieces)-1], widths[:len(widths)-1]
			}
			if max <= 0 {
				return ""
			}
			return strings.Join(pieces, "") + ellipsis
		}
		pieces, widths = append(pieces, piece), append(widths, w)
		n += w
	}
	return strings.Join(pieces, "")
}

// nextPiece returns the escaped form of the first character of s (or of
// a kept entity or mention) and how many bytes of s it consumed.
func nextPiece(s string, mode escapeMode) (string, int) {
	r, size := utf8.DecodeRuneInString(s)
	switch {
	case r == '&' && mode == escapeKeepSafe:
		for _, e := range []string{"&amp;", "&lt;", "&gt;"} {
			if strings.HasPrefix(s, e) {
				return e, len(e)
			}
		}
		return "&amp;", size
	case r == '&':
		return "&amp;", size
	case r == '<' && mode == escapeKeepSafe:
		if m := userMention.FindString(s); m != "" {
			return m, len(m)
		}
		return "&lt;", size
	case r == '<':
		return "&lt;", size
	case r == '>':
		return "&gt;", size
	case mode == escapeInline && (r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029'):
		return " ", size
	case mode != escapeInline && r != '\n' && (r < 0x20 || r == 0x7f):
		return " ", size
	}
	return s[:size], size
}

// code wraps an outside value in a mrkdwn code span of at most max
// characters, backticks included. Backticks inside become quotes.
func code(s string, max int) string {
	if s == "" {
		return "(none)"
	}
	return "`" + strings.ReplaceAll(clip(s, max-2), "`", "'") + "`"
}

// fitMrkdwn is the last guard before text goes into a block: it cuts
// already formatted mrkdwn to max characters at a line break when it can,
// and never inside an entity, a <...> sequence or a code span.
func fitMrkdwn(text string, max int) string {
	if utf8.RuneCountInString(text) <= max {
		return text
	}
	if max <= 1 {
		return ""
	}
	cut := []rune(text)[:max-1]
	if i := lastIndexRune(cut, '\n'); i > max/2 {
		cut = cut[:i]
	}
	for _, pair := range [][2]rune{{'<', '>'}, {'&', ';'}} {
		if i := lastIndexRune(cut, pair[0]); i >= 0 && lastIndexRune(cut[i:], pair[1]) < 0 {
			cut = cut[:i]
		}
	}
	if strings.Count(string(cut), "`")%2 == 1 {
		cut = cut[:lastIndexRune(cut, '`')]
	}
	return string(cut) + ellipsis
}

// lastIndexRune is the index of the last r in rs, or -1.
func lastIndexRune(rs []rune, r rune) int {
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i] == r {
			return i
		}
	}
	return -1
}

// slackIDPattern matches Slack user, bot and enterprise user IDs.
var slackIDPattern = regexp.MustCompile(`^[UWB][A-Z0-9]{2,30}$`)

// mentionOf renders an actor: a Slack user ID becomes a mention, the
// system actor "mfabot", anything else escaped text.
func mentionOf(id string) string {
	switch {
	case id == "system":
		return "mfabot"
	case id == "":
		return "someone"
	case slackIDPattern.MatchString(id):
		return "<@" + id + ">"
	}
	return clip(id, 64)
}

// utc formats a time for people and logs alike: RFC 3339 in UTC.
func utc(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return t.UTC().Format(time.RFC3339)
}

// slackDate renders t in the reader's time zone with Slack date formatting;
// the fallback is RFC 3339 UTC. format uses Slack tokens such as
// "{date_short_pretty} {time}".
func slackDate(t time.Time, format string) string {
	if t.IsZero() {
		return "unknown time"
	}
	return fmt.Sprintf("<!date^%d^%s|%s>", t.Unix(), format, utc(t))
}

// utcAndLocal shows RFC 3339 UTC followed by the reader's local time.
func utcAndLocal(t time.Time) string {
	if t.IsZero() {
		return "unknown time"
	}
	return utc(t) + " (" + slackDate(t, "{date_short_pretty} {time}") + ")"
}

// humanDuration renders d for people: "45s", "12m", "2h 5m", "3d 4h".
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d/time.Second))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 24*time.Hour:
		h, m := int(d/time.Hour), int(d%time.Hour/time.Minute)
		if m == 0 {
			return fmt.Sprintf("%dh", h)
		}
		return fmt.Sprintf("%dh %dm", h, m)
	}
	days, h := int(d/(24*time.Hour)), int(d%(24*time.Hour)/time.Hour)
	if h == 0 {
		return fmt.Sprintf("%dd", days)
	}
	return fmt.Sprintf("%dd %dh", days, h)
}

// ordinal renders 1st, 2nd, 3rd, 4th, 11th, 21st...
func ordinal(n int) string {
	suffix := "th"
	switch n % 100 {
	case 11, 12, 13:
	default:
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}

// plural renders "1 failure", "3 failures".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// list joins outside values, each clipped to each characters, showing at
// most shown of them followed by "+N more" where N counts the rest of total
// (total < len(vals) means len(vals)).
func list(vals []string, shown, each, total int, wrap func(string, int) string) string {
	total = max(total, len(vals))
	if len(vals) == 0 {
		return "none"
	}
	parts := make([]string, 0, min(len(vals), shown)+1)
	for i, v := range vals {
		if i == shown {
			break
		}
		parts = append(parts, wrap(v, each))
	}
	if rest := total - len(parts); rest > 0 {
		parts = append(parts, fmt.Sprintf("+%d more", rest))
	}
	return strings.Join(parts, ", ")
}

// link renders a mrkdwn link to a URL from configuration. URLs that are not
// http(s) or too long for a block are shown as a note instead.
func link(url, label string) string {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return label + " (link not shown: not an http(s) URL)"
	}
	if utf8.RuneCountInString(url) > 900 {
		return label + " (link too long to show)"
	}
	r := strings.NewReplacer("&", "&amp;", "<", "%3C", ">", "%3E", "|", "%7C", " ", "%20", "\n", "", "\r", "", "\t", "")
	url = specialMentions.ReplaceAllString(r.Replace(url), "%40$1")
	return "<" + url + "|" + label + ">"
}

package handlers

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// fzIDRef is an independent statement of what ParseIncidentID accepts: an
// optional INC- prefix in any case, then 1 to 18 ASCII digits.
var fzIDRef = regexp.MustCompile(`^(?:[Ii][Nn][Cc]-)?([0-9]{1,18})$`)

// FuzzParseIncidentID checks ParseIncidentID, the decoder of incident IDs
// typed by people and carried in button values and modal metadata, against
// an independent definition, and that its output is canonical and stable.
func FuzzParseIncidentID(f *testing.F) {
	for _, s := range []string{"INC-42", "inc-042", "42", "Inc-7", "0", "INC-0", "000", "INC-", "INC-INC-1", "-1", "+1",
		"999999999999999999", "1000000000000000000", "18446744073709551615", "INC-000000000000000001", "4 2", " 42", "42\n",
		"４２", "INC-١٢", "ınc-1", "INC-1e3", "0x2A", "", "\xff", "INC-9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := ParseIncidentID(s)
		wantOK, wantID := false, ""
		if m := fzIDRef.FindStringSubmatch(s); m != nil {
			if n, err := strconv.ParseUint(m[1], 10, 64); err == nil && n != 0 {
				wantOK, wantID = true, "INC-"+strconv.FormatUint(n, 10)
			}
		}
		if ok != wantOK || id != wantID {
			t.Fatalf("ParseIncidentID(%q) = %q, %v; want %q, %v", s, id, ok, wantID, wantOK)
		}
		if !ok {
			return
		}
		if !normalisedIDPattern.MatchString(id) {
			t.Fatalf("ParseIncidentID(%q) = %q: not canonical", s, id)
		}
		if again, ok := ParseIncidentID(id); !ok || again != id {
			t.Fatalf("ParseIncidentID(%q) = %q, %v: canonical ID not a fixed point", id, again, ok)
		}
	})
}

// fzEntities are the only entities the escapers write.
var fzEntities = []string{"&amp;", "&lt;", "&gt;"}

// fzSafe reports why mrkdwn text could notify, link or render broken, or
// "": every & must start a whole entity, no < or > may appear except (with
// mentions set) inside a whole plain user mention, and no bare special
// mention may appear.
func fzSafe(s string, mentions bool) string {
	if strings.Contains(s, "<!") {
		return "contains <!"
	}
	for i := 0; i < len(s); {
		switch s[i] {
		case '&':
			whole := false
			for _, e := range fzEntities {
				if strings.HasPrefix(s[i:], e) {
					whole = true
					i += len(e)
					break
				}
			}
			if !whole {
				return "bare or split entity at byte " + strconv.Itoa(i)
			}
			continue
		case '<':
			if m := userMention.FindString(s[i:]); mentions && m != "" {
				i += len(m)
				continue
			}
			return "unescaped < at byte " + strconv.Itoa(i)
		case '>':
			return "unescaped > at byte " + strconv.Itoa(i)
		}
		i++
	}
	if m := specialMentions.FindString(s); m != "" {
		return "bare special mention " + strconv.Quote(m)
	}
	return ""
}

// fzUnescape undoes the escaping of the strict and inline modes, and drops
// zero-width spaces (the escapers insert them to break @channel).
func fzUnescape(s string) string {
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(s)
	return strings.ReplaceAll(s, "\u200b", "")
}

// fzBlank is what the strict (inline = false) and inline escapers make of
// the characters they do not escape: invalid UTF-8 becomes U+FFFD and
// control characters become spaces.
func fzBlank(s string, inline bool) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' && !inline:
			return r
		case r < 0x20 || r == 0x7f:
			return ' '
		case inline && (r == '\u2028' || r == '\u2029'):
			return ' '
		}
		return r
	}, strings.ReplaceAll(s, "\u200b", ""))
}

// fzMrkdwn builds mrkdwn the way the renderers do, from pieces of s split
// at '|': escaped text, code spans, mentions and links, in turn.
func fzMrkdwn(s string) string {
	var b strings.Builder
	for i, p := range strings.Split(s, "|") {
		if i > 0 {
			b.WriteString(" ")
		}
		switch i % 4 {
		case 0:
			b.WriteString(clipLines(p, 500))
		case 1:
			b.WriteString(code(p, 60))
		case 2:
			b.WriteString(mentionOf(p))
		case 3:
			b.WriteString(link("https://console.example.com/events/"+url.PathEscape(p)+"?a=1&q="+url.QueryEscape(p), "CloudTrail event"))
		}
	}
	return b.String()
}

// fzBalanced reports why formatted mrkdwn is broken, or "": an entity cut
// short, a <...> sequence left open or nested, or a stray >.
func fzBalanced(s string) string {
	open := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '&':
			whole := false
			for _, e := range fzEntities {
				whole = whole || strings.HasPrefix(s[i:], e)
			}
			if !whole {
				return "split entity at byte " + strconv.Itoa(i)
			}
		case '<':
			if open {
				return "nested < at byte " + strconv.Itoa(i)
			}
			open = true
		case '>':
			if !open {
				return "stray > at byte " + strconv.Itoa(i)
			}
			open = false
		}
	}
	if open {
		return "unclosed <...>"
	}
	return ""
}

// FuzzEscape checks the text helpers that put outside values (user names,
// user agents, notes, typed commands) into Slack messages: Escape, the
// clip family (escape and cut), Truncate and plain (cut plain text) and
// fitMrkdwn (the last cut of formatted mrkdwn).
//
// Invariants: escaped output never holds <!, a bare < or >, a bare & or
// a bare @channel/@here/@everyone, and unescapes to the input (control
// characters blanked); a cut result has at most max runes, ends with "…"
// and is a prefix of the uncut result, so it never splits an entity or a
// mention; Truncate keeps short input byte for byte and otherwise keeps
// exactly max runes; plain text objects (plain) hold no angle bracket and
// no bare special mention and fit max; fitMrkdwn keeps formatted mrkdwn
// well formed.
//
// Truncate does not escape (its contract), so it may cut &amp; in text
// that someone escaped before; no caller hands it escaped text. Entity
// safety is checked where it is promised: the clip family and fitMrkdwn.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "priya.raman", "<!channel> deploy", "<@U0TEST01> & <#C0TEST01|sec>", "a&amp;b &lt;x&gt;",
		"@here @Channel @EVERYONE @@here", "tab\there\nnew\r\nline\x00\x7f", "\u2028sep\u2029", "\xff\xfe<\xc3", "`code` ``",
		"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", "é日本語🙂", "<https://evil.example|click>",
		"note|INC-1|U0TEST01|a b&c", "x|y`z|<@W123ABC>|<q>", strings.Repeat("&", 40) + strings.Repeat("<@U12345>", 5)} {
		for _, m := range []int{0, 1, 2, 5, 12, 64, 300} {
			f.Add(s, m)
		}
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if len(s) > 4096 {
			return
		}
		m := max % 320
		if m < 0 {
			m = -m
		}

		e := Escape(s)
		if why := fzSafe(e, false); why != "" {
			t.Fatalf("Escape(%q) = %q: %s", s, e, why)
		}
		if got, want := fzUnescape(e), fzBlank(s, false); got != want {
			t.Fatalf("Escape(%q) = %q: unescapes to %q, want %q", s, e, got, want)
		}

		for _, c := range []struct {
			name     string
			fn       func(string, int) string
			mentions bool
			inline   bool
		}{
			{"clip", clip, false, true},
			{"clipLines", clipLines, false, false},
			{"clipSafe", clipSafe, true, false},
		} {
			full, out := c.fn(s, -1), c.fn(s, m)
			if c.name == "clipLines" && full != e {
				t.Fatalf("clipLines(%q, -1) = %q, Escape = %q", s, full, e)
			}
			if why := fzSafe(out, c.mentions); why != "" {
				t.Fatalf("%s(%q, %d) = %q: %s", c.name, s, m, out, why)
			}
			if n := utf8.RuneCountInString(out); n > m {
				t.Fatalf("%s(%q, %d) = %q: %d runes", c.name, s, m, out, n)
			}
			switch {
			case out == full:
			case utf8.RuneCountInString(full) <= m:
				t.Fatalf("%s(%q, %d) = %q: cut although %q fits", c.name, s, m, out, full)
			case m > 0 && (!strings.HasSuffix(out, ellipsis) || !strings.HasPrefix(full, strings.TrimSuffix(out, ellipsis))):
				t.Fatalf("%s(%q, %d) = %q: not a prefix of %q ending with an ellipsis", c.name, s, m, out, full)
			case m == 0 && out != "":
				t.Fatalf("%s(%q, 0) = %q, want empty", c.name, s, out)
			}
			if !c.mentions {
				if got, want := fzUnescape(full), fzBlank(s, c.inline); got != want {
					t.Fatalf("%s(%q, -1) = %q: unescapes to %q, want %q", c.name, s, full, got, want)
				}
			}
		}

		tr := Truncate(s, m)
		switch n := utf8.RuneCountInString(s); {
		case m == 0:
			if tr != "" {
				t.Fatalf("Truncate(%q, 0) = %q", s, tr)
			}
		case n <= m:
			if tr != s {
				t.Fatalf("Truncate(%q, %d) = %q: changed input that fits", s, m, tr)
			}
		default:
			rs, ins := []rune(tr), []rune(s)
			if len(rs) != m || !strings.HasSuffix(tr, ellipsis) || string(rs[:m-1]) != string(ins[:m-1]) {
				t.Fatalf("Truncate(%q, %d) = %q: want the first %d runes and an ellipsis", s, m, tr, m-1)
			}
		}

		if m > 0 {
			p := plain(s, m).Text
			if strings.ContainsAny(p, "<>") || specialMentions.MatchString(p) || utf8.RuneCountInString(p) > m {
				t.Fatalf("plain(%q, %d) = %q: a bracket, a bare special mention or over %d runes", s, m, p, m)
			}
		}

		md := fzMrkdwn(s)
		if why := fzBalanced(md); why != "" {
			t.Fatalf("renderers built broken mrkdwn %q from %q: %s", md, s, why)
		}
		fit := fitMrkdwn(md, m)
		switch {
		case utf8.RuneCountInString(md) <= m:
			if fit != md {
				t.Fatalf("fitMrkdwn(%q, %d) = %q: changed text that fits", md, m, fit)
			}
		case m <= 1:
			if fit != "" {
				t.Fatalf("fitMrkdwn(%q, %d) = %q, want empty", md, m, fit)
			}
		default:
			cut := strings.TrimSuffix(fit, ellipsis)
			if utf8.RuneCountInString(fit) > m || !strings.HasSuffix(fit, ellipsis) || !strings.HasPrefix(md, cut) {
				t.Fatalf("fitMrkdwn(%q, %d) = %q: want a prefix of at most %d runes and an ellipsis", md, m, fit, m)
			}
			if why := fzBalanced(cut); why != "" {
				t.Fatalf("fitMrkdwn(%q, %d) = %q: %s", md, m, fit, why)
			}
			if strings.Count(cut, "`")%2 != 0 {
				t.Fatalf("fitMrkdwn(%q, %d) = %q: cut inside a code span", md, m, fit)
			}
		}
	})
}

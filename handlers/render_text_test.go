package handlers

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"priya.raman", "priya.raman"},
		{"<!channel>", "&lt;!channel&gt;"},
		{"a & b", "a &amp; b"},
		{"&amp;", "&amp;amp;"},
		{"<@U123|boss>", "&lt;@U123|boss&gt;"},
		{"<https://evilInput.example|click>", "&lt;https://evilInput.example|click&gt;"},
		{"hi @here and @Channel", "hi @\u200bhere and @\u200bChannel"},
		{"line\nbreak", "line\nbreak"},
		{"bad\xffutf8", "bad\uFFFDutf8"},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Fatalf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven char", 10, "eleven ch…"},
		{"ab<cd", 5, "ab…"},      // "&lt;" would not fit whole
		{"ab&cd", 7, "ab…"},      // the entity and "…" do not both fit
		{"ab&cd", 8, "ab&amp;…"}, // the entity fits, the rest does not
		{"a\nb\tc", 10, "a b c"},
		{"ééééé", 3, "éé…"},
		{"x", 0, ""},
	} {
		got := clip(tc.in, tc.max)
		if got != tc.want {
			t.Fatalf("clip(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
		if n := utf8.RuneCountInString(got); n > tc.max {
			t.Fatalf("clip(%q, %d) has %d characters", tc.in, tc.max, n)
		}
	}
	long := strings.Repeat("<&>", 1000) // a 3000-character user agent
	for _, max := range []int{1, 2, 5, 100, 200, 1001} {
		got := clip(long, max)
		if n := utf8.RuneCountInString(got); n > max {
			t.Fatalf("clip(long, %d) has %d characters", max, n)
		}
		if kept := strings.TrimSuffix(got, ellipsis); strings.ContainsAny(got, "<>") || (kept != "" && !strings.HasSuffix(kept, ";")) {
			t.Fatalf("clip(long, %d) = %q leaves a raw bracket or a split entity", max, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"日本語です", 4, "日本語…"}, {"abc", 0, ""},
	} {
		if got := Truncate(tc.in, tc.max); got != tc.want {
			t.Fatalf("Truncate(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

func TestCode(t *testing.T) {
	t.Parallel()
	if got, want := code("a`b<c", 20), "`a'b&lt;c`"; got != want {
		t.Fatalf("code = %q, want %q", got, want)
	}
	if got, want := code("", 20), "(none)"; got != want {
		t.Fatalf("code of empty = %q, want %q", got, want)
	}
}

func TestFitMrkdwn(t *testing.T) {
	t.Parallel()
	if got := fitMrkdwn("short", 10); got != "short" {
		t.Fatalf("fitMrkdwn short = %q", got)
	}
	in := strings.Repeat("x", 20) + "\n" + strings.Repeat("y", 20)
	if got, want := fitMrkdwn(in, 30), strings.Repeat("x", 20)+ellipsis; got != want {
		t.Fatalf("fitMrkdwn at a line break = %q, want %q", got, want)
	}
	if got, want := fitMrkdwn("see <https://example.com/a|link>", 20), "see "+ellipsis; got != want {
		t.Fatalf("fitMrkdwn inside a link = %q, want %q", got, want)
	}
	if got, want := fitMrkdwn("a &amp; b", 5), "a "+ellipsis; got != want {
		t.Fatalf("fitMrkdwn inside an entity = %q, want %q", got, want)
	}
	if got, want := fitMrkdwn("ua `Mozilla/5.0`", 10), "ua "+ellipsis; got != want {
		t.Fatalf("fitMrkdwn inside a code span = %q, want %q", got, want)
	}
}

func TestMentionOf(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"U0RESP01": "<@U0RESP01>", "W0ABC": "<@W0ABC>", "system": "mfabot", "": "someone",
		"<!channel>": "&lt;!channel&gt;", "u0lower": "u0lower",
	} {
		if got := mentionOf(in); got != want {
			t.Fatalf("mentionOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHumanDuration(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 12 * time.Minute: "12m", 2*time.Hour + 5*time.Minute: "2h 5m",
		3 * time.Hour: "3h", 76 * time.Hour: "3d 4h", 48 * time.Hour: "2d", -90 * time.Second: "1m",
	} {
		if got := humanDuration(d); got != want {
			t.Fatalf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestOrdinal(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 103: "103rd", 111: "111th"} {
		if got := ordinal(n); got != want {
			t.Fatalf("ordinal(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestList(t *testing.T) {
	t.Parallel()
	vals := []string{"a", "b<", "c", "d"}
	if got, want := list(vals, 2, 10, 0, clip), "a, b&lt;, +2 more"; got != want {
		t.Fatalf("list = %q, want %q", got, want)
	}
	if got, want := list(vals, 10, 10, 7, clip), "a, b&lt;, c, d, +3 more"; got != want {
		t.Fatalf("list with total = %q, want %q", got, want)
	}
	if got, want := list(nil, 10, 10, 0, clip), "none"; got != want {
		t.Fatalf("list of none = %q, want %q", got, want)
	}
}

func TestLink(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ url, want string }{
		{"https://example.com/a?b=1&c=2", "<https://example.com/a?b=1&amp;c=2|Runbook>"},
		{"https://example.com/x|<!channel>", "<https://example.com/x%7C%3C!channel%3E|Runbook>"},
		{"javascript:alert(1)", "Runbook (link not shown: not an http(s) URL)"},
		{"https://example.com/" + strings.Repeat("a", 1000), "Runbook (link too long to show)"},
	} {
		if got := link(tc.url, "Runbook"); got != tc.want {
			t.Fatalf("link(%q) = %q, want %q", Truncate(tc.url, 40), got, tc.want)
		}
	}
}

func TestClipSafe(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		max  int
		want string
	}{
		{"DM sent to <@U0PRIYA>", 100, "DM sent to <@U0PRIYA>"},
		{"<@U0BOSS|boss>", 100, "&lt;@U0BOSS|boss&gt;"},
		{"<!channel> <!here|here> <#C123>", 100, "&lt;!channel&gt; &lt;!here|here&gt; &lt;#C123&gt;"},
		{"<https://evilInput.example|click>", 100, "&lt;https://evilInput.example|click&gt;"},
		{"kept &lt;x&gt; &amp; raw & < >", 100, "kept &lt;x&gt; &amp; raw &amp; &lt; &gt;"},
		{"&amp", 100, "&amp;amp"},
		{"ab <@U0PRIYA>", 8, "ab …"},
		{"line\none", 100, "line\none"},
	} {
		if got := clipSafe(tc.in, tc.max); got != tc.want {
			t.Fatalf("clipSafe(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/mfabot/mfabot/internal/fakes/slackfake"
)

// transcript prints what people see in Slack, for `mfabot demo`.
type transcript struct {
	w     io.Writer
	names map[string]string
	step  int
}

// mention matches Slack's user mentions and date tokens in mrkdwn.
var (
	mentionRE = regexp.MustCompile(`<@([UW][A-Z0-9]+)>`)
	dateRE    = regexp.MustCompile(`<!date\^[0-9]+\^[^|>]*\|([^>]*)>`)
	linkRE    = regexp.MustCompile(`<(https?://[^|>]+)\|([^>]*)>`)
)

// heading starts a numbered step.
func (t *transcript) heading(format string, args ...any) {
	t.step++
	fmt.Fprintf(t.w, "\n── %d. %s\n", t.step, fmt.Sprintf(format, args...))
}

// note prints a line of narration.
func (t *transcript) note(format string, args ...any) {
	fmt.Fprintf(t.w, "   %s\n", fmt.Sprintf(format, args...))
}

// message prints a message as Slack would show it, indented.
func (t *transcript) message(who string, m slackfake.Message) {
	fmt.Fprintf(t.w, "   ┌ %s\n", who)
	for _, line := range strings.Split(t.text(m.Text, m.Blocks), "\n") {
		fmt.Fprintf(t.w, "   │ %s\n", line)
	}
	fmt.Fprintln(t.w, "   └")
}

// text renders blocks (or the fallback text) as plain lines.
func (t *transcript) text(fallback string, raw json.RawMessage) string {
	var blocks []struct {
		Type string `json:"type"`
		Text *struct {
			Text string `json:"text"`
		} `json:"text"`
		Fields []struct {
			Text string `json:"text"`
		} `json:"fields"`
		Elements []struct {
			Type string `json:"type"`
			Text json.RawMessage
		} `json:"elements"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &blocks) != nil || len(blocks) == 0 {
		return t.clean(fallback)
	}
	var out []string
	for _, b := range blocks {
		switch b.Type {
		case "header":
			if b.Text != nil {
				out = append(out, t.clean(b.Text.Text))
			}
		case "section":
			if b.Text != nil {
				out = append(out, t.clean(b.Text.Text))
			}
			for _, f := range b.Fields {
				out = append(out, t.clean(f.Text))
			}
		case "context":
			var parts []string
			for _, e := range b.Elements {
				parts = append(parts, t.clean(elementText(e.Text)))
			}
			out = append(out, strings.Join(parts, " · "))
		case "actions":
			var parts []string
			for _, e := range b.Elements {
				parts = append(parts, "["+elementText(e.Text)+"]")
			}
			out = append(out, strings.Join(parts, " "))
		case "divider":
			out = append(out, "────")
		}
	}
	return strings.Join(out, "\n")
}

// elementText reads the text of a context or button element.
func elementText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Text string `json:"text"`
	}
	json.Unmarshal(raw, &o)
	return o.Text
}

// clean turns mrkdwn into readable text: names for mentions, dates'
// fallbacks, links as "label (url)", Slack's escapes undone.
func (t *transcript) clean(s string) string {
	s = mentionRE.ReplaceAllStringFunc(s, func(m string) string {
		id := mentionRE.FindStringSubmatch(m)[1]
		if n, ok := t.names[id]; ok {
			return "@" + n
		}
		return "@" + id
	})
	s = dateRE.ReplaceAllString(s, "$1")
	s = linkRE.ReplaceAllString(s, "$2")
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "*", "").Replace(s)
	return s
}

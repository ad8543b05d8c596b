package handlers

import (
	"strings"

	"github.com/slack-go/slack"
)

// Slack's limits that the renderers keep to (see the Block Kit reference).
const (
	maxText        = 4000 // top-level text (the notification fallback)
	maxSectionText = 3000
	maxHeaderText  = 150
	maxButtonText  = 75
	maxViewText    = 24 // modal title, submit and close
)

// Message is a rendered Slack message: Text is the notification fallback
// (always set, at most 4000 characters, no secrets) and Blocks the Block Kit
// layout. Renderers are pure: they do no I/O and read no clock.
type Message struct {
	Text   string        `json:"text"`
	Blocks []slack.Block `json:"blocks"`
}

// Options returns the chat.postMessage / chat.update options that send the
// message. The text is passed unescaped because it is already mrkdwn.
func (m Message) Options() []slack.MsgOption {
	return []slack.MsgOption{slack.MsgOptionText(m.Text, false), slack.MsgOptionBlocks(m.Blocks...)}
}

// newMessage builds a message, keeping the fallback text within limits.
func newMessage(text string, blocks ...slack.Block) Message {
	return Message{Text: fitMrkdwn(text, maxText), Blocks: blocks}
}

// mrkdwn is a mrkdwn text object. Verbatim stops Slack from turning bare
// words into links or mentions; explicit <...> sequences still work.
func mrkdwn(text string) *slack.TextBlockObject {
	return &slack.TextBlockObject{Type: slack.MarkdownType, Text: text, Verbatim: true}
}

// plain is a plain_text text object with emoji, cut to max characters.
// Slack does not parse plain_text, but as a precaution angle brackets
// become look-alikes and bare special mentions are broken, so that no
// outside value can ever turn into a mention or a link.
func plain(text string, max int) *slack.TextBlockObject {
	text = strings.NewReplacer("<", "‹", ">", "›").Replace(strings.ToValidUTF8(text, "\uFFFD"))
	text = specialMentions.ReplaceAllString(text, "@\u200b$1")
	return slack.NewTextBlockObject(slack.PlainTextType, Truncate(text, max), true, false)
}

// sectionBlock is a mrkdwn section, cut to Slack's limit as a last guard.
func sectionBlock(id, text string) *slack.SectionBlock {
	if text == "" {
		text = " "
	}
	return slack.NewSectionBlock(mrkdwn(fitMrkdwn(text, maxSectionText)), nil, nil, slack.SectionBlockOptionBlockID(id))
}

// headerBlock is a plain_text header cut to Slack's limit.
func headerBlock(id, text string) *slack.HeaderBlock {
	return slack.NewHeaderBlock(plain(singleLine(text), maxHeaderText), slack.HeaderBlockOptionBlockID(id))
}

// singleLine replaces control characters and line breaks with spaces and
// invalid UTF-8 with U+FFFD, for plain_text that must stay on one line.
func singleLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// contextBlock is a context block with one mrkdwn element per non-empty
// item, at most ten.
func contextBlock(id string, items ...string) *slack.ContextBlock {
	var els []slack.MixedElement
	for _, it := range items {
		if it != "" && len(els) < 10 {
			els = append(els, mrkdwn(fitMrkdwn(it, 2000)))
		}
	}
	return slack.NewContextBlock(id, els...)
}

// button is a button whose value is the incident ID; style is "",
// "primary" or "danger".
func button(actionID, label, incidentID string, style slack.Style) *slack.ButtonBlockElement {
	b := slack.NewButtonBlockElement(actionID, Truncate(incidentID, 2000), plain(label, maxButtonText))
	if style != "" {
		b = b.WithStyle(style)
	}
	return b
}

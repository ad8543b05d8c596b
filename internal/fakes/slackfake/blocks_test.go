package slackfake

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// blocksJSON joins block objects into a JSON array.
func blocksJSON(blocks ...string) json.RawMessage {
	return json.RawMessage("[" + strings.Join(blocks, ",") + "]")
}

func section(text string) string {
	b, _ := json.Marshal(map[string]any{"type": "section", "text": map[string]any{"type": "mrkdwn", "text": text}})
	return string(b)
}

func button(actionID, text, value string) string {
	b, _ := json.Marshal(map[string]any{"type": "button", "action_id": actionID, "value": value,
		"text": map[string]any{"type": "plain_text", "text": text}})
	return string(b)
}

func repeatBlocks(block string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = block
	}
	return out
}

func TestValidateBlocks(t *testing.T) {
	t.Parallel()
	field := `{"type":"mrkdwn","text":"f"}`
	for _, tc := range []struct {
		name      string
		raw       json.RawMessage
		maxBlocks int
		want      string // the first message, "" for valid blocks
	}{
		{"valid alert", blocksJSON(`{"type":"header","text":{"type":"plain_text","text":"MFA failure"}}`, section("*priya*"),
			`{"type":"divider"}`, `{"type":"context","elements":[{"type":"mrkdwn","text":"eu-west-1"}]}`,
			`{"type":"actions","block_id":"b_actions","elements":[`+button("approve", "Approve", "alert-42")+`,`+button("deny", "Deny", "alert-42")+`]}`), 0, ""},
		{"section 3000", blocksJSON(section(strings.Repeat("é", 3000))), 0, ""},
		{"section 3001", blocksJSON(section(strings.Repeat("a", 3001))), 0, "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"},
		{"empty section text", blocksJSON(section("")), 0, "[ERROR] must be more than 0 characters [json-pointer:/blocks/0/text/text]"},
		{"50 blocks", blocksJSON(repeatBlocks(`{"type":"divider"}`, 50)...), 0, ""},
		{"51 blocks", blocksJSON(repeatBlocks(`{"type":"divider"}`, 51)...), 0, "[ERROR] no more than 50 items allowed [json-pointer:/blocks]"},
		{"100 blocks in a view", blocksJSON(repeatBlocks(`{"type":"divider"}`, 100)...), 100, ""},
		{"101 blocks in a view", blocksJSON(repeatBlocks(`{"type":"divider"}`, 101)...), 100, "[ERROR] no more than 100 items allowed [json-pointer:/blocks]"},
		{"11 fields", blocksJSON(`{"type":"section","fields":[` + strings.Join(repeatBlocks(field, 11), ",") + `]}`), 0, "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]"},
		{"field 2001", blocksJSON(`{"type":"section","fields":[{"type":"mrkdwn","text":"` + strings.Repeat("f", 2001) + `"}]}`), 0, "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/fields/0/text]"},
		{"header 151", blocksJSON(`{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}`), 0, "[ERROR] must be less than 151 characters [json-pointer:/blocks/0/text/text]"},
		{"header mrkdwn", blocksJSON(`{"type":"header","text":{"type":"mrkdwn","text":"h"}}`), 0, "[ERROR] must be plain_text [json-pointer:/blocks/0/text/type]"},
		{"button text 76", blocksJSON(`{"type":"actions","elements":[` + button("a", strings.Repeat("b", 76), "v") + `]}`), 0, "[ERROR] must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]"},
		{"button value 2001", blocksJSON(`{"type":"actions","elements":[` + button("a", "b", strings.Repeat("v", 2001)) + `]}`), 0, "[ERROR] must be less than 2001 characters [json-pointer:/blocks/0/elements/0/value]"},
		{"26 actions", blocksJSON(`{"type":"actions","elements":[` + strings.Join(func() []string {
			out := make([]string, 26)
			for i := range out {
				out[i] = button(fmt.Sprintf("a%d", i), "b", "v")
			}
			return out
		}(), ",") + `]}`), 0, "[ERROR] no more than 25 items allowed [json-pointer:/blocks/0/elements]"},
		{"11 context elements", blocksJSON(`{"type":"context","elements":[` + strings.Join(repeatBlocks(field, 11), ",") + `]}`), 0, "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/elements]"},
		{"duplicate block_id", blocksJSON(`{"type":"divider","block_id":"x"}`, `{"type":"divider","block_id":"x"}`), 0, "[ERROR] duplicate block_id: x [json-pointer:/blocks/1/block_id]"},
		{"block_id 256", blocksJSON(`{"type":"divider","block_id":"` + strings.Repeat("i", 256) + `"}`), 0, "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/block_id]"},
		{"duplicate action_id in a block", blocksJSON(`{"type":"actions","elements":[` + button("a", "b", "v") + `,` + button("a", "c", "v") + `]}`), 0, "[ERROR] duplicate action_id: a [json-pointer:/blocks/0/elements/1/action_id]"},
		{"same action_id in two blocks", blocksJSON(`{"type":"actions","elements":[`+button("a", "b", "v")+`]}`, `{"type":"actions","elements":[`+button("a", "b", "v")+`]}`), 0, ""},
		{"action_id 256", blocksJSON(`{"type":"actions","elements":[` + button(strings.Repeat("a", 256), "b", "v") + `]}`), 0, "[ERROR] must be less than 256 characters [json-pointer:/blocks/0/elements/0/action_id]"},
		{"unknown type", blocksJSON(`{"type":"carousel"}`), 0, "[ERROR] unsupported block type: carousel [json-pointer:/blocks/0/type]"},
		{"image without alt_text", blocksJSON(`{"type":"image","image_url":"https://example.com/a.png"}`), 0, "[ERROR] missing required field: alt_text [json-pointer:/blocks/0]"},
		{"markdown 12001", blocksJSON(`{"type":"markdown","text":"` + strings.Repeat("m", 12001) + `"}`), 0, "[ERROR] must be less than 12001 characters [json-pointer:/blocks/0/text]"},
		{"not JSON", json.RawMessage(`[{`), 0, "[ERROR] blocks must be a JSON array of block objects [json-pointer:/blocks]"},
	} {
		msgs := ValidateBlocks(tc.raw, tc.maxBlocks)
		got := ""
		if len(msgs) > 0 {
			got = msgs[0]
		}
		if got != tc.want {
			t.Fatalf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

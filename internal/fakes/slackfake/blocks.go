package slackfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Block count limits (Slack Block Kit reference).
const (
	maxMessageBlocks = 50
	maxViewBlocks    = 100
)

// ValidateBlocks checks a JSON array of Block Kit blocks against the limits
// Slack enforces and returns one message per violation, formatted like
// Slack's response_metadata.messages, for example
// "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]".
// It returns nil for valid blocks. maxBlocks is 50 for messages and 100 for
// modals; zero or less means 50. Checked are: the block count, block_id
// (≤ 255, unique in the message), action_id (≤ 255, unique in its block),
// section text (1..3000) and fields (≤ 10 of ≤ 2000), header text (plain_text
// ≤ 150), button text (≤ 75) and value (≤ 2000), actions elements (≤ 25),
// context elements (≤ 10), image alt_text, markdown text (≤ 12000), input
// labels, and the block types section, header, divider, context, actions,
// input, rich_text, image and markdown.
func ValidateBlocks(raw json.RawMessage, maxBlocks int) []string {
	msgs, _ := validateBlocks(raw, maxBlocks)
	return msgs
}

// validateBlocks is ValidateBlocks that also reports whether the input is not
// a JSON array at all (Slack's invalid_blocks_format).
func validateBlocks(raw json.RawMessage, maxBlocks int) ([]string, bool) {
	if maxBlocks <= 0 {
		maxBlocks = maxMessageBlocks
	}
	var blocks []any
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&blocks); err != nil {
		return []string{"[ERROR] blocks must be a JSON array of block objects [json-pointer:/blocks]"}, true
	}
	v := &validator{}
	if len(blocks) > maxBlocks {
		v.errorf("/blocks", "no more than %d items allowed", maxBlocks)
	}
	blockIDs := map[string]bool{}
	for i, b := range blocks {
		ptr := fmt.Sprintf("/blocks/%d", i)
		obj, ok := b.(map[string]any)
		if !ok {
			v.errorf(ptr, "expected an object")
			continue
		}
		if id, present := obj["block_id"]; present {
			if str, ok := v.str(ptr+"/block_id", id, 1, 255); ok {
				if blockIDs[str] {
					v.errorf(ptr+"/block_id", "duplicate block_id: %s", str)
				}
				blockIDs[str] = true
			}
		}
		v.block(ptr, obj)
	}
	return v.msgs, false
}

// validator collects violation messages.
type validator struct{ msgs []string }

func (v *validator) errorf(ptr, format string, args ...any) {
	v.msgs = append(v.msgs, "[ERROR] "+fmt.Sprintf(format, args...)+" [json-pointer:"+ptr+"]")
}

// str checks a string of minChars..maxChars characters.
func (v *validator) str(ptr string, val any, minChars, maxChars int) (string, bool) {
	s, ok := val.(string)
	if !ok {
		v.errorf(ptr, "must be a string")
		return "", false
	}
	n := utf8.RuneCountInString(s)
	switch {
	case n < minChars:
		v.errorf(ptr, "must be more than %d characters", minChars-1)
		return s, false
	case n > maxChars:
		v.errorf(ptr, "must be less than %d characters", maxChars+1)
		return s, false
	}
	return s, true
}

// optStr checks an optional string member.
func (v *validator) optStr(ptr string, obj map[string]any, key string, maxChars int) {
	if val, ok := obj[key]; ok {
		v.str(ptr+"/"+key, val, 0, maxChars)
	}
}

// text checks a composition text object; plainOnly requires plain_text.
func (v *validator) text(ptr string, val any, maxChars int, plainOnly bool) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.errorf(ptr, "must be a text object")
		return
	}
	switch obj["type"] {
	case "plain_text":
	case "mrkdwn":
		if plainOnly {
			v.errorf(ptr+"/type", "must be plain_text")
		}
		if _, ok := obj["emoji"]; ok {
			v.errorf(ptr+"/emoji", "emoji is only allowed with plain_text")
		}
	default:
		v.errorf(ptr+"/type", "must be one of plain_text, mrkdwn")
	}
	v.str(ptr+"/text", obj["text"], 1, maxChars)
}

// array returns the array member key with minItems..maxItems items.
func (v *validator) array(ptr string, obj map[string]any, key string, minItems, maxItems int) []any {
	val, ok := obj[key]
	if !ok {
		if minItems > 0 {
			v.errorf(ptr, "missing required field: %s", key)
		}
		return nil
	}
	arr, ok := val.([]any)
	if !ok {
		v.errorf(ptr+"/"+key, "must be an array")
		return nil
	}
	if len(arr) < minItems {
		v.errorf(ptr+"/"+key, "must provide at least %d items", minItems)
	}
	if len(arr) > maxItems {
		v.errorf(ptr+"/"+key, "no more than %d items allowed", maxItems)
	}
	return arr
}

// block checks one block by type.
func (v *validator) block(ptr string, obj map[string]any) {
	actionIDs := map[string]bool{}
	switch t, _ := obj["type"].(string); t {
	case "section":
		_, hasText := obj["text"]
		if hasText {
			v.text(ptr+"/text", obj["text"], 3000, false)
		}
		fields := v.array(ptr, obj, "fields", 0, 10)
		for i, f := range fields {
			v.text(fmt.Sprintf("%s/fields/%d", ptr, i), f, 2000, false)
		}
		if !hasText && len(fields) == 0 {
			v.errorf(ptr, "missing required field: text")
		}
		if acc, ok := obj["accessory"]; ok {
			v.element(ptr+"/accessory", acc, actionIDs)
		}
	case "header":
		if _, ok := obj["text"]; !ok {
			v.errorf(ptr, "missing required field: text")
		} else {
			v.text(ptr+"/text", obj["text"], 150, true)
		}
	case "divider":
	case "context":
		for i, e := range v.array(ptr, obj, "elements", 1, 10) {
			p := fmt.Sprintf("%s/elements/%d", ptr, i)
			if m, ok := e.(map[string]any); ok && m["type"] == "image" {
				v.image(p, m)
			} else {
				v.text(p, e, 3000, false)
			}
		}
	case "actions":
		for i, e := range v.array(ptr, obj, "elements", 1, 25) {
			v.element(fmt.Sprintf("%s/elements/%d", ptr, i), e, actionIDs)
		}
	case "input":
		if _, ok := obj["label"]; !ok {
			v.errorf(ptr, "missing required field: label")
		} else {
			v.text(ptr+"/label", obj["label"], 2000, true)
		}
		if h, ok := obj["hint"]; ok {
			v.text(ptr+"/hint", h, 2000, true)
		}
		if e, ok := obj["element"]; !ok {
			v.errorf(ptr, "missing required field: element")
		} else {
			v.element(ptr+"/element", e, actionIDs)
		}
	case "image":
		v.image(ptr, obj)
		if t, ok := obj["title"]; ok {
			v.text(ptr+"/title", t, 2000, true)
		}
	case "markdown":
		v.str(ptr+"/text", obj["text"], 1, 12000)
	case "rich_text":
		v.array(ptr, obj, "elements", 0, 1<<20)
	case "":
		v.errorf(ptr, "missing required field: type")
	default:
		v.errorf(ptr+"/type", "unsupported block type: %s", t)
	}
}

// image checks an image block or image element.
func (v *validator) image(ptr string, obj map[string]any) {
	_, url := obj["image_url"]
	_, file := obj["slack_file"]
	if !url && !file {
		v.errorf(ptr, "missing required field: image_url")
	}
	v.optStr(ptr, obj, "image_url", 3000)
	if alt, ok := obj["alt_text"]; !ok {
		v.errorf(ptr, "missing required field: alt_text")
	} else {
		v.str(ptr+"/alt_text", alt, 1, 2000)
	}
}

// element checks an interactive element; actionIDs holds the block's ids.
func (v *validator) element(ptr string, val any, actionIDs map[string]bool) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.errorf(ptr, "expected an object")
		return
	}
	if id, present := obj["action_id"]; present {
		if str, ok := v.str(ptr+"/action_id", id, 1, 255); ok {
			if actionIDs[str] {
				v.errorf(ptr+"/action_id", "duplicate action_id: %s", str)
			}
			actionIDs[str] = true
		}
	}
	switch obj["type"] {
	case "button":
		if _, ok := obj["text"]; !ok {
			v.errorf(ptr, "missing required field: text")
		} else {
			v.text(ptr+"/text", obj["text"], 75, true)
		}
		v.optStr(ptr, obj, "value", 2000)
		v.optStr(ptr, obj, "url", 3000)
		v.optStr(ptr, obj, "accessibility_label", 75)
		if st, ok := obj["style"]; ok && st != "primary" && st != "danger" {
			v.errorf(ptr+"/style", "must be one of primary, danger")
		}
	case "image":
		v.image(ptr, obj)
	case "static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes":
		if p, ok := obj["placeholder"]; ok {
			v.text(ptr+"/placeholder", p, 150, true)
		}
		for i, o := range v.array(ptr, obj, "options", 0, 100) {
			if m, ok := o.(map[string]any); ok {
				p := fmt.Sprintf("%s/options/%d", ptr, i)
				v.text(p+"/text", m["text"], 75, false)
				v.optStr(p, m, "value", 150)
			}
		}
	case nil:
		v.errorf(ptr, "missing required field: type")
	}
}

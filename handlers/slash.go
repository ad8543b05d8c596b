package handlers

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Command is one /mfa subcommand: its name, how to call it, and what it
// does. HelpMessage is generated from Commands.
type Command struct {
	Name  string
	Usage string
	Help  string
}

// Commands are the /mfa subcommands, in the order help lists them.
var Commands = []Command{
	{Name: "list", Usage: "/mfa list", Help: "List incidents, open ones first (at most 20)."},
	{Name: "show", Usage: "/mfa show ID", Help: "Show an incident and the end of its timeline. ID is INC-42 or just 42."},
	{Name: "stats", Usage: "/mfa stats", Help: "Incidents by status and classification, median time to resolve, and the last 90 days."},
	{Name: "note", Usage: "/mfa note ID text", Help: "Add a note to an incident's timeline."},
	{Name: "help", Usage: "/mfa help", Help: "Show this help."},
}

// Invocation is a parsed /mfa command: the command name (one of
// Commands), the normalised incident ID ("INC-42") for show and note, and
// the note's text.
type Invocation struct {
	Command string
	ID      string
	Text    string
}

// UserError is a mistake in what someone typed; Msg is fit to show them.
type UserError struct{ Msg string }

// Error returns the message for the person.
func (e *UserError) Error() string { return e.Msg }

// maxSlashInput is the longest /mfa text accepted, in characters.
const maxSlashInput = 3000

// incidentIDPrefix starts every incident ID.
const incidentIDPrefix = "INC-"

// ParseSlash parses the text after /mfa. Command names are
// case-insensitive and whitespace is free; empty text means help. Errors
// are *UserError: unknown command, missing or malformed ID, empty note,
// extra arguments, or input over 3000 characters. A note's text keeps its
// inner spacing, and the entities Slack may send (&amp; &lt; &gt;) are
// decoded, since every renderer escapes it again.
func ParseSlash(text string) (Invocation, error) {
	if utf8.RuneCountInString(text) > maxSlashInput {
		return Invocation{}, &UserError{Msg: "That's too long: /mfa takes at most 3000 characters."}
	}
	text = strings.ToValidUTF8(text, "\uFFFD")
	name, rest := nextField(text)
	if name == "" {
		return Invocation{Command: "help"}, nil
	}
	cmd, ok := lookupCommand(name)
	if !ok {
		return Invocation{}, &UserError{Msg: `Unknown command "` + Truncate(name, 40) + `". Try /mfa help.`}
	}
	inv := Invocation{Command: cmd.Name}
	switch cmd.Name {
	case "help":
		return inv, nil
	case "list", "stats":
		if strings.TrimSpace(rest) != "" {
			return Invocation{}, &UserError{Msg: cmd.Name + " takes no arguments. Usage: " + cmd.Usage}
		}
		return inv, nil
	}
	rawID, rest := nextField(rest)
	if rawID == "" {
		return Invocation{}, &UserError{Msg: "Which incident? Usage: " + cmd.Usage}
	}
	id, ok := ParseIncidentID(rawID)
	if !ok {
		return Invocation{}, &UserError{Msg: `"` + Truncate(rawID, 40) + `" is not an incident ID; IDs look like INC-42 (or just 42).`}
	}
	inv.ID = id
	rest = strings.TrimSpace(rest)
	switch cmd.Name {
	case "show":
		if rest != "" {
			return Invocation{}, &UserError{Msg: "show takes only an incident ID. Usage: " + cmd.Usage}
		}
	case "note":
		rest = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(rest)
		if rest = strings.TrimSpace(rest); rest == "" {
			return Invocation{}, &UserError{Msg: "The note is empty. Usage: " + cmd.Usage}
		}
		inv.Text = rest
	}
	return inv, nil
}

// lookupCommand finds a command by name, ignoring case.
func lookupCommand(name string) (Command, bool) {
	for _, c := range Commands {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Command{}, false
}

// nextField splits off the first whitespace-separated word of s and
// returns it with the rest of s, whose spacing is kept.
func nextField(s string) (field, rest string) {
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	if i := strings.IndexFunc(s, unicode.IsSpace); i >= 0 {
		return s[:i], s[i:]
	}
	return s, ""
}

// ParseIncidentID normalises an incident ID as people type it: "INC-42",
// "inc-042" and "42" all give "INC-42". It reports false for anything else,
// including zero and numbers of more than 18 digits.
func ParseIncidentID(s string) (string, bool) {
	if len(s) > len(incidentIDPrefix) && strings.EqualFold(s[:len(incidentIDPrefix)], incidentIDPrefix) {
		s = s[len(incidentIDPrefix):]
	}
	if s == "" || len(s) > 18 {
		return "", false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return "", false
	}
	return incidentIDPrefix + strconv.FormatUint(n, 10), true
}

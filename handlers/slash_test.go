package handlers

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseSlash(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Invocation
	}{
		{"", Invocation{Command: "help"}},
		{"   \t ", Invocation{Command: "help"}},
		{"help", Invocation{Command: "help"}},
		{"HELP me please", Invocation{Command: "help"}},
		{"list", Invocation{Command: "list"}},
		{"  List  ", Invocation{Command: "list"}},
		{"stats", Invocation{Command: "stats"}},
		{"show INC-42", Invocation{Command: "show", ID: "INC-42"}},
		{"show inc-42", Invocation{Command: "show", ID: "INC-42"}},
		{"SHOW 42", Invocation{Command: "show", ID: "INC-42"}},
		{"show\tINC-007 ", Invocation{Command: "show", ID: "INC-7"}},
		{"note INC-42 called her,  she's fine", Invocation{Command: "note", ID: "INC-42", Text: "called her,  she's fine"}},
		{"note 42\nline one\nline two\n", Invocation{Command: "note", ID: "INC-42", Text: "line one\nline two"}},
		{"note 42 a &lt;b&gt; &amp; c", Invocation{Command: "note", ID: "INC-42", Text: "a <b> & c"}},
	} {
		got, err := ParseSlash(tc.in)
		if err != nil {
			t.Fatalf("ParseSlash(%q): %v", tc.in, err)
		}
		if got != tc.want {
			t.Fatalf("ParseSlash(%q) = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseSlashErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"lsit", `Unknown command "lsit". Try /mfa help.`},
		{"show", "Which incident? Usage: /mfa show ID"},
		{"note", "Which incident? Usage: /mfa note ID text"},
		{"show INC-", `"INC-" is not an incident ID; IDs look like INC-42 (or just 42).`},
		{"show INC-4x", `"INC-4x" is not an incident ID; IDs look like INC-42 (or just 42).`},
		{"show 0", `"0" is not an incident ID; IDs look like INC-42 (or just 42).`},
		{"show -1", `"-1" is not an incident ID; IDs look like INC-42 (or just 42).`},
		{"show 1234567890123456789", `"1234567890123456789" is not an incident ID; IDs look like INC-42 (or just 42).`},
		{"show ４２", `"４２" is not an incident ID; IDs look like INC-42 (or just 42).`},
		{"show 42 43", "show takes only an incident ID. Usage: /mfa show ID"},
		{"note 42", "The note is empty. Usage: /mfa note ID text"},
		{"note 42    ", "The note is empty. Usage: /mfa note ID text"},
		{"list all", "list takes no arguments. Usage: /mfa list"},
		{"stats now", "stats takes no arguments. Usage: /mfa stats"},
		{"note 42 " + strings.Repeat("x", 3000), "That's too long: /mfa takes at most 3000 characters."},
	} {
		_, err := ParseSlash(tc.in)
		var ue *UserError
		if !errors.As(err, &ue) {
			t.Fatalf("ParseSlash(%q): error %v, want a *UserError", Truncate(tc.in, 40), err)
		}
		if ue.Error() != tc.want {
			t.Fatalf("ParseSlash(%q): %q, want %q", Truncate(tc.in, 40), ue.Error(), tc.want)
		}
	}
}

func TestParseIncidentID(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"INC-1": "INC-1", "inc-0042": "INC-42", "Inc-9": "INC-9", "17": "INC-17",
		"999999999999999999": "INC-999999999999999999",
	} {
		got, ok := ParseIncidentID(in)
		if got != want || !ok {
			t.Fatalf("ParseIncidentID(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "INC-", "INC--1", "INC-1.5", "1e3", "#4", "INC-0", "INCX-4", "1234567890123456789"} {
		if got, ok := ParseIncidentID(in); ok || got != "" {
			t.Fatalf("ParseIncidentID(%q) = %q, %v; want it refused", in, got, ok)
		}
	}
}

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	m := HelpMessage()
	raw := string(goldenJSON(t, m))
	for _, c := range Commands {
		if !strings.Contains(raw, c.Usage) || !strings.Contains(raw, c.Help) {
			t.Fatalf("help lacks %q", c.Usage)
		}
		if _, err := ParseSlash(c.Name); err != nil && !strings.HasPrefix(err.Error(), "Which incident?") {
			t.Fatalf("command %q from the table does not parse: %v", c.Name, err)
		}
	}
}

var normalisedIDPattern = regexp.MustCompile(`^INC-[1-9][0-9]*$`)

func FuzzParseSlash(f *testing.F) {
	for _, s := range []string{"", "help", "list", "stats", "show INC-42", "show 42", "note 42 hi there", "note INC-1 \n x",
		"SHOW inc-007", "lsit", "show", "note 42", "show 0", "note 42 &lt;!channel&gt;", "\xff\xfe", "show ４２", strings.Repeat("a ", 1600)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		inv, err := ParseSlash(text)
		if err != nil {
			var ue *UserError
			if !errors.As(err, &ue) || ue.Msg == "" {
				t.Fatalf("ParseSlash(%q): error %v is not a *UserError", text, err)
			}
			return
		}
		if _, ok := lookupCommand(inv.Command); !ok || inv.Command != strings.ToLower(inv.Command) {
			t.Fatalf("ParseSlash(%q): unknown command %q", text, inv.Command)
		}
		switch inv.Command {
		case "show", "note":
			if !normalisedIDPattern.MatchString(inv.ID) {
				t.Fatalf("ParseSlash(%q): ID %q is not normalised", text, inv.ID)
			}
		default:
			if inv.ID != "" || inv.Text != "" {
				t.Fatalf("ParseSlash(%q) = %+v: %s takes no arguments", text, inv, inv.Command)
			}
		}
		if inv.Command == "note" && (strings.TrimSpace(inv.Text) == "" || utf8.RuneCountInString(inv.Text) > maxSlashInput) {
			t.Fatalf("ParseSlash(%q): note text %q", text, inv.Text)
		}
		if inv.Command != "note" && inv.Text != "" {
			t.Fatalf("ParseSlash(%q): text %q for %s", text, inv.Text, inv.Command)
		}
		if !utf8.ValidString(inv.Text) {
			t.Fatalf("ParseSlash(%q): invalid UTF-8 in text", text)
		}
	})
}

package handlers

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/mfabot/mfabot/internal/incident"
)

// Caps on what /mfa answers list.
const (
	listMax          = 20
	listPerSection   = 10
	showTimeline     = 10
	showTimelineLine = 600
)

// HelpMessage renders the /mfa help, generated from Commands.
func HelpMessage() Message {
	lines := make([]string, 0, len(Commands))
	usages := make([]string, 0, len(Commands))
	for _, c := range Commands {
		lines = append(lines, "`"+c.Usage+"` — "+Escape(c.Help))
		usages = append(usages, c.Usage)
	}
	return newMessage("mfabot commands: "+strings.Join(usages, ", "),
		headerBlock("help_header", ":question: "+SlashCommand+" commands"),
		sectionBlock("help_commands", strings.Join(lines, "\n")),
		contextBlock("help_context", "Buttons on each alert do the rest: investigate, notify the user, request an MFA reset, resolve."),
	)
}

// ListMessage renders incidents one compact line each, open ones first and
// then the most recent, at most 20 with "+N more".
func ListMessage(incs []*incident.Incident) Message {
	sorted := make([]*incident.Incident, 0, len(incs))
	open := 0
	for _, inc := range incs {
		if inc != nil {
			sorted = append(sorted, inc)
			if inc.Status == incident.StatusOpen {
				open++
			}
		}
	}
	slices.SortStableFunc(sorted, func(a, b *incident.Incident) int {
		return cmp.Or(
			cmp.Compare(statusOrder(a.Status), statusOrder(b.Status)),
			b.LastSeen.Compare(a.LastSeen),
			cmp.Compare(a.ID, b.ID))
	})
	summary := fmt.Sprintf("%s, %d open", plural(len(sorted), "incident", "incidents"), open)
	blocks := []slack.Block{headerBlock("list_header", ":clipboard: Incidents")}
	if len(sorted) == 0 {
		blocks = append(blocks, sectionBlock("list_empty", "No incidents."))
		return newMessage("No incidents.", blocks...)
	}
	var lines []string
	for i, inc := range sorted {
		if i == listMax {
			break
		}
		lines = append(lines, listLine(inc))
	}
	for i := 0; i < len(lines); i += listPerSection {
		chunk := lines[i:min(i+listPerSection, len(lines))]
		blocks = append(blocks, sectionBlock(fmt.Sprintf("list_%d", i/listPerSection+1), strings.Join(chunk, "\n")))
	}
	footer := summary
	if n := len(sorted) - len(lines); n > 0 {
		footer += fmt.Sprintf(" · +%d more not shown", n)
	}
	blocks = append(blocks, contextBlock("list_context", footer, "`/mfa show ID` for details"))
	return newMessage(summary, blocks...)
}

// statusOrder puts open incidents first, then recovered, then the rest.
func statusOrder(s incident.Status) int {
	switch s {
	case incident.StatusOpen:
		return 0
	case incident.StatusRecovered:
		return 1
	}
	return 2
}

// listLine is one incident in a list.
func listLine(inc *incident.Incident) string {
	return fmt.Sprintf("%s *%s* %s · %s · %s · last %s", code(inc.ID, 42), clip(string(inc.Status), 20),
		clip(string(inc.Severity), 10), clip(title(inc), 140), plural(inc.Failures, "failure", "failures"), utc(inc.LastSeen))
}

// Stats are the figures /mfa stats shows.
type Stats struct {
	Open, Recovered, Resolved int
	ByClassification          map[incident.Classification]int
	MedianResolution          time.Duration
	Last90d                   int
}

// StatsMessage renders incident statistics.
func StatsMessage(s Stats) Message {
	median := "n/a"
	if s.MedianResolution > 0 {
		median = humanDuration(s.MedianResolution)
	}
	fields := []*slack.TextBlockObject{
		mrkdwn(fmt.Sprintf("*Open*\n%d", s.Open)),
		mrkdwn(fmt.Sprintf("*Recovered*\n%d", s.Recovered)),
		mrkdwn(fmt.Sprintf("*Resolved*\n%d", s.Resolved)),
		mrkdwn(fmt.Sprintf("*Last 90 days*\n%d", s.Last90d)),
		mrkdwn("*Median resolution*\n" + median),
	}
	classes := make([]incident.Classification, 0, len(s.ByClassification))
	for c := range s.ByClassification {
		classes = append(classes, c)
	}
	slices.SortFunc(classes, func(a, b incident.Classification) int {
		return cmp.Or(cmp.Compare(b.Rank(), a.Rank()), cmp.Compare(a, b))
	})
	lines := []string{"*By classification*"}
	for i, c := range classes {
		if i == 20 {
			lines = append(lines, fmt.Sprintf("+%d more", len(classes)-i))
			break
		}
		name := classificationWords(c)
		if name == "unclassified" && c != "" {
			name = clip(string(c), 60)
		}
		lines = append(lines, fmt.Sprintf("• %s: %d", name, s.ByClassification[c]))
	}
	if len(classes) == 0 {
		lines = append(lines, "none")
	}
	return newMessage(fmt.Sprintf("mfabot stats: %d open, %d recovered, %d resolved; %d in the last 90 days; median resolution %s",
		s.Open, s.Recovered, s.Resolved, s.Last90d, median),
		headerBlock("stats_header", ":bar_chart: mfabot stats"),
		slack.NewSectionBlock(nil, fields, nil, slack.SectionBlockOptionBlockID("stats_counts")),
		sectionBlock("stats_classes", strings.Join(lines, "\n")),
	)
}

// ShowMessage renders an incident for /mfa show: the alert without its
// buttons, then the last timeline lines.
func ShowMessage(v AlertView, timeline []incident.Entry) Message {
	m := alertBody(v)
	m.Blocks = append(m.Blocks, &slack.DividerBlock{Type: slack.MBTDivider, BlockID: "show_divider"})
	start := max(0, len(timeline)-showTimeline)
	head := "*Timeline*"
	if start > 0 {
		head += fmt.Sprintf(" (last %d of %d)", len(timeline)-start, len(timeline))
	}
	if len(timeline) == 0 {
		head += ": nothing yet"
	}
	n, cur := 1, head
	for _, e := range timeline[start:] {
		line := fitMrkdwn(TimelineLine(e), showTimelineLine)
		if len([]rune(cur))+1+len([]rune(line)) > maxSectionText {
			m.Blocks = append(m.Blocks, sectionBlock(fmt.Sprintf("show_timeline_%d", n), cur))
			n, cur = n+1, line
			continue
		}
		cur += "\n" + line
	}
	m.Blocks = append(m.Blocks, sectionBlock(fmt.Sprintf("show_timeline_%d", n), cur))
	return m
}

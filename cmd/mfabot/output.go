package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
)

// incidentJSON is the documented shape of one incident in replay's output.
type incidentJSON struct {
	ID      string `json:"id"`
	Subject struct {
		Kind     incident.Kind `json:"kind"`
		Account  string        `json:"account"`
		User     string        `json:"user"`
		SourceIP string        `json:"source_ip"`
	} `json:"subject"`
	Classification  incident.Classification `json:"classification"`
	Reason          string                  `json:"reason"`
	Severity        incident.Severity       `json:"severity"`
	Stage           incident.Stage          `json:"stage"`
	Failures        int                     `json:"failures"`
	FirstSeen       string                  `json:"first_seen"`
	LastSeen        string                  `json:"last_seen"`
	SourceIPs       []string                `json:"source_ips"`
	PriorMFASuccess *string                 `json:"prior_mfa_success"`
	Status          incident.Status         `json:"status"`
	RecoveredAt     *string                 `json:"recovered_at,omitempty"`
	Targets         []string                `json:"targets,omitempty"`
	UnknownTargets  int                     `json:"unknown_targets,omitempty"`
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func optTime(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := rfc3339(*t)
	return &s
}

func toJSON(inc *incident.Incident) incidentJSON {
	var o incidentJSON
	o.ID = inc.ID
	o.Subject.Kind = inc.Subject.Kind
	o.Subject.Account = inc.Subject.Account
	o.Subject.User = inc.Subject.User
	o.Subject.SourceIP = inc.Subject.SourceIP
	o.Classification = inc.Classification
	o.Reason = inc.Reason
	o.Severity = inc.Severity
	o.Stage = inc.Stage
	o.Failures = inc.Failures
	o.FirstSeen = rfc3339(inc.FirstSeen)
	o.LastSeen = rfc3339(inc.LastSeen)
	o.SourceIPs = inc.SourceIPs
	if o.SourceIPs == nil {
		o.SourceIPs = []string{}
	}
	o.PriorMFASuccess = optTime(inc.PriorMFASuccess)
	o.Status = inc.Status
	o.RecoveredAt = optTime(inc.RecoveredAt)
	o.Targets = inc.Targets
	o.UnknownTargets = inc.UnknownTargets
	return o
}

// writeJSON prints one incident per line.
func writeJSON(w io.Writer, incs []*incident.Incident) error {
	enc := json.NewEncoder(w)
	for _, inc := range incs {
		if err := enc.Encode(toJSON(inc)); err != nil {
			return err
		}
	}
	return nil
}

// writeTable prints the incidents for people.
func writeTable(w io.Writer, incs []*incident.Incident) error {
	if len(incs) == 0 {
		_, err := fmt.Fprintln(w, "No incidents.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tCLASSIFICATION\tSUBJECT\tSTAGE\tFAILURES\tFIRST SEEN\tLAST SEEN\tSTATUS\tWHY")
	for _, inc := range incs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", inc.ID, inc.Severity, inc.Classification,
			subjectText(inc.Subject), inc.Stage, inc.Failures, rfc3339(inc.FirstSeen), rfc3339(inc.LastSeen), inc.Status, inc.Reason)
	}
	return tw.Flush()
}

// subjectText names a subject in one short cell.
func subjectText(s incident.Subject) string {
	switch s.Kind {
	case incident.KindRoot:
		return "root@" + s.Account
	case incident.KindSourceIP:
		return "ip " + s.SourceIP + "@" + s.Account
	case incident.KindIdentityCenterUser:
		return "sso " + s.User + "@" + s.Account
	}
	return s.User + "@" + s.Account
}

// write prints the summary.
func (s *summary) write(w io.Writer) {
	st := s.stats
	fmt.Fprintf(w, "replay: %s (%s), %s: %s, %s, %s, %d other; %d skipped; %s\n",
		count(st.Records, "record"), humanBytes(st.Bytes), count(st.SignIns, "sign-in event"), count(s.effects[detect.Failed], "failure"),
		count(s.effects[detect.Succeeded], "MFA success"), count(s.effects[detect.Duplicate], "duplicate"),
		s.effects[detect.Ignored], st.Skipped, count(s.incidents, "incident"))
	if s.config != "" {
		fmt.Fprintf(w, "detection thresholds from %s\n", s.config)
	}
	if st.Skipped > 0 {
		reasons := make([]string, 0, len(s.reasons))
		for r := range s.reasons {
			reasons = append(reasons, r)
		}
		slices.SortFunc(reasons, func(a, b string) int { return cmp.Or(cmp.Compare(s.reasons[b], s.reasons[a]), strings.Compare(a, b)) })
		fmt.Fprintln(w, "skipped records, by reason:")
		for _, r := range reasons {
			fmt.Fprintf(w, "  %6d  %s\n", s.reasons[r], r)
		}
		slices.SortFunc(s.problems, func(a, b cloudtrail.Problem) int {
			return cmp.Or(strings.Compare(a.Source, b.Source), cmp.Compare(a.Index, b.Index))
		})
		fmt.Fprintln(w, "skipped records (first ones):")
		for _, p := range s.problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
		if st.Skipped > len(s.problems) {
			fmt.Fprintf(w, "  … and %d more\n", st.Skipped-len(s.problems))
		}
	}
	for _, fe := range s.fileErrors {
		fmt.Fprintf(w, "unreadable: %s\n", fe)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// count words a number of things, in the singular or plural.
func count(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	if strings.HasSuffix(thing, "ss") {
		return fmt.Sprintf("%d %ses", n, thing)
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

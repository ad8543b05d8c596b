package awsops

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
)

// CloudTrailEventURL returns the CloudTrail console page of one event in
// the Event history of region. It returns "" when region or eventID is
// empty.
func CloudTrailEventURL(region, eventID string) string {
	if region == "" || eventID == "" {
		return ""
	}
	r := url.PathEscape(region)
	return "https://" + r + ".console.aws.amazon.com/cloudtrail/home?region=" + url.QueryEscape(region) + "#/events/" + url.PathEscape(eventID)
}

// InsightsURL returns a CloudWatch Logs Insights console link that opens
// with logGroup selected, query in the editor and the last hour as the
// time range; the responder presses Run. It returns "" when region or
// logGroup is empty.
//
// The console keeps its state in the URL fragment
// "logsV2:logs-insights?queryDetail=<value>", URL-encoded with '%' written
// as '$'. The value is the query detail object in JSURL notation:
//
//	~(end~0~start~-3600~timeType~'RELATIVE~unit~'seconds~editorString~'<query>~source~(~'<group>))
//
// where strings start with "'" and every character outside [A-Za-z0-9_.-]
// is written as *XX (or **XXXX above U+00FF), '$' as '!'. JSURL output only
// uses characters that URL encoding leaves alone, so only the '?' and '='
// of the fragment become $3F and $3D. The format is the console's, not a
// documented API: should it change, the link still opens Logs Insights in
// the right region.
func InsightsURL(region, logGroup, query string) string {
	return insightsURL(region, logGroup, query, "end~0~start~-3600~timeType~'RELATIVE~unit~'seconds")
}

// InsightsURLRange is InsightsURL with an absolute time range, in UTC.
func InsightsURLRange(region, logGroup, query string, start, end time.Time) string {
	const layout = "2006-01-02T15:04:05.000Z"
	return insightsURL(region, logGroup, query,
		"end~'"+jsurlString(end.UTC().Format(layout))+"~start~'"+jsurlString(start.UTC().Format(layout))+"~timeType~'ABSOLUTE~tz~'UTC")
}

func insightsURL(region, logGroup, query, timeRange string) string {
	if region == "" || logGroup == "" {
		return ""
	}
	detail := "~(" + timeRange + "~editorString~'" + jsurlString(query) + "~source~(~'" + jsurlString(logGroup) + "))"
	return "https://" + url.PathEscape(region) + ".console.aws.amazon.com/cloudwatch/home?region=" + url.QueryEscape(region) +
		"#logsV2:logs-insights$3FqueryDetail$3D" + detail
}

// jsurlString encodes s as the body of a JSURL string (without the leading
// quote).
func jsurlString(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '_', r == '-', r == '.':
			b.WriteRune(r)
		case r == '$':
			b.WriteByte('!')
		case r < 0x100:
			b.WriteByte('*')
			b.WriteString(hex(int(r), 2))
		default:
			// JSURL works on UTF-16 code units.
			for _, u := range utf16.Encode([]rune{r}) {
				b.WriteString("**")
				b.WriteString(hex(int(u), 4))
			}
		}
	}
	return b.String()
}

// hex formats v in lower-case hex, zero-padded to width digits.
func hex(v, width int) string {
	h := strconv.FormatInt(int64(v), 16)
	return strings.Repeat("0", max(width-len(h), 0)) + h
}

package awsfake

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
)

// logsStatuses maps CloudWatch Logs error codes to HTTP statuses.
var logsStatuses = map[string]int{
	"AccessDeniedException":       http.StatusBadRequest,
	"ServiceUnavailableException": http.StatusInternalServerError,
}

var logsProto = jsonProto{
	targetPrefix: "Logs_20140328.",
	contentType:  "application/x-amz-json-1.1",
	namespace:    "com.amazonaws.cloudwatchlogs#",
}

// logsQuery is the state of one started query.
type logsQuery struct {
	started StartedQuery
	outcome QueryOutcome
	polls   int
	partial int // rows shown by the last Running poll
	stopped bool
	ended   bool
}

// Logs is a fake of the CloudWatch Logs Insights API: StartQuery,
// GetQueryResults and StopQuery. By default every query completes on the
// first poll with no rows; SetResponder decides the outcome per query.
type Logs struct {
	base

	mu            sync.Mutex
	responder     func(StartedQuery) QueryOutcome
	queries       []*logsQuery
	byID          map[string]*logsQuery
	groups        map[string]bool
	maxConcurrent int
}

// NewLogs starts a CloudWatch Logs fake. Call Close when done.
func NewLogs() *Logs {
	f := &Logs{byID: map[string]*logsQuery{}}
	f.start(logsStatuses, "MissingAuthenticationTokenException", f.serveHTTP)
	return f
}

// Client returns a CloudWatch Logs client that talks to the fake. optFns
// run after the endpoint is set, so they can override anything.
func (f *Logs) Client(optFns ...func(*cloudwatchlogs.Options)) *cloudwatchlogs.Client {
	opts := append([]func(*cloudwatchlogs.Options){func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(f.URL()) }}, optFns...)
	return cloudwatchlogs.NewFromConfig(Config(f.URL()), opts...)
}

// SetResponder sets the function that decides the outcome of each query
// when StartQuery accepts it. A nil function restores the default.
func (f *Logs) SetResponder(fn func(q StartedQuery) QueryOutcome) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.responder = fn
}

// AddLogGroup declares a log group. Once any group is declared, StartQuery
// fails with ResourceNotFoundException for undeclared groups.
func (f *Logs) AddLogGroup(names ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.groups == nil {
		f.groups = map[string]bool{}
	}
	for _, n := range names {
		f.groups[n] = true
	}
}

// SetMaxConcurrent makes StartQuery fail with LimitExceededException while
// n queries are still scheduled or running. Zero removes the limit.
func (f *Logs) SetMaxConcurrent(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.maxConcurrent = n
}

// Queries returns the queries started so far, in order.
func (f *Logs) Queries() []StartedQuery {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]StartedQuery, len(f.queries))
	for i, q := range f.queries {
		out[i] = q.started
	}
	return out
}

// serveHTTP handles one JSON 1.1 request.
func (f *Logs) serveHTTP(w http.ResponseWriter, r *http.Request) {
	op, raw, params, aerr := logsProto.parse(r)
	idx, ferr := f.begin(r, op, params)
	if aerr == nil {
		aerr = ferr
	}
	var out any
	if aerr == nil {
		out, aerr = f.dispatch(op, raw)
	}
	f.finish(idx, aerr)
	if aerr != nil {
		logsProto.writeError(w, aerr)
		return
	}
	logsProto.writeResult(w, out)
}

// dispatch runs op with f.mu held.
func (f *Logs) dispatch(op string, raw []byte) (any, *apiError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch op {
	case "StartQuery":
		return f.startQuery(raw)
	case "GetQueryResults":
		return f.getQueryResults(raw)
	case "StopQuery":
		return f.stopQuery(raw)
	}
	return nil, newAPIError(logsStatuses, "UnknownOperationException", "Unknown operation "+op+".")
}

// invalidParam builds an InvalidParameterException.
func invalidParam(msg string) *apiError {
	return newAPIError(logsStatuses, "InvalidParameterException", msg)
}

// startQuery serves StartQuery: it validates the request, applies the
// concurrency limit and asks the responder for the outcome.
func (f *Logs) startQuery(raw []byte) (any, *apiError) {
	var in struct {
		LogGroupName        string   `json:"logGroupName"`
		LogGroupNames       []string `json:"logGroupNames"`
		LogGroupIdentifiers []string `json:"logGroupIdentifiers"`
		StartTime           *int64   `json:"startTime"`
		EndTime             *int64   `json:"endTime"`
		QueryString         string   `json:"queryString"`
		QueryLanguage       string   `json:"queryLanguage"`
		Limit               *int     `json:"limit"`
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	switch {
	case in.StartTime == nil || in.EndTime == nil:
		return nil, invalidParam("startTime and endTime are required.")
	case *in.EndTime < *in.StartTime:
		return nil, invalidParam("endTime must not be before startTime.")
	case in.QueryString == "" || len(in.QueryString) > 10000:
		return nil, invalidParam("queryString must be 1 to 10000 characters long.")
	case in.Limit != nil && (*in.Limit < 1 || *in.Limit > 100000):
		return nil, invalidParam(fmt.Sprintf("limit %d is outside 1-100000.", *in.Limit))
	case len(in.LogGroupNames) > 50 || len(in.LogGroupIdentifiers) > 50:
		return nil, invalidParam("At most 50 log groups can be queried.")
	}
	given := 0
	for _, set := range []bool{in.LogGroupName != "", len(in.LogGroupNames) > 0, len(in.LogGroupIdentifiers) > 0} {
		if set {
			given++
		}
	}
	source := strings.HasPrefix(strings.ToUpper(strings.TrimSpace(in.QueryString)), "SOURCE")
	if given > 1 || (given == 0 && !source) {
		return nil, invalidParam("Exactly one of logGroupName, logGroupNames and logGroupIdentifiers must be given.")
	}
	q := StartedQuery{
		ID: newID(), LogGroupName: in.LogGroupName, LogGroupNames: in.LogGroupNames, LogGroupIdentifiers: in.LogGroupIdentifiers,
		Start: time.Unix(*in.StartTime, 0).UTC(), End: time.Unix(*in.EndTime, 0).UTC(),
		QueryString: in.QueryString, QueryLanguage: in.QueryLanguage,
	}
	if q.QueryLanguage == "" {
		q.QueryLanguage = "CWLI"
	}
	if in.Limit != nil {
		q.Limit = *in.Limit
	}
	if f.groups != nil {
		for _, g := range q.Groups() {
			if !f.groups[g] {
				return nil, newAPIError(logsStatuses, "ResourceNotFoundException", fmt.Sprintf("Log group '%s' does not exist.", g))
			}
		}
	}
	if f.maxConcurrent > 0 {
		active := 0
		for _, lq := range f.queries {
			if !lq.ended {
				active++
			}
		}
		if active >= f.maxConcurrent {
			return nil, newAPIError(logsStatuses, "LimitExceededException",
				fmt.Sprintf("Account maximum query concurrency limit of [%d] reached.", f.maxConcurrent))
		}
	}
	outcome := QueryOutcome{Status: QueryComplete}
	if f.responder != nil {
		outcome = f.responder(q)
	}
	if outcome.Status == "" {
		outcome.Status = QueryComplete
	}
	outcome.Rows = prepareRows(q, outcome.Rows)
	lq := &logsQuery{started: q, outcome: outcome}
	f.queries = append(f.queries, lq)
	f.byID[q.ID] = lq
	return map[string]any{"queryId": q.ID}, nil
}

// prepareRows copies rows, applies the query limit and adds missing @ptr
// fields.
func prepareRows(q StartedQuery, rows []Row) []Row {
	if q.Limit > 0 && len(rows) > q.Limit {
		rows = rows[:q.Limit]
	}
	out := make([]Row, len(rows))
	for i, row := range rows {
		row = slices.Clone(row)
		if !slices.ContainsFunc(row, func(f Field) bool { return f.Name == "@ptr" }) {
			ptr := base64.RawStdEncoding.EncodeToString([]byte(fmt.Sprintf("fake-ptr:%s:%d", q.ID, i)))
			row = append(row, Field{Name: "@ptr", Value: ptr})
		}
		out[i] = row
	}
	return out
}

// lookup finds the query named by the queryId member of a request.
func (f *Logs) lookup(raw []byte) (*logsQuery, *apiError) {
	var in struct {
		QueryID string `json:"queryId"`
	}
	if aerr := decode(raw, &in); aerr != nil {
		return nil, aerr
	}
	lq := f.byID[in.QueryID]
	if lq == nil {
		return nil, newAPIError(logsStatuses, "ResourceNotFoundException", fmt.Sprintf("Query %s does not exist.", in.QueryID))
	}
	return lq, nil
}

// getQueryResults serves GetQueryResults and advances the query by one
// poll.
func (f *Logs) getQueryResults(raw []byte) (any, *apiError) {
	lq, aerr := f.lookup(raw)
	if aerr != nil {
		return nil, aerr
	}
	o := lq.outcome
	var status QueryStatus
	var rows []Row
	if lq.stopped {
		status, rows = QueryCancelled, o.Rows[:lq.partial]
	} else {
		lq.polls++
		p := lq.polls
		switch {
		case p <= o.ScheduledPolls:
			status = QueryScheduled
		case p <= o.ScheduledPolls+o.RunningPolls:
			k := p - o.ScheduledPolls
			lq.partial = len(o.Rows) * k / (o.RunningPolls + 1)
			status, rows = QueryRunning, o.Rows[:lq.partial]
		default:
			lq.ended = true
			status = o.Status
			switch status {
			case QueryComplete:
				rows = o.Rows
			case QueryTimeout, QueryCancelled:
				rows = o.Rows[:lq.partial]
			}
		}
	}
	stats := Statistics{RecordsMatched: float64(len(rows)), RecordsScanned: float64(10 * len(rows))}
	if lq.ended && o.Statistics != (Statistics{}) {
		stats = o.Statistics
	}
	if stats.BytesScanned == 0 {
		stats.BytesScanned = 400 * stats.RecordsScanned
	}
	results := make([][]map[string]string, len(rows))
	for i, row := range rows {
		results[i] = make([]map[string]string, len(row))
		for j, fld := range row {
			results[i][j] = map[string]string{"field": fld.Name, "value": fld.Value}
		}
	}
	return map[string]any{
		"queryLanguage": lq.started.QueryLanguage,
		"status":        string(status),
		"results":       results,
		"statistics": map[string]float64{
			"recordsMatched": stats.RecordsMatched,
			"recordsScanned": stats.RecordsScanned,
			"bytesScanned":   stats.BytesScanned,
		},
	}, nil
}

// stopQuery serves StopQuery.
func (f *Logs) stopQuery(raw []byte) (any, *apiError) {
	lq, aerr := f.lookup(raw)
	if aerr != nil {
		return nil, aerr
	}
	if lq.ended {
		return nil, invalidParam(fmt.Sprintf("Query %s is not running.", lq.started.ID))
	}
	lq.stopped, lq.ended = true, true
	return map[string]any{"success": true}, nil
}

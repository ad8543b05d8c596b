package awsfake

import (
	"sort"
	"time"
)

// This file holds the exported types that describe Logs Insights queries
// and their outcomes.

// QueryStatus is the status of a Logs Insights query.
type QueryStatus string

// Query statuses that GetQueryResults reports.
const (
	QueryScheduled QueryStatus = "Scheduled"
	QueryRunning   QueryStatus = "Running"
	QueryComplete  QueryStatus = "Complete"
	QueryFailed    QueryStatus = "Failed"
	QueryCancelled QueryStatus = "Cancelled"
	QueryTimeout   QueryStatus = "Timeout"
)

// Field is one field of a Logs Insights result row. Values are always
// strings, as in the real API.
type Field struct {
	Name  string
	Value string
}

// Row is one Logs Insights result row.
type Row []Field

// RowFromMap builds a Row from a map, with the fields sorted by name.
func RowFromMap(m map[string]string) Row {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	row := make(Row, 0, len(keys))
	for _, k := range keys {
		row = append(row, Field{Name: k, Value: m[k]})
	}
	return row
}

// StartedQuery is a query that the Logs fake accepted.
type StartedQuery struct {
	ID                  string
	LogGroupName        string
	LogGroupNames       []string
	LogGroupIdentifiers []string
	// Start and End are the query window; the API carries epoch seconds.
	Start, End    time.Time
	QueryString   string
	QueryLanguage string
	// Limit is the limit parameter, or 0 when it was not set.
	Limit int
}

// Groups returns every log group the query named, whichever parameter it
// used.
func (q StartedQuery) Groups() []string {
	var out []string
	if q.LogGroupName != "" {
		out = append(out, q.LogGroupName)
	}
	out = append(out, q.LogGroupNames...)
	return append(out, q.LogGroupIdentifiers...)
}

// Statistics are the statistics that GetQueryResults reports.
type Statistics struct {
	RecordsMatched float64
	RecordsScanned float64
	BytesScanned   float64
}

// QueryOutcome tells the Logs fake how a started query behaves.
type QueryOutcome struct {
	// Rows are the final result rows. A row without an "@ptr" field gets a
	// synthetic one, as the real service always returns @ptr. The query's
	// limit, if set, truncates the rows.
	Rows []Row
	// Status is the final status: QueryComplete (the default), QueryFailed,
	// QueryCancelled or QueryTimeout. Complete returns every row, Timeout and
	// Cancelled return the last partial rows, and Failed returns none.
	Status QueryStatus
	// ScheduledPolls is how many GetQueryResults calls report Scheduled,
	// with no rows, before the query runs.
	ScheduledPolls int
	// RunningPolls is how many GetQueryResults calls then report Running.
	// Running poll k of n returns the first len(Rows)*k/(n+1) rows.
	RunningPolls int
	// Statistics, when not zero, is reported with the final status. By
	// default RecordsMatched is the number of rows returned, RecordsScanned
	// is ten times the number of rows and BytesScanned is 400 bytes per
	// record scanned.
	Statistics Statistics
}

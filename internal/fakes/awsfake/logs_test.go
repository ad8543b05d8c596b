package awsfake

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/smithy-go"
)

// Fixture values for the Logs tests. They are made up for this package.
const (
	testGroup = "org-trail/signin-events"
	testQuery = `fields @timestamp, userIdentity.userName, sourceIPAddress
| filter eventName = "ConsoleLogin" and responseElements.ConsoleLogin = "Failure"
| sort @timestamp desc | limit 50`
)

var testWindowStart = time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC)

func newTestLogs(t *testing.T) (*Logs, *cloudwatchlogs.Client) {
	t.Helper()
	f := NewLogs()
	t.Cleanup(f.Close)
	return f, f.Client()
}

func startTestQuery(t *testing.T, client *cloudwatchlogs.Client) string {
	t.Helper()
	out, err := client.StartQuery(context.Background(), &cloudwatchlogs.StartQueryInput{
		LogGroupName: aws.String(testGroup),
		StartTime:    aws.Int64(testWindowStart.Unix()),
		EndTime:      aws.Int64(testWindowStart.Add(time.Hour).Unix()),
		QueryString:  aws.String(testQuery),
		Limit:        aws.Int32(50),
	})
	if err != nil {
		t.Fatalf("StartQuery: got %v, want nil", err)
	}
	return aws.ToString(out.QueryId)
}

func failureRows() []Row {
	return []Row{
		{{"@timestamp", "2026-05-11 06:12:03.000"}, {"userIdentity.userName", "tomas.lindqvist"}, {"sourceIPAddress", "192.0.2.77"}},
		{{"@timestamp", "2026-05-11 06:12:41.000"}, {"userIdentity.userName", "tomas.lindqvist"}, {"sourceIPAddress", "192.0.2.77"}},
		RowFromMap(map[string]string{"@timestamp": "2026-05-11 06:13:30.000", "userIdentity.userName": "tomas.lindqvist", "@ptr": "cHRyLWZpeHR1cmUtMw"}),
	}
}

// fieldValue returns the value of name in row, or "" if absent.
func fieldValue(row []types.ResultField, name string) string {
	for _, f := range row {
		if aws.ToString(f.Field) == name {
			return aws.ToString(f.Value)
		}
	}
	return ""
}

func TestLogsQueryLifecycle(t *testing.T) {
	f, client := newTestLogs(t)
	f.SetResponder(func(q StartedQuery) QueryOutcome {
		return QueryOutcome{Rows: failureRows(), ScheduledPolls: 1, RunningPolls: 1,
			Statistics: Statistics{RecordsMatched: 3, RecordsScanned: 9120, BytesScanned: 4_500_000}}
	})
	id := startTestQuery(t, client)

	wantStatus := []types.QueryStatus{types.QueryStatusScheduled, types.QueryStatusRunning, types.QueryStatusComplete}
	wantRows := []int{0, 1, 3}
	var last *cloudwatchlogs.GetQueryResultsOutput
	for i, want := range wantStatus {
		out, err := client.GetQueryResults(context.Background(), &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)})
		if err != nil {
			t.Fatalf("poll %d: got %v, want nil", i, err)
		}
		if out.Status != want {
			t.Fatalf("poll %d status: got %s, want %s", i, out.Status, want)
		}
		if len(out.Results) != wantRows[i] {
			t.Fatalf("poll %d rows: got %d, want %d", i, len(out.Results), wantRows[i])
		}
		last = out
	}
	if got := fieldValue(last.Results[0], "userIdentity.userName"); got != "tomas.lindqvist" {
		t.Fatalf("user field: got %q, want %q", got, "tomas.lindqvist")
	}
	if fieldValue(last.Results[0], "@ptr") == "" {
		t.Fatalf("@ptr: got empty, want a synthetic pointer")
	}
	if got := fieldValue(last.Results[2], "@ptr"); got != "cHRyLWZpeHR1cmUtMw" {
		t.Fatalf("given @ptr: got %q, want %q", got, "cHRyLWZpeHR1cmUtMw")
	}
	if last.Statistics == nil || last.Statistics.RecordsScanned != 9120 {
		t.Fatalf("statistics: got %+v, want RecordsScanned 9120", last.Statistics)
	}
	if last.QueryLanguage != types.QueryLanguageCwli {
		t.Fatalf("query language: got %q, want %q", last.QueryLanguage, types.QueryLanguageCwli)
	}

	qs := f.Queries()
	if len(qs) != 1 {
		t.Fatalf("queries: got %d, want %d", len(qs), 1)
	}
	q := qs[0]
	if q.ID != id || q.LogGroupName != testGroup || q.QueryString != testQuery || q.Limit != 50 {
		t.Fatalf("started query: got %+v, want id %s group %s limit 50", q, id, testGroup)
	}
	if !q.Start.Equal(testWindowStart) || !q.End.Equal(testWindowStart.Add(time.Hour)) {
		t.Fatalf("window: got %v-%v, want %v-%v", q.Start, q.End, testWindowStart, testWindowStart.Add(time.Hour))
	}
}

func TestLogsFailedAndTimeout(t *testing.T) {
	for _, status := range []QueryStatus{QueryFailed, QueryTimeout, QueryCancelled} {
		t.Run(string(status), func(t *testing.T) {
			f, client := newTestLogs(t)
			f.SetResponder(func(StartedQuery) QueryOutcome {
				return QueryOutcome{Rows: failureRows(), RunningPolls: 2, Status: status}
			})
			id := startTestQuery(t, client)
			var out *cloudwatchlogs.GetQueryResultsOutput
			for range 3 {
				var err error
				out, err = client.GetQueryResults(context.Background(), &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)})
				if err != nil {
					t.Fatalf("GetQueryResults: got %v, want nil", err)
				}
			}
			if string(out.Status) != string(status) {
				t.Fatalf("final status: got %s, want %s", out.Status, status)
			}
			wantRows := 2 // the last partial page: 3*2/3
			if status == QueryFailed {
				wantRows = 0
			}
			if len(out.Results) != wantRows {
				t.Fatalf("rows: got %d, want %d", len(out.Results), wantRows)
			}
		})
	}
}

func TestLogsStopQuery(t *testing.T) {
	f, client := newTestLogs(t)
	f.SetResponder(func(StartedQuery) QueryOutcome { return QueryOutcome{RunningPolls: 5} })
	id := startTestQuery(t, client)
	out, err := client.StopQuery(context.Background(), &cloudwatchlogs.StopQueryInput{QueryId: aws.String(id)})
	if err != nil || !out.Success {
		t.Fatalf("StopQuery: got %v success=%v, want nil and true", err, out != nil && out.Success)
	}
	res, err := client.GetQueryResults(context.Background(), &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)})
	if err != nil || res.Status != types.QueryStatusCancelled {
		t.Fatalf("after stop: got %v %v, want Cancelled", err, res)
	}
	_, err = client.StopQuery(context.Background(), &cloudwatchlogs.StopQueryInput{QueryId: aws.String(id)})
	var ipe *types.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Fatalf("second stop: got %v, want *types.InvalidParameterException", err)
	}
}

func TestLogsStartQueryFaults(t *testing.T) {
	f, client := newTestLogs(t)
	start := func() error {
		_, err := client.StartQuery(context.Background(), &cloudwatchlogs.StartQueryInput{
			LogGroupNames: []string{testGroup, "org-trail/other"},
			StartTime:     aws.Int64(testWindowStart.Unix()),
			EndTime:       aws.Int64(testWindowStart.Add(time.Hour).Unix()),
			QueryString:   aws.String(testQuery),
		})
		return err
	}

	f.Fail("StartQuery", 1, FaultSpec{Code: "LimitExceededException", Message: "too many concurrent queries"})
	var lee *types.LimitExceededException
	if err := start(); !errors.As(err, &lee) {
		t.Fatalf("limit: got %v, want *types.LimitExceededException", err)
	}
	if lee.ErrorMessage() != "too many concurrent queries" {
		t.Fatalf("limit message: got %q, want %q", lee.ErrorMessage(), "too many concurrent queries")
	}

	f.Fail("StartQuery", 1, MalformedQuery("unexpected symbol", 7, 12))
	var mqe *types.MalformedQueryException
	if err := start(); !errors.As(err, &mqe) {
		t.Fatalf("malformed: got %v, want *types.MalformedQueryException", err)
	}
	if mqe.QueryCompileError == nil || aws.ToInt32(mqe.QueryCompileError.Location.StartCharOffset) != 7 {
		t.Fatalf("compile error: got %+v, want start offset 7", mqe.QueryCompileError)
	}

	f.Fail("StartQuery", 1, FaultSpec{Code: "AccessDeniedException"})
	var ade *types.AccessDeniedException
	if err := start(); !errors.As(err, &ade) {
		t.Fatalf("access denied: got %v, want *types.AccessDeniedException", err)
	}

	f.Fail("StartQuery", 1, FaultSpec{Code: "ThrottlingException"})
	var apiErr smithy.APIError
	if err := start(); !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
		t.Fatalf("throttling: got %v, want ThrottlingException", err)
	}

	f.Fail("StartQuery", 1, FaultSpec{Latency: 50 * time.Millisecond})
	began := time.Now()
	if err := start(); err != nil {
		t.Fatalf("latency only: got %v, want nil", err)
	}
	if d := time.Since(began); d < 50*time.Millisecond {
		t.Fatalf("latency: got %v, want at least 50ms", d)
	}
	if got := len(f.Queries()); got != 1 {
		t.Fatalf("accepted queries: got %d, want %d", got, 1)
	}
	if got := f.Queries()[0].Groups(); len(got) != 2 {
		t.Fatalf("groups: got %v, want 2 groups", got)
	}
}

func TestLogsConcurrencyLimitAndValidation(t *testing.T) {
	f, client := newTestLogs(t)
	f.SetMaxConcurrent(1)
	f.SetResponder(func(StartedQuery) QueryOutcome { return QueryOutcome{RunningPolls: 1} })
	id := startTestQuery(t, client)
	_, err := client.StartQuery(context.Background(), &cloudwatchlogs.StartQueryInput{
		LogGroupName: aws.String(testGroup), StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String(testQuery),
	})
	var lee *types.LimitExceededException
	if !errors.As(err, &lee) {
		t.Fatalf("second query: got %v, want *types.LimitExceededException", err)
	}
	for range 2 { // Running, then Complete frees the slot.
		if _, err := client.GetQueryResults(context.Background(), &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)}); err != nil {
			t.Fatalf("GetQueryResults: got %v, want nil", err)
		}
	}
	startTestQuery(t, client)

	_, err = client.StartQuery(context.Background(), &cloudwatchlogs.StartQueryInput{
		StartTime: aws.Int64(1), EndTime: aws.Int64(2), QueryString: aws.String(testQuery),
	})
	var ipe *types.InvalidParameterException
	if !errors.As(err, &ipe) {
		t.Fatalf("no log group: got %v, want *types.InvalidParameterException", err)
	}
	_, err = client.GetQueryResults(context.Background(), &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String("no-such-query")})
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("unknown query: got %v, want *types.ResourceNotFoundException", err)
	}
}

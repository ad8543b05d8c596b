package awsops

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/mfabot/mfabot/internal/fakes/awsfake"
)

const tGroup = "org-trail/cloudtrail"

var (
	tStart = time.Date(2026, 5, 11, 6, 0, 0, 0, time.UTC)
	tEnd   = tStart.Add(time.Hour)
)

func newInsights(t *testing.T) (*awsfake.Logs, *Insights, *recSleeper) {
	t.Helper()
	f := awsfake.NewLogs()
	t.Cleanup(f.Close)
	logger, _ := testLogger(t)
	q := NewInsights(f.Client(), logger)
	q.PollInterval = 10 * time.Millisecond
	rs := &recSleeper{}
	q.Sleep = rs.Sleep
	return f, q, rs
}

func TestQueryCompletesAfterPolling(t *testing.T) {
	f, q, rs := newInsights(t)
	f.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{
			ScheduledPolls: 1, RunningPolls: 2,
			Rows: []awsfake.Row{
				awsfake.RowFromMap(map[string]string{"@timestamp": "2026-05-11 06:12:03.000", "sourceIPAddress": "192.0.2.10"}),
				awsfake.RowFromMap(map[string]string{"@timestamp": "2026-05-11 06:13:04.000", "sourceIPAddress": "192.0.2.11"}),
			},
		}
	})
	rows, err := q.Query(context.Background(), tGroup, "fields @timestamp", tStart, tEnd, 50)
	if err != nil {
		t.Fatalf("Query: got %v, want nil", err)
	}
	if len(rows) != 2 {
		t.Fatalf("rows: got %d, want 2", len(rows))
	}
	if got := rows[1]["sourceIPAddress"]; got != "192.0.2.11" {
		t.Fatalf("row 1 sourceIPAddress: got %q, want %q", got, "192.0.2.11")
	}
	if n := len(f.CallsTo("GetQueryResults")); n != 4 {
		t.Fatalf("GetQueryResults calls: got %d, want 4", n)
	}
	for _, d := range rs.delays() {
		if d != 10*time.Millisecond {
			t.Fatalf("poll interval: got %v, want 10ms", d)
		}
	}
	started := f.Queries()
	if len(started) != 1 {
		t.Fatalf("queries: got %d, want 1", len(started))
	}
	s := started[0]
	if !s.Start.Equal(tStart) || !s.End.Equal(tEnd) {
		t.Fatalf("window: got %v-%v, want %v-%v", s.Start, s.End, tStart, tEnd)
	}
	if s.LogGroupName != tGroup || s.Limit != 50 {
		t.Fatalf("group, limit: got %q, %d, want %q, 50", s.LogGroupName, s.Limit, tGroup)
	}
	if got := f.CallsTo("StartQuery")[0].Params["startTime"]; got != float64(tStart.Unix()) {
		t.Fatalf("startTime on the wire: got %v, want %d (epoch seconds)", got, tStart.Unix())
	}
}

func TestQueryLogGroupARN(t *testing.T) {
	f, q, _ := newInsights(t)
	arn := "arn:aws:logs:us-east-1:123456789012:log-group:org-trail/cloudtrail"
	if _, err := q.Query(context.Background(), arn, "fields @timestamp", tStart, tEnd, 0); err != nil {
		t.Fatalf("Query: got %v, want nil", err)
	}
	s := f.Queries()[0]
	if !slices.Equal(s.LogGroupIdentifiers, []string{arn}) || s.LogGroupName != "" || s.Limit != 0 {
		t.Fatalf("query: got %+v, want logGroupIdentifiers [%s] and no limit", s, arn)
	}
}

func TestQueryEndedWithoutCompleting(t *testing.T) {
	for _, status := range []awsfake.QueryStatus{awsfake.QueryFailed, awsfake.QueryCancelled, awsfake.QueryTimeout, "Unknown"} {
		t.Run(string(status), func(t *testing.T) {
			f, q, _ := newInsights(t)
			f.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
				return awsfake.QueryOutcome{Status: status, RunningPolls: 1, Rows: []awsfake.Row{awsfake.RowFromMap(map[string]string{"a": "b"})}}
			})
			rows, err := q.Query(context.Background(), tGroup, "fields @timestamp", tStart, tEnd, 10)
			if !errors.Is(err, ErrQueryFailed) {
				t.Fatalf("error: got %v, want ErrQueryFailed", err)
			}
			if rows != nil {
				t.Fatalf("rows: got %v, want nil", rows)
			}
		})
	}
}

func TestQueryTimeoutStopsQuery(t *testing.T) {
	f, q, _ := newInsights(t)
	q.Sleep = Sleep // real sleeps, so the deadline passes
	q.Timeout = 60 * time.Millisecond
	f.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{RunningPolls: 1 << 20}
	})
	_, err := q.Query(context.Background(), tGroup, "fields @timestamp", tStart, tEnd, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error: got %v, want context.DeadlineExceeded", err)
	}
	if errors.Is(err, ErrQueryFailed) {
		t.Fatalf("error %v: a timeout is not ErrQueryFailed", err)
	}
	stops := f.CallsTo("StopQuery")
	if len(stops) != 1 {
		t.Fatalf("StopQuery calls: got %d, want 1", len(stops))
	}
	if stops[0].Params["queryId"] != f.Queries()[0].ID {
		t.Fatalf("StopQuery id: got %v, want %s", stops[0].Params["queryId"], f.Queries()[0].ID)
	}
}

func TestQueryCallerCancelStopsQuery(t *testing.T) {
	f, q, _ := newInsights(t)
	q.Sleep = Sleep
	f.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{RunningPolls: 1 << 20}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := q.Query(ctx, tGroup, "fields @timestamp", tStart, tEnd, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error: got %v, want context.DeadlineExceeded", err)
	}
	if n := len(f.CallsTo("StopQuery")); n != 1 {
		t.Fatalf("StopQuery calls: got %d, want 1", n)
	}
}

func TestQueryRetriesStartWhenBusy(t *testing.T) {
	f, q, rs := newInsights(t)
	f.Fail("StartQuery", 1, awsfake.FaultSpec{Code: "LimitExceededException"})
	f.Fail("StartQuery", 1, awsfake.FaultSpec{Code: "ThrottlingException"})
	if _, err := q.Query(context.Background(), tGroup, "fields @timestamp", tStart, tEnd, 10); err != nil {
		t.Fatalf("Query: got %v, want nil", err)
	}
	if n := len(f.CallsTo("StartQuery")); n != 3 {
		t.Fatalf("StartQuery calls: got %d, want 3", n)
	}
	d := rs.delays()
	if len(d) < 2 || d[0] != time.Second || d[1] != 2*time.Second {
		t.Fatalf("start backoff: got %v, want [1s 2s ...]", d)
	}
}

func TestQueryStartGivesUp(t *testing.T) {
	f, q, _ := newInsights(t)
	f.Fail("StartQuery", 0, awsfake.FaultSpec{Code: "LimitExceededException"})
	_, err := q.Query(context.Background(), tGroup, "fields @timestamp", tStart, tEnd, 10)
	var le *types.LimitExceededException
	if !errors.As(err, &le) {
		t.Fatalf("error: got %v, want LimitExceededException", err)
	}
	if n := len(f.CallsTo("StartQuery")); n != q.StartAttempts {
		t.Fatalf("StartQuery calls: got %d, want %d", n, q.StartAttempts)
	}
}

func TestQueryAccessDeniedIsNotRetried(t *testing.T) {
	f, q, _ := newInsights(t)
	f.Fail("StartQuery", 0, awsfake.FaultSpec{Code: "AccessDeniedException", Message: "not authorized to perform logs:StartQuery"})
	_, err := q.Query(context.Background(), tGroup, "fields @timestamp", tStart, tEnd, 10)
	var ad *types.AccessDeniedException
	if !errors.As(err, &ad) {
		t.Fatalf("error: got %v, want AccessDeniedException", err)
	}
	if n := len(f.CallsTo("StartQuery")); n != 1 {
		t.Fatalf("StartQuery calls: got %d, want 1", n)
	}
}

func TestQueryPollsThroughThrottling(t *testing.T) {
	f, q, _ := newInsights(t)
	f.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{Rows: []awsfake.Row{awsfake.RowFromMap(map[string]string{"a": "b"})}}
	})
	f.Fail("GetQueryResults", 1, awsfake.FaultSpec{Code: "ThrottlingException"})
	rows, err := q.Query(context.Background(), tGroup, "fields a", tStart, tEnd, 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Query: got (%d rows, %v), want (1, nil)", len(rows), err)
	}
}

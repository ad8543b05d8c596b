package ingest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/fakes/awsfake"
)

const pGroup = "org-trail/cloudtrail"

// memCheckpoints keeps checkpoints in memory.
type memCheckpoints struct {
	mu   sync.Mutex
	m    map[string]time.Time
	sets int
}

func (c *memCheckpoints) Checkpoint(_ context.Context, source string) (time.Time, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t, ok := c.m[source]
	return t, ok, nil
}

func (c *memCheckpoints) SetCheckpoint(_ context.Context, source string, t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]time.Time{}
	}
	c.m[source] = t
	c.sets++
	return nil
}

func (c *memCheckpoints) get(source string) (time.Time, bool) {
	t, ok, _ := c.Checkpoint(context.Background(), source)
	return t, ok
}

// msgRow is a Logs Insights row holding a whole record.
func msgRow(record string, at time.Time) awsfake.Row {
	return awsfake.RowFromMap(map[string]string{"@timestamp": at.Format("2006-01-02 15:04:05.000"), "@message": record})
}

type pollerEnv struct {
	logs *awsfake.Logs
	cp   *memCheckpoints
	sink *recSink
	p    *Insights
	now  time.Time
	buf  *syncBuffer
}

func newPoller(t *testing.T) *pollerEnv {
	t.Helper()
	f := awsfake.NewLogs()
	t.Cleanup(f.Close)
	f.AddLogGroup(pGroup)
	q := awsops.NewInsights(f.Client(), nil)
	q.PollInterval = 10 * time.Millisecond
	e := &pollerEnv{logs: f, cp: &memCheckpoints{}, sink: &recSink{}, now: fBase.Add(30 * time.Minute)}
	logger, buf := testLogger()
	e.buf = buf
	e.p = NewInsights(q, pGroup, e.cp, e.sink, logger)
	e.p.Now = func() time.Time { return e.now }
	return e
}

func TestInsightsPollRecordsAndAdvances(t *testing.T) {
	e := newPoller(t)
	cp := fBase.Add(20 * time.Minute)
	e.cp.SetCheckpoint(context.Background(), e.p.Source, cp)
	t1, t2 := fBase.Add(22*time.Minute), fBase.Add(25*time.Minute)
	e.logs.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{RunningPolls: 1, Rows: []awsfake.Row{
			msgRow(consoleLogin("1a2b3c4d-0010-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", t2), t2),
			msgRow(consoleLogin("1a2b3c4d-0011-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Success", t1), t1),
			msgRow(`{"eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","userIdentity":[1]}`, t1), // malformed
			awsfake.RowFromMap(map[string]string{"@timestamp": "2026-05-11 08:21:00.000"}),                     // no @message
		}}
	})
	n, err := e.p.Poll(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("Poll: got (%d, %v), want (2, nil)", n, err)
	}
	_, events := e.sink.snapshot()
	if len(events) != 2 || !events[0].Time.Equal(t1) || !events[1].Time.Equal(t2) {
		t.Fatalf("events: got %+v, want the two sign-ins oldest first", events)
	}
	if got, _ := e.cp.get(e.p.Source); !got.Equal(t2) {
		t.Fatalf("checkpoint: got %v, want %v", got, t2)
	}
	qs := e.logs.Queries()
	if len(qs) != 1 {
		t.Fatalf("queries: got %d, want 1", len(qs))
	}
	q := qs[0]
	if want := cp.Add(-5 * time.Minute); !q.Start.Equal(want) {
		t.Fatalf("query start: got %v, want checkpoint - 5m padding = %v", q.Start, want)
	}
	if got := e.logs.CallsTo("StartQuery")[0].Params["startTime"]; got != float64(cp.Add(-5*time.Minute).Unix()) {
		t.Fatalf("startTime on the wire: got %v, want %d", got, cp.Add(-5*time.Minute).Unix())
	}
	if !q.End.Equal(e.now) || q.LogGroupName != pGroup || q.QueryString != awsops.SignInEventsQuery() {
		t.Fatalf("query: got end %v group %q query %q", q.End, q.LogGroupName, q.QueryString)
	}
	if out := e.buf.String(); !strings.Contains(out, "record skipped") || !strings.Contains(out, "no @message") {
		t.Fatalf("log lacks the skipped rows:\n%s", out)
	}
}

func TestInsightsFirstPollUsesLookback(t *testing.T) {
	e := newPoller(t)
	e.p.MaxLag = 0
	if _, err := e.p.Poll(context.Background()); err != nil {
		t.Fatalf("Poll: got %v, want nil", err)
	}
	if got, want := e.logs.Queries()[0].Start, e.now.Add(-time.Hour); !got.Equal(want) {
		t.Fatalf("query start: got %v, want now - 1h = %v", got, want)
	}
	if _, ok := e.cp.get(e.p.Source); ok {
		t.Fatalf("checkpoint set with nothing seen and MaxLag off")
	}
}

func TestInsightsFailedQueryKeepsCheckpoint(t *testing.T) {
	for _, status := range []awsfake.QueryStatus{awsfake.QueryFailed, awsfake.QueryCancelled, awsfake.QueryTimeout} {
		t.Run(string(status), func(t *testing.T) {
			e := newPoller(t)
			cp := fBase.Add(20 * time.Minute)
			e.cp.SetCheckpoint(context.Background(), e.p.Source, cp)
			at := fBase.Add(25 * time.Minute)
			e.logs.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
				return awsfake.QueryOutcome{Status: status, RunningPolls: 1,
					Rows: []awsfake.Row{msgRow(consoleLogin("1a2b3c4d-0012-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", at), at)}}
			})
			_, err := e.p.Poll(context.Background())
			if !errors.Is(err, awsops.ErrQueryFailed) {
				t.Fatalf("Poll: got %v, want ErrQueryFailed", err)
			}
			if got, _ := e.cp.get(e.p.Source); !got.Equal(cp) {
				t.Fatalf("checkpoint: got %v, want unchanged %v", got, cp)
			}
			if calls, _ := e.sink.snapshot(); calls != 0 {
				t.Fatalf("Record calls: got %d, want 0", calls)
			}
		})
	}
}

func TestInsightsRecordFailureKeepsCheckpoint(t *testing.T) {
	e := newPoller(t)
	cp := fBase.Add(20 * time.Minute)
	e.cp.SetCheckpoint(context.Background(), e.p.Source, cp)
	e.sink.failN = 1
	at := fBase.Add(25 * time.Minute)
	e.logs.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{Rows: []awsfake.Row{msgRow(consoleLogin("1a2b3c4d-0013-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", at), at)}}
	})
	if _, err := e.p.Poll(context.Background()); !errors.Is(err, errSinkDown) {
		t.Fatalf("Poll: got %v, want the sink's error", err)
	}
	if got, _ := e.cp.get(e.p.Source); !got.Equal(cp) {
		t.Fatalf("checkpoint: got %v, want unchanged %v", got, cp)
	}
}

func TestInsightsCheckpointNeverMovesBackwards(t *testing.T) {
	e := newPoller(t)
	cp := fBase.Add(28 * time.Minute)
	e.cp.SetCheckpoint(context.Background(), e.p.Source, cp)
	old := fBase.Add(24 * time.Minute) // inside the padding, already seen
	e.logs.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		return awsfake.QueryOutcome{Rows: []awsfake.Row{msgRow(consoleLogin("1a2b3c4d-0014-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", old), old)}}
	})
	if n, err := e.p.Poll(context.Background()); err != nil || n != 1 {
		t.Fatalf("Poll: got (%d, %v), want (1, nil)", n, err)
	}
	if got, _ := e.cp.get(e.p.Source); !got.Equal(cp) {
		t.Fatalf("checkpoint: got %v, want unchanged %v", got, cp)
	}
}

func TestInsightsQuietPeriodDoesNotWidenWindow(t *testing.T) {
	e := newPoller(t)
	e.cp.SetCheckpoint(context.Background(), e.p.Source, fBase.Add(-72*time.Hour))
	if _, err := e.p.Poll(context.Background()); err != nil {
		t.Fatalf("Poll: got %v, want nil", err)
	}
	if got, want := func() time.Time { t, _ := e.cp.get(e.p.Source); return t }(), e.now.Add(-15*time.Minute); !got.Equal(want) {
		t.Fatalf("checkpoint: got %v, want now - MaxLag = %v", got, want)
	}
}

func TestInsightsRunRetriesNextInterval(t *testing.T) {
	e := newPoller(t)
	at := fBase.Add(25 * time.Minute)
	var mu sync.Mutex
	started := 0
	e.logs.SetResponder(func(awsfake.StartedQuery) awsfake.QueryOutcome {
		mu.Lock()
		defer mu.Unlock()
		started++
		if started == 1 {
			return awsfake.QueryOutcome{Status: awsfake.QueryFailed}
		}
		return awsfake.QueryOutcome{Rows: []awsfake.Row{msgRow(consoleLogin("1a2b3c4d-0015-4e5f-8a9b-0c1d2e3f4a5b", "nadia.okoro", "198.51.100.23", "Failure", at), at)}}
	})
	ctx, cancel := context.WithCancel(context.Background())
	sl := &fakeSleeper{maxN: 2, cancel: cancel}
	e.p.Sleep = sl.Sleep
	if err := e.p.Run(ctx); err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	if got := sl.delays(); len(got) != 2 || got[0] != time.Minute {
		t.Fatalf("waits: got %v, want [1m 1m]", got)
	}
	qs := e.logs.Queries()
	if len(qs) != 2 || !qs[1].Start.Equal(qs[0].Start) {
		t.Fatalf("queries: got %+v, want the failed window queried again", qs)
	}
	if got, _ := e.cp.get(e.p.Source); !got.Equal(at) {
		t.Fatalf("checkpoint: got %v, want %v", got, at)
	}
	if !strings.Contains(e.buf.String(), "did not complete") {
		t.Fatalf("log lacks the failed query:\n%s", e.buf.String())
	}
}

package awsops

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// ErrQueryFailed is wrapped by the error for a query that ended without
// completing: Failed, Cancelled, Timeout or Unknown. It never means "no
// rows".
var ErrQueryFailed = errors.New("query did not complete")

// LogsAPI lists the CloudWatch Logs operations mfabot calls;
// *cloudwatchlogs.Client satisfies it.
type LogsAPI interface {
	StartQuery(ctx context.Context, in *cloudwatchlogs.StartQueryInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StartQueryOutput, error)
	GetQueryResults(ctx context.Context, in *cloudwatchlogs.GetQueryResultsInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetQueryResultsOutput, error)
	StopQuery(ctx context.Context, in *cloudwatchlogs.StopQueryInput, optFns ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.StopQueryOutput, error)
}

// Insights runs CloudWatch Logs Insights queries to completion.
type Insights struct {
	api LogsAPI
	log *slog.Logger

	// PollInterval is the wait between GetQueryResults calls. Default 1 s.
	PollInterval time.Duration
	// Timeout bounds a whole query; when it passes, the query is stopped.
	// Default 2 min.
	Timeout time.Duration
	// StartAttempts is how many times StartQuery is tried while the
	// service reports LimitExceededException, ThrottlingException or
	// ServiceUnavailableException. Default 4.
	StartAttempts int
	// StartBackoff is the first delay between those attempts; it doubles,
	// up to 10 s. Default 1 s.
	StartBackoff time.Duration
	// Sleep waits between polls and retries; tests replace it.
	Sleep Sleeper
}

// NewInsights returns an Insights runner around api with the defaults. A
// nil logger discards logs.
func NewInsights(api LogsAPI, logger *slog.Logger) *Insights {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Insights{
		api: api, log: logger,
		PollInterval: time.Second, Timeout: 2 * time.Minute,
		StartAttempts: 4, StartBackoff: time.Second, Sleep: Sleep,
	}
}

// Query runs query over logGroup (a name, or an ARN) between start and end
// (both inclusive, to the second) and returns the rows as field-to-value
// maps once the query is Complete. limit caps the rows when positive. A
// query that ends Failed, Cancelled, Timeout or Unknown returns an error
// wrapping ErrQueryFailed. When Timeout passes, the query is stopped and
// the error wraps context.DeadlineExceeded; when ctx ends first, the query
// is stopped too and ctx's error is returned.
func (q *Insights) Query(ctx context.Context, logGroup, query string, start, end time.Time, limit int) ([]map[string]string, error) {
	if logGroup == "" {
		return nil, errors.New("logs insights query: no log group")
	}
	timeout := q.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	in := &cloudwatchlogs.StartQueryInput{
		StartTime:   aws.Int64(start.Unix()),
		EndTime:     aws.Int64(end.Unix()),
		QueryString: aws.String(query),
	}
	if strings.HasPrefix(logGroup, "arn:") {
		in.LogGroupIdentifiers = []string{logGroup}
	} else {
		in.LogGroupName = aws.String(logGroup)
	}
	if limit > 0 {
		in.Limit = aws.Int32(int32(min(limit, 100000)))
	}
	id, err := q.start(qctx, in)
	if err != nil {
		return nil, q.ended(ctx, qctx, timeout, fmt.Errorf("start query: %w", err))
	}
	rows, err := q.poll(qctx, id)
	if err != nil {
		if qctx.Err() != nil {
			q.stop(id)
		}
		return nil, q.ended(ctx, qctx, timeout, err)
	}
	return rows, nil
}

// ended rewords err when the query's own timeout, rather than the
// caller's context, cut it short; the result then wraps
// context.DeadlineExceeded.
func (q *Insights) ended(ctx, qctx context.Context, timeout time.Duration, err error) error {
	if ctx.Err() != nil || !errors.Is(qctx.Err(), context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("logs insights query timed out after %v: %w", timeout, err)
	}
	return fmt.Errorf("logs insights query timed out after %v: %w (%w)", timeout, context.DeadlineExceeded, err)
}

// start calls StartQuery, retrying while the service is saturated.
func (q *Insights) start(ctx context.Context, in *cloudwatchlogs.StartQueryInput) (string, error) {
	attempts := max(q.StartAttempts, 1)
	for attempt := 0; ; attempt++ {
		out, err := q.api.StartQuery(ctx, in)
		if err == nil {
			return aws.ToString(out.QueryId), nil
		}
		if !retryableStart(err) || attempt+1 >= attempts {
			return "", err
		}
		d := backoff(attempt, q.StartBackoff, 10*time.Second)
		q.log.WarnContext(ctx, "logs insights busy; retrying StartQuery", "code", errorCode(err), "delay", d)
		if serr := q.sleep(ctx, d); serr != nil {
			return "", fmt.Errorf("%w (last error: %w)", serr, err)
		}
	}
}

// retryableStart reports whether a StartQuery error is worth retrying.
func retryableStart(err error) bool {
	var limit *types.LimitExceededException
	var throttle *types.ThrottlingException
	var unavailable *types.ServiceUnavailableException
	return errors.As(err, &limit) || errors.As(err, &throttle) || errors.As(err, &unavailable)
}

// poll calls GetQueryResults until the query ends.
func (q *Insights) poll(ctx context.Context, id string) ([]map[string]string, error) {
	interval := q.PollInterval
	if interval <= 0 {
		interval = time.Second
	}
	for {
		if err := q.sleep(ctx, interval); err != nil {
			return nil, fmt.Errorf("query %s: %w", id, err)
		}
		out, err := q.api.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: aws.String(id)})
		if err != nil {
			var throttle *types.ThrottlingException
			var unavailable *types.ServiceUnavailableException
			if (errors.As(err, &throttle) || errors.As(err, &unavailable)) && ctx.Err() == nil {
				q.log.WarnContext(ctx, "GetQueryResults failed; polling again", "query_id", id, "code", errorCode(err))
				continue
			}
			return nil, fmt.Errorf("get query results %s: %w", id, err)
		}
		switch out.Status {
		case types.QueryStatusScheduled, types.QueryStatusRunning:
			continue
		case types.QueryStatusComplete:
			return rowsOf(out.Results), nil
		default:
			status := string(out.Status)
			if status == "" {
				status = "missing"
			}
			return nil, fmt.Errorf("%w: status %s (query %s)", ErrQueryFailed, status, id)
		}
	}
}

// stop asks the service to stop an abandoned query. It runs on its own
// short context, because the query's context has already ended.
func (q *Insights) stop(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := q.api.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: aws.String(id)}); err != nil {
		q.log.Warn("StopQuery failed", "query_id", id, "code", errorCode(err), "err", err)
		return
	}
	q.log.Info("logs insights query stopped", "query_id", id)
}

func (q *Insights) sleep(ctx context.Context, d time.Duration) error {
	if q.Sleep != nil {
		return q.Sleep(ctx, d)
	}
	return Sleep(ctx, d)
}

// rowsOf turns result rows into maps from field name to value.
func rowsOf(results [][]types.ResultField) []map[string]string {
	rows := make([]map[string]string, 0, len(results))
	for _, r := range results {
		row := make(map[string]string, len(r))
		for _, f := range r {
			row[aws.ToString(f.Field)] = aws.ToString(f.Value)
		}
		rows = append(rows, row)
	}
	return rows
}

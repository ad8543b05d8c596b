package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/mfabot/mfabot/internal/awsops"
	"github.com/mfabot/mfabot/internal/cloudtrail"
)

// Querier runs a Logs Insights query to completion; *awsops.Insights
// satisfies it.
type Querier interface {
	Query(ctx context.Context, logGroup, query string, start, end time.Time, limit int) ([]map[string]string, error)
}

// Insights polls the CloudTrail log group with Logs Insights for sign-in
// events. Each poll queries from the checkpoint minus Padding (or, with no
// checkpoint, from Lookback ago) to now, records what it finds, and then
// advances the checkpoint to the latest eventTime seen. A poll that fails
// leaves the checkpoint where it was, so the next one covers the window
// again.
type Insights struct {
	q        Querier
	logGroup string
	cp       Checkpoints
	sink     Sink
	log      *slog.Logger

	// Source is the checkpoint's name. Default "insights:<log group>".
	Source string
	// Interval is the time between polls. Default 1 min.
	Interval time.Duration
	// Padding widens each window backwards, for records that reach the log
	// group late. Default 5 min.
	Padding time.Duration
	// Lookback is where the first poll starts, before any checkpoint.
	// Default 1 h.
	Lookback time.Duration
	// MaxLag keeps the window from growing while no sign-ins happen: after
	// a successful poll the checkpoint is at least now - MaxLag. Records
	// that reach the log group more than MaxLag + Padding late are missed.
	// Zero disables it. Default 15 min.
	MaxLag time.Duration
	// Now is the clock; Sleep waits between polls. Tests replace them.
	Now   func() time.Time
	Sleep Sleeper
}

// NewInsights returns a poller of logGroup with the defaults. A nil logger
// discards logs.
func NewInsights(q Querier, logGroup string, cp Checkpoints, sink Sink, logger *slog.Logger) *Insights {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Insights{
		q: q, logGroup: logGroup, cp: cp, sink: sink, log: logger,
		Source: "insights:" + logGroup, Interval: time.Minute, Padding: 5 * time.Minute,
		Lookback: time.Hour, MaxLag: 15 * time.Minute, Now: time.Now, Sleep: Sleep,
	}
}

// Run polls every Interval until ctx ends, then returns nil. A failed poll
// is logged and the window is retried at the next interval. It returns an
// error only when misconfigured.
func (p *Insights) Run(ctx context.Context) error {
	if p.q == nil || p.cp == nil || p.sink == nil || p.logGroup == "" {
		return errors.New("insights source: querier, checkpoints, sink and log group are required")
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = Sleep
	}
	interval := p.Interval
	if interval <= 0 {
		interval = time.Minute
	}
	for {
		if _, err := p.Poll(ctx); err != nil && ctx.Err() == nil {
			msg := "sign-in poll failed; retrying next interval"
			if errors.Is(err, awsops.ErrQueryFailed) {
				msg = "sign-in query did not complete; retrying next interval"
			}
			code := errorCode(err)
			if credentialCodes[code] {
				msg += ": check the bot's AWS credentials and permissions"
			}
			p.log.ErrorContext(ctx, msg, "log_group", p.logGroup, "code", code, "err", err)
		}
		if sleep(ctx, interval) != nil {
			return nil
		}
	}
}

// Poll runs one poll and returns how many sign-ins it recorded.
func (p *Insights) Poll(ctx context.Context) (int, error) {
	now := p.now()
	from, ok, err := p.cp.Checkpoint(ctx, p.Source)
	if err != nil {
		return 0, fmt.Errorf("read checkpoint %s: %w", p.Source, err)
	}
	start := now.Add(-p.Lookback)
	if ok {
		start = from.Add(-p.Padding)
	}
	if !start.Before(now) { // a checkpoint in the future
		start = now.Add(-p.Padding)
	}
	rows, err := p.q.Query(ctx, p.logGroup, awsops.SignInEventsQuery(), start, now, awsops.SignInEventsLimit)
	if err != nil {
		return 0, fmt.Errorf("query sign-in events %s to %s: %w", start.Format(time.RFC3339), now.Format(time.RFC3339), err)
	}
	if len(rows) >= awsops.SignInEventsLimit {
		p.log.WarnContext(ctx, "sign-in query hit its row limit; the next poll carries on", "rows", len(rows))
	}
	events, err := p.decode(ctx, rows)
	if err != nil {
		return 0, err
	}
	if len(events) > 0 {
		slices.SortStableFunc(events, func(a, b cloudtrail.SignIn) int { return a.Time.Compare(b.Time) })
		if err := p.sink.Record(ctx, events); err != nil {
			return 0, fmt.Errorf("record %d sign-ins: %w", len(events), err)
		}
	}

	next := from
	for _, e := range events {
		if e.Time.After(next) {
			next = e.Time
		}
	}
	if p.MaxLag > 0 && next.Before(now.Add(-p.MaxLag)) {
		next = now.Add(-p.MaxLag)
	}
	next = minTime(next, now)
	if next.After(from) {
		if err := p.cp.SetCheckpoint(ctx, p.Source, next); err != nil {
			return len(events), fmt.Errorf("save checkpoint %s: %w", p.Source, err)
		}
	}
	p.log.DebugContext(ctx, "sign-in poll done", "start", start, "end", now, "rows", len(rows), "events", len(events), "checkpoint", next)
	return len(events), nil
}

// decode parses each row's @message as a CloudTrail record.
func (p *Insights) decode(ctx context.Context, rows []map[string]string) ([]cloudtrail.SignIn, error) {
	var events []cloudtrail.SignIn
	h := cloudtrail.Handler{
		SignIn: func(s cloudtrail.SignIn, _ cloudtrail.Position) error { events = append(events, s); return nil },
		Problem: func(pr cloudtrail.Problem) {
			p.log.WarnContext(ctx, "sign-in record skipped", "source", pr.Source, "reason", pr.Reason)
		},
	}
	for i, row := range rows {
		msg := row["@message"]
		src := "insights:" + row["@ptr"]
		if row["@ptr"] == "" {
			src = fmt.Sprintf("insights:row %d", i)
		}
		if strings.TrimSpace(msg) == "" {
			p.log.WarnContext(ctx, "sign-in row has no @message", "source", src)
			continue
		}
		if _, err := cloudtrail.Decode(ctx, strings.NewReader(msg), src, h); err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			p.log.WarnContext(ctx, "sign-in row not parseable", "source", src, "err", err)
		}
	}
	return events, nil
}

func (p *Insights) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func minTime(a, b time.Time) time.Time {
	if a.After(b) {
		return b
	}
	return a
}

package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mfabot/mfabot/internal/simulate"
)

// simulateFormats maps --format to the writer's format and the extension
// of the files it names; gz is the log format, gzipped.
var simulateFormats = map[string]struct {
	format simulate.Format
	ext    string
}{
	"log":         {simulate.FormatLog, ".json"},
	"gz":          {simulate.FormatLog, ".json.gz"},
	"eventbridge": {simulate.FormatEventBridge, ".jsonl"},
	"jsonl":       {simulate.FormatJSONLines, ".jsonl"},
}

// simulateConfig is a parsed simulate command line.
type simulateConfig struct {
	opts   simulate.Options
	format string
	out    string
	files  int
}

// cmdSimulate writes realistic CloudTrail traffic with sign-in scenarios
// for drills, tests and benchmarks.
func cmdSimulate(ctx context.Context, args []string, s streams) error {
	cfg, err := parseSimulate(args, s)
	if err != nil {
		return err
	}
	g, err := simulate.New(cfg.opts)
	if err != nil {
		return &usageError{err.Error()}
	}
	begin := time.Now()
	var sum simulateResult
	if cfg.files == 1 && !isDir(cfg.out) {
		sum, err = simulateOne(ctx, g, cfg, s.stdout)
	} else {
		sum, err = simulateFiles(ctx, g, cfg)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(s.stderr, "mfabot simulate: %d records (%d sign-in events), %d file(s), %d bytes of JSON, %d bytes written, in %.2fs\n",
		sum.stats.Records, sum.stats.SignIns, cfg.files, sum.raw, sum.written, time.Since(begin).Seconds())
	return nil
}

// parseSimulate parses and checks the flags.
func parseSimulate(args []string, s streams) (simulateConfig, error) {
	fs := newFlagSet("simulate", s)
	scenarios := fs.String("scenario", simulate.ScenarioAll, "comma-separated scenarios: "+strings.Join(simulate.ScenarioNames(), ", ")+", all or none")
	records := fs.Int("records", 0, "total records, filler and duplicates included (0: only the scenarios' events)")
	format := fs.String("format", "log", "output format: log (CloudTrail log file), gz (gzipped log file), eventbridge or jsonl")
	out := fs.String("out", "-", "output file, or directory (required with --files > 1); - is standard output")
	files := fs.Int("files", 1, "split the records across this many files, named like CloudTrail objects, in the --out directory")
	seed := fs.Uint64("seed", 1, "random seed; the same seed gives the same records")
	start := fs.String("start", "", "RFC 3339 start of the first hour (default "+simulate.DefaultStart.Format(time.RFC3339)+")")
	dups := fs.Float64("duplicates", 0, "share of records delivered twice with the same eventID (0 to 0.5)")
	ratio := fs.Float64("signin-ratio", 0, "share of filler records that are harmless sign-ins (0: 0.01; negative: none)")
	account := fs.String("account", "", "12-digit account id (default "+simulate.DefaultAccount+")")
	fs.Usage = func() {
		fmt.Fprintln(s.stderr, "usage: mfabot simulate [--scenario LIST] [--records N] [--format log|gz|eventbridge|jsonl] [--out PATH|-] [--files K] [--seed N] [--start RFC3339] [--duplicates F]")
		fmt.Fprintln(s.stderr, "\nWrites realistic CloudTrail traffic with console sign-in scenarios, in eventTime order.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return simulateConfig{}, err
		}
		return simulateConfig{}, &usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return simulateConfig{}, &usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	cfg := simulateConfig{format: *format, out: *out, files: *files, opts: simulate.Options{
		Records: *records, Seed: *seed, Duplicates: *dups, SignInRatio: *ratio, Account: *account,
	}}
	if _, ok := simulateFormats[cfg.format]; !ok {
		return cfg, &usageError{fmt.Sprintf("--format %q: want log, gz, eventbridge or jsonl", cfg.format)}
	}
	if cfg.files < 1 {
		return cfg, &usageError{fmt.Sprintf("--files %d: want 1 or more", cfg.files)}
	}
	if cfg.files > 1 && (cfg.out == "-" || cfg.out == "") {
		return cfg, &usageError{"--files > 1 needs --out DIR"}
	}
	if cfg.out == "" {
		return cfg, &usageError{"--out is empty"}
	}
	if *records < 0 {
		return cfg, &usageError{fmt.Sprintf("--records %d: want 0 or more", *records)}
	}
	if *start != "" {
		t, err := time.Parse(time.RFC3339, *start)
		if err != nil {
			return cfg, &usageError{fmt.Sprintf("--start %q: want an RFC 3339 time such as 2026-03-04T08:00:00Z", *start)}
		}
		cfg.opts.Start = t
	}
	for _, n := range strings.Split(*scenarios, ",") {
		if n = strings.TrimSpace(n); n != "" && n != "none" {
			cfg.opts.Scenarios = append(cfg.opts.Scenarios, n)
		}
	}
	return cfg, nil
}

// simulateResult sums up what was written.
type simulateResult struct {
	stats simulate.Stats
	// raw counts the bytes of the format before compression; written
	// counts the bytes that reached the output.
	raw, written int64
}

// simulateOne writes every record to one file, or to stdout for "-".
func simulateOne(ctx context.Context, g *simulate.Generator, cfg simulateConfig, stdout io.Writer) (simulateResult, error) {
	if cfg.out == "-" {
		return writePart(ctx, g, 0, 1, cfg.format, stdout)
	}
	f, err := os.Create(cfg.out)
	if err != nil {
		return simulateResult{}, fmt.Errorf("create output: %w", err)
	}
	res, err := writePart(ctx, g, 0, 1, cfg.format, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", cfg.out, cerr)
	}
	return res, err
}

// simulateFiles writes the records into cfg.files files in the cfg.out
// directory, generating up to GOMAXPROCS of them at once.
func simulateFiles(ctx context.Context, g *simulate.Generator, cfg simulateConfig) (simulateResult, error) {
	if err := os.MkdirAll(cfg.out, 0o755); err != nil {
		return simulateResult{}, fmt.Errorf("create output directory: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results := make([]simulateResult, cfg.files)
	errs := make([]error, cfg.files)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i := range cfg.files {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			if ctx.Err() != nil {
				errs[i] = ctx.Err()
				return
			}
			results[i], errs[i] = writeNamedPart(ctx, g, i, cfg)
			if errs[i] != nil {
				cancel()
			}
		}()
	}
	wg.Wait()
	var sum simulateResult
	for i := range results {
		sum.stats.Add(results[i].stats)
		sum.raw += results[i].raw
		sum.written += results[i].written
	}
	return sum, errors.Join(errs...)
}

// writeNamedPart writes part i into a temporary file and then renames it
// after CloudTrail's object naming, whose timestamp is the delivery time:
// shortly after the part's last record.
func writeNamedPart(ctx context.Context, g *simulate.Generator, i int, cfg simulateConfig) (simulateResult, error) {
	f, err := os.CreateTemp(cfg.out, ".simulate-*.tmp")
	if err != nil {
		return simulateResult{}, fmt.Errorf("create part %d: %w", i, err)
	}
	res, err := writePart(ctx, g, i, cfg.files, cfg.format, f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close part %d: %w", i, cerr)
	}
	if err != nil {
		os.Remove(f.Name())
		return res, err
	}
	last := res.stats.Last
	if last.IsZero() {
		last = g.Options().Start
	}
	regions := []string{"us-east-1", "us-east-2", "eu-north-1", "ap-southeast-2"}
	r := rand.NewPCG(g.Options().Seed, uint64(i)+1)
	suffix := make([]byte, 16)
	for k := range suffix {
		const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
		suffix[k] = alnum[r.Uint64()%uint64(len(alnum))]
	}
	name := fmt.Sprintf("%s_CloudTrail_%s_%s_%s%s", g.Options().Account, regions[i%len(regions)],
		last.Truncate(5*time.Minute).Add(5*time.Minute).Format("20060102T1504Z"), suffix, simulateFormats[cfg.format].ext)
	if err := os.Rename(f.Name(), filepath.Join(cfg.out, name)); err != nil {
		os.Remove(f.Name())
		return res, fmt.Errorf("name part %d: %w", i, err)
	}
	return res, nil
}

// writePart generates part i of n onto w in the format, gzipping for gz.
func writePart(ctx context.Context, g *simulate.Generator, i, n int, format string, w io.Writer) (simulateResult, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	written := &countingWriter{w: bw}
	var dst io.Writer = written
	var gz *gzip.Writer
	if format == "gz" {
		gz, _ = gzip.NewWriterLevel(written, gzip.BestSpeed)
		dst = gz
	}
	raw := &countingWriter{w: dst}
	out, err := simulate.NewWriter(raw, simulateFormats[format].format)
	if err != nil {
		return simulateResult{}, err
	}
	var res simulateResult
	res.stats, err = g.Part(i, n, &ctxSink{ctx: ctx, next: out})
	if err == nil {
		err = out.Close()
	}
	if err == nil && gz != nil {
		err = gz.Close()
	}
	if err == nil {
		err = bw.Flush()
	}
	res.raw, res.written = raw.n, written.n
	if err != nil {
		return res, fmt.Errorf("write records: %w", err)
	}
	return res, nil
}

// ctxSink stops generation when the context ends.
type ctxSink struct {
	ctx  context.Context
	next simulate.Sink
	n    int
}

func (c *ctxSink) Record(raw []byte, t time.Time) error {
	if c.n++; c.n%4096 == 0 && c.ctx.Err() != nil {
		return c.ctx.Err()
	}
	return c.next.Record(raw, t)
}

// countingWriter counts the bytes written through it.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// isDir reports whether path is an existing directory.
func isDir(path string) bool {
	if path == "-" {
		return false
	}
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

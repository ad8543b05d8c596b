// Package simulate generates realistic, deterministic CloudTrail traffic for
// drills, tests and benchmarks: console sign-in scenarios that mfabot should
// detect (token expiry, clock drift, a wrong code, an unknown user, root,
// SSO, brute force, password spray), buried in ordinary API calls and
// harmless sign-ins.
//
// A Generator lays out the records of an Options and yields them, in
// eventTime order, to a Sink as compact JSON. The same Options give
// byte-identical records; every record depends only on the seed and its
// position, so a corpus can be generated in parts, in parallel (see
// Generator.Part). Writers turn the records into a CloudTrail S3 log file
// ({"Records":[...]}), EventBridge events or JSON lines.
package simulate

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"time"
)

// Defaults of Options.
const (
	DefaultAccount     = "731946208517"
	DefaultSignInRatio = 0.01
	// MaxDuplicates is the largest Duplicates: at most every record is
	// delivered twice.
	MaxDuplicates = 0.5
)

// DefaultStart is where the traffic starts when Options.Start is zero. It
// is fixed so that the same seed always gives the same records.
var DefaultStart = time.Date(2026, time.January, 5, 9, 0, 0, 0, time.UTC)

// Options says what to generate.
type Options struct {
	// Scenarios lists scenarios by name (see ScenarioNames), or "all".
	// Each runs in its own hour, in the order given; none means filler
	// only.
	Scenarios []string
	// Records is the total number of records, counting the scenarios'
	// events, filler and duplicates. Zero means only the scenarios' events
	// (and their duplicates).
	Records int
	// SignInRatio is the share of filler records that are harmless
	// sign-ins. Zero means DefaultSignInRatio; a negative value means none.
	SignInRatio float64
	// Start is the time of the first hour; zero means DefaultStart. It is
	// truncated to the second.
	Start time.Time
	// Seed drives every random choice.
	Seed uint64
	// Account is the 12-digit account id; empty means DefaultAccount.
	Account string
	// Duplicates is the share of the records that are a second delivery
	// of the record before them (same eventID), between 0 and
	// MaxDuplicates.
	Duplicates float64
}

// Sink receives records in eventTime order. raw is one compact JSON
// CloudTrail record; it is only valid during the call.
type Sink interface {
	Record(raw []byte, eventTime time.Time) error
}

// SinkFunc adapts a function to Sink.
type SinkFunc func(raw []byte, eventTime time.Time) error

// Record calls f.
func (f SinkFunc) Record(raw []byte, eventTime time.Time) error { return f(raw, eventTime) }

// Stats sums up what a Generate or Part call produced.
type Stats struct {
	// Records counts records, duplicates included; SignIns counts those
	// from signin.amazonaws.com; Bytes sums the records' lengths.
	Records, SignIns, Bytes int64
	// First and Last are the eventTimes of the first and last record.
	First, Last time.Time
}

// Add accumulates o into s, for totals over parts in order.
func (s *Stats) Add(o Stats) {
	if o.Records == 0 {
		return
	}
	if s.Records == 0 || o.First.Before(s.First) {
		s.First = o.First
	}
	if o.Last.After(s.Last) {
		s.Last = o.Last
	}
	s.Records += o.Records
	s.SignIns += o.SignIns
	s.Bytes += o.Bytes
}

// scenEvent is a rendered scenario event and its place among the original
// (not duplicated) records.
type scenEvent struct {
	t   time.Time
	raw []byte
	pos int
}

// Generator lays out a corpus. It is safe for concurrent use: Part may run
// in several goroutines at once.
type Generator struct {
	opts    Options
	pools   *pools
	scen    []scenEvent
	fillers int // filler records
	origs   int // records before duplication
	dups    int // duplicated records
	spanSec int64
}

// New validates opts, fills in defaults and lays out the scenarios.
func New(opts Options) (*Generator, error) {
	if opts.Account == "" {
		opts.Account = DefaultAccount
	}
	if !isAccountID(opts.Account) {
		return nil, fmt.Errorf("account %q is not a 12-digit account id", opts.Account)
	}
	if opts.Start.IsZero() {
		opts.Start = DefaultStart
	}
	opts.Start = opts.Start.UTC().Truncate(time.Second)
	switch {
	case opts.SignInRatio == 0:
		opts.SignInRatio = DefaultSignInRatio
	case opts.SignInRatio < 0:
		opts.SignInRatio = 0
	case opts.SignInRatio > 1:
		return nil, fmt.Errorf("sign-in ratio %g is above 1", opts.SignInRatio)
	}
	if opts.Records < 0 {
		return nil, fmt.Errorf("records %d is negative", opts.Records)
	}
	if !(opts.Duplicates >= 0 && opts.Duplicates <= MaxDuplicates) {
		return nil, fmt.Errorf("duplicates %g is not between 0 and %g", opts.Duplicates, MaxDuplicates)
	}
	names, err := expandScenarios(opts.Scenarios)
	if err != nil {
		return nil, err
	}
	opts.Scenarios = names

	g := &Generator{opts: opts, pools: newPools(opts.Seed, opts.Account)}
	for i, name := range names {
		g.scen = append(g.scen, renderScenario(opts, i, name)...)
	}
	g.spanSec = int64(max(len(names), 1)) * int64(scenarioSlot/time.Second)

	if opts.Records == 0 {
		g.origs = len(g.scen)
		g.dups = int(opts.Duplicates*float64(g.origs) + 0.5)
	} else {
		g.dups = int(opts.Duplicates*float64(opts.Records) + 0.5)
		g.origs = opts.Records - g.dups
		if g.origs < len(g.scen) {
			return nil, fmt.Errorf("records %d leaves no room for the %d scenario events", opts.Records, len(g.scen))
		}
	}
	g.fillers = g.origs - len(g.scen)
	for k := range g.scen {
		g.scen[k].pos = k + g.fillersBefore(g.scen[k].t)
	}
	return g, nil
}

// renderScenario builds and renders the events of the i-th scenario.
func renderScenario(opts Options, i int, name string) []scenEvent {
	c := &scenario{
		r:       rand.NewPCG(opts.Seed, hashString("scenario/"+name)),
		account: opts.Account,
	}
	c.at = opts.Start.Add(time.Duration(i)*scenarioSlot + 10*time.Minute)
	c.wait(0, 4*time.Minute)
	scenarioBuilder(name)(c)
	var tc timeCache
	out := make([]scenEvent, len(c.steps))
	for k := range c.steps {
		out[k] = scenEvent{t: c.steps[k].time, raw: appendSignIn(nil, &c.steps[k], c.r, &tc)}
	}
	return out
}

// Records returns how many records the Generator yields, duplicates
// included.
func (g *Generator) Records() int { return g.origs + g.dups }

// Options returns the options with the defaults filled in.
func (g *Generator) Options() Options { return g.opts }

// Generate yields every record to sink.
func (g *Generator) Generate(sink Sink) (Stats, error) { return g.Part(0, 1, sink) }

// Part yields the i-th of n consecutive parts of the corpus (0 <= i < n):
// parts 0 to n-1, one after the other, yield exactly what Generate does.
// Parts are about the same size; a record and its duplicate stay in one
// part.
func (g *Generator) Part(i, n int, sink Sink) (Stats, error) {
	if n < 1 || i < 0 || i >= n {
		return Stats{}, fmt.Errorf("part %d of %d does not exist", i, n)
	}
	from, to := g.origs*i/n, g.origs*(i+1)/n
	s := sort.Search(len(g.scen), func(k int) bool { return g.scen[k].pos >= from })
	j := from - s // the next filler record
	f := &fillGen{p: g.pools, seed: g.opts.Seed, ratio: g.opts.SignInRatio}
	buf := make([]byte, 0, 4096)
	var st Stats
	for o := from; o < to; o++ {
		var raw []byte
		var t time.Time
		var signIn bool
		if s < len(g.scen) && g.scen[s].pos == o {
			raw, t, signIn = g.scen[s].raw, g.scen[s].t, true
			s++
		} else {
			t = g.fillerTime(j)
			buf, signIn = f.appendFiller(buf[:0], j, t)
			raw = buf
			j++
		}
		copies := 1
		if g.isDup(o) {
			copies = 2
		}
		for range copies {
			if err := sink.Record(raw, t); err != nil {
				return st, err
			}
			if st.Records == 0 {
				st.First = t
			}
			st.Last = t
			st.Records++
			st.Bytes += int64(len(raw))
			if signIn {
				st.SignIns++
			}
		}
	}
	return st, nil
}

// fillerTime is the eventTime of filler record j: the filler is spread
// evenly over one hour per scenario.
func (g *Generator) fillerTime(j int) time.Time {
	return g.opts.Start.Add(time.Duration(int64(j)*g.spanSec/int64(g.fillers)) * time.Second)
}

// fillersBefore counts the filler records whose eventTime is before t.
func (g *Generator) fillersBefore(t time.Time) int {
	sec := int64(t.Sub(g.opts.Start) / time.Second)
	if sec <= 0 || g.fillers == 0 {
		return 0
	}
	n := (sec*int64(g.fillers) + g.spanSec - 1) / g.spanSec
	return int(min(n, int64(g.fillers)))
}

// isDup reports whether original record o is delivered twice. The records
// are cut into g.dups runs of equal length, and one record of each run,
// chosen by the seed, is duplicated: the count is exact and any record can
// be asked about on its own.
func (g *Generator) isDup(o int) bool {
	if g.dups == 0 {
		return false
	}
	m, d := uint64(g.origs), uint64(g.dups)
	k := ((uint64(o)+1)*d+m-1)/m - 1
	lo, hi := k*m/d, (k+1)*m/d
	return uint64(o) == lo+mix64(g.opts.Seed^mix64(k))%(hi-lo)
}

// isAccountID reports whether s is 12 digits.
func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

package handlers

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfabot/mfabot/internal/cloudtrail"
	"github.com/mfabot/mfabot/internal/detect"
	"github.com/mfabot/mfabot/internal/incident"
	"github.com/mfabot/mfabot/internal/simulate"
	"github.com/mfabot/mfabot/store"
)

// recordApp is an App over a fresh store, with a fixed clock and a count of
// the syncer wake-ups Record asks for.
func recordApp(t *testing.T, now time.Time) (*App, *atomic.Int32) {
	t.Helper()
	st, err := store.Open(filepath.Join(t.TempDir(), "m.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(); err != nil {
			t.Errorf("store check: %v", err)
		}
		st.Close()
	})
	engine, err := detect.New(detect.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	wakes := &atomic.Int32{}
	return &App{Store: st, Engine: engine, Cfg: Config{AlertChannel: "C0ALERTS01", GroupWait: 2 * time.Second},
		Now: func() time.Time { return now }, Wake: func() { wakes.Add(1) }}, wakes
}

// simulated decodes every scenario of the traffic generator, sorted as
// Record sorts a batch.
func simulated(t *testing.T, seed uint64) []cloudtrail.SignIn {
	t.Helper()
	var buf bytes.Buffer
	if _, err := simulate.WriteEventBridge(&buf, simulate.Options{Scenarios: []string{simulate.ScenarioAll}, Seed: seed, Duplicates: 0.1}); err != nil {
		t.Fatal(err)
	}
	var evs []cloudtrail.SignIn
	if _, err := cloudtrail.Decode(context.Background(), &buf, "simulated", cloudtrail.Handler{
		SignIn: func(s cloudtrail.SignIn, _ cloudtrail.Position) error { evs = append(evs, s); return nil },
	}); err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(evs, func(x, y cloudtrail.SignIn) int {
		return cmp.Or(x.Time.Compare(y.Time), cmp.Compare(x.EventID, y.EventID))
	})
	return evs
}

func storedIncidents(t *testing.T, st *store.Store) []*incident.Incident {
	t.Helper()
	incs, err := st.ListIncidents(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return incs
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRecordMatchesEngine checks that Record, which keeps the incidents it
// reads decoded and writes them back once per call, and prunes only every
// so often, ends with exactly the incidents the engine gives over
// detect.MemState for the same events in the same order.
func TestRecordMatchesEngine(t *testing.T) {
	for seed := range uint64(4) {
		evs := simulated(t, seed)
		for _, size := range []int{1, 7, len(evs)} {
			t.Run(fmt.Sprintf("seed %d, batches of %d", seed, size), func(t *testing.T) { testRecordMatchesEngine(t, evs, size) })
		}
	}
}

func testRecordMatchesEngine(t *testing.T, evs []cloudtrail.SignIn, size int) {
	app, _ := recordApp(t, evs[len(evs)-1].Time.Add(time.Hour))
	mem := detect.NewMemState()
	for i := 0; i < len(evs); i += size {
		batch := evs[i:min(i+size, len(evs))]
		if err := app.Record(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		for _, ev := range batch {
			if _, err := app.Engine.Apply(mem, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	got, want := storedIncidents(t, app.Store), mem.Incidents()
	if len(want) < 8 {
		t.Fatalf("the simulation gave %d incidents; the test needs every scenario", len(want))
	}
	if g, w := jsonOf(t, got), jsonOf(t, want); g != w {
		t.Fatalf("incidents differ from the engine's over MemState:\ngot  %s\nwant %s", g, w)
	}
}

// TestConcurrentRecordCountsEveryFailure records a password spray and a
// brute force from many goroutines at once (they share transactions), then
// records it all again: every failure is counted once, in the incidents
// that were not merged.
func TestConcurrentRecordCountsEveryFailure(t *testing.T) {
	base := time.Date(2026, 5, 11, 8, 0, 0, 0, time.UTC)
	app, _ := recordApp(t, base.Add(time.Hour))
	var evs []cloudtrail.SignIn
	for i := range 1200 {
		ev := cloudtrail.SignIn{EventID: fmt.Sprintf("ev-%05d", i), Account: "111122223333", Time: base.Add(time.Duration(i) * 50 * time.Millisecond).Truncate(time.Second),
			Name: cloudtrail.EventConsoleLogin, Outcome: cloudtrail.Failure, IdentityType: cloudtrail.IdentityIAMUser}
		if i%4 == 3 { // a brute force: one user, many addresses
			ev.UserName, ev.SourceIP, ev.MFAUsed = "ops.admin", fmt.Sprintf("198.51.100.%d", i%20), cloudtrail.MFAYes
		} else { // a spray: one address, many users
			ev.UserName, ev.SourceIP, ev.MFAUsed = fmt.Sprintf("user%03d", (i/4*3+i%4)%150), "203.0.113.10", cloudtrail.MFANo
		}
		evs = append(evs, ev)
	}
	for range 2 {
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := g * 10; i < len(evs); i += 80 {
					if err := app.Record(context.Background(), evs[i:min(i+10, len(evs))]); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		counted, alertless := 0, 0
		for _, inc := range storedIncidents(t, app.Store) {
			if inc.Status == incident.StatusMerged {
				continue
			}
			counted += inc.Failures
			if err := app.Store.View(context.Background(), func(tx *store.Tx) error {
				al, err := tx.Alert(inc.ID)
				if al == nil {
					alertless++
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		if counted != len(evs) || alertless != 0 {
			t.Fatalf("failures counted: %d, want %d; incidents without alert state: %d", counted, len(evs), alertless)
		}
	}
}

// TestRecordGathersUpdatesOfPostedAlerts: a new incident waits the group
// window; once its alert is posted, changes of its counts are shown after
// updateWait rather than at once, a change of its status at once, and the
// syncer is woken only when its work is new or due sooner than it was told.
func TestRecordGathersUpdatesOfPostedAlerts(t *testing.T) {
	now := time.Date(2026, 5, 11, 9, 0, 0, 0, time.UTC)
	app, wakes := recordApp(t, now)
	ctx := context.Background()
	signIn := func(id string, outcome cloudtrail.Outcome, ago time.Duration) []cloudtrail.SignIn {
		return []cloudtrail.SignIn{{EventID: id, Account: "111122223333", Time: now.Add(-ago), Name: cloudtrail.EventConsoleLogin,
			Outcome: outcome, MFAUsed: cloudtrail.MFAYes, IdentityType: cloudtrail.IdentityIAMUser, UserName: "ana", SourceIP: "192.0.2.1"}}
	}
	record := func(evs []cloudtrail.SignIn) {
		t.Helper()
		if err := app.Record(ctx, evs); err != nil {
			t.Fatal(err)
		}
	}
	dirty := func() time.Time {
		t.Helper()
		var at time.Time
		if err := app.Store.View(ctx, func(tx *store.Tx) error {
			due, err := tx.Dirty()
			if len(due) == 1 {
				at = due[0].At
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return at
	}
	record(signIn("e1", cloudtrail.Failure, 4*time.Minute))
	if got, want := dirty(), now.Add(app.Cfg.GroupWait); !got.Equal(want) || wakes.Load() != 1 {
		t.Fatalf("new incident: due %v (want %v), %d wake-ups (want 1)", got, want, wakes.Load())
	}
	record(signIn("e2", cloudtrail.Failure, 3*time.Minute))
	record(signIn("e3", cloudtrail.Failure, 3*time.Minute)) // now repeated failures
	if wakes.Load() != 1 {
		t.Fatalf("changes within the group window woke the syncer")
	}

	// The syncer posts the alert and clears the work.
	if err := app.Store.Update(ctx, func(tx *store.Tx) error {
		al, err := tx.Alert("INC-1")
		if err != nil {
			return err
		}
		al.Channel, al.TS, al.PostedRev = "C0ALERTS01", "1778490000.000100", al.Rev
		if err := tx.PutAlert(al); err != nil {
			return err
		}
		return tx.ClearDirty("INC-1")
	}); err != nil {
		t.Fatal(err)
	}
	for i, id := range []string{"e4", "e5"} {
		record(signIn(id, cloudtrail.Failure, 2*time.Minute))
		if got, want := dirty(), now.Add(app.updateWait()); !got.Equal(want) {
			t.Fatalf("new failure %d on a posted alert: due %v, want %v", i+1, got, want)
		}
	}
	if wakes.Load() != 2 {
		t.Fatalf("wake-ups after two more failures on a posted alert: %d, want 1 more", wakes.Load()-1)
	}
	record(signIn("e6", cloudtrail.Success, time.Minute)) // recovered
	if got := dirty(); !got.Equal(now) || wakes.Load() != 3 {
		t.Fatalf("recovery of a posted alert: due %v (want %v), %d wake-ups (want 3)", got, now, wakes.Load())
	}
	var al *incident.Alert
	var inc *incident.Incident
	app.Store.View(ctx, func(tx *store.Tx) error {
		al, _ = tx.Alert("INC-1")
		inc, _ = tx.Incident("INC-1")
		return nil
	})
	if inc.Status != incident.StatusRecovered || al.Rev != 6 || al.PostedRev != 3 {
		t.Fatalf("incident %s, alert rev %d posted %d; want recovered, 6 and 3", inc.Status, al.Rev, al.PostedRev)
	}
}

package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatchCommitsEveryCallAndIsolatesFailures runs many concurrent Batch
// calls, some of which fail: every successful call's write is committed,
// no failing call's write is, and each failing call gets its own error.
func TestBatchCommitsEveryCallAndIsolatesFailures(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.Batch(ctx, func(tx *Tx) error {
				if _, err := tx.MarkSeen("111122223333", fmt.Sprintf("e%03d", i), t0); err != nil {
					return err
				}
				if i%7 == 0 {
					return fmt.Errorf("call %d: %w", i, boom)
				}
				return nil
			})
		}()
	}
	wg.Wait()
	update(t, s, func(tx *Tx) error {
		for i, err := range errs {
			failing := i%7 == 0
			if failing != errors.Is(err, boom) {
				t.Errorf("call %d: got %v, want failure=%v", i, err, failing)
			}
			isNew, err := tx.MarkSeen("111122223333", fmt.Sprintf("e%03d", i), t0)
			if err != nil {
				return err
			}
			if isNew != failing {
				t.Errorf("call %d: committed=%v, want %v", i, !isNew, !failing)
			}
		}
		return nil
	})
}

func TestBatchAfterClose(t *testing.T) {
	s := openTest(t)
	if err := s.Batch(context.Background(), func(*Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	s.Close()
	done := make(chan error, 1)
	go func() { done <- s.Batch(context.Background(), func(*Tx) error { return nil }) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Batch after Close succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Batch after Close hung")
	}
}

// TestBatchRerunsTheOthersAfterAFailure puts three calls in one
// transaction, the second failing: the first is run again with the third
// in a new transaction, and the second alone, whose error it gets.
func TestBatchRerunsTheOthersAfterAFailure(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	release, running := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- s.Batch(ctx, func(*Tx) error { close(running); <-release; return nil })
	}()
	<-running
	queued := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			s.batchMu.Lock()
			got := len(s.batchQueue)
			s.batchMu.Unlock()
			if got == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("queued calls: %d, want %d", got, n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	var runs [3]atomic.Int32
	errs := make(chan error, 3)
	boom := errors.New("boom")
	for i := range 3 {
		go func() {
			errs <- s.Batch(ctx, func(tx *Tx) error {
				runs[i].Add(1)
				if _, err := tx.MarkSeen("111122223333", fmt.Sprint("r", i), t0); err != nil {
					return err
				}
				if i == 1 {
					return boom
				}
				return nil
			})
		}()
		queued(i + 1)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	failures := 0
	for range 3 {
		if err := <-errs; errors.Is(err, boom) {
			failures++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if failures != 1 {
		t.Fatalf("calls that failed: %d, want 1", failures)
	}
	if r0, r1, r2 := runs[0].Load(), runs[1].Load(), runs[2].Load(); r0 != 2 || r1 != 2 || r2 != 1 {
		t.Fatalf("runs: %d %d %d, want 2 2 1 (first again after the rollback, the failing one again alone)", r0, r1, r2)
	}
	update(t, s, func(tx *Tx) error {
		for i, want := range []bool{true, false, true} {
			isNew, err := tx.MarkSeen("111122223333", fmt.Sprint("r", i), t0)
			if err != nil {
				return err
			}
			if committed := !isNew; committed != want {
				t.Errorf("call %d committed: %v, want %v", i, committed, want)
			}
		}
		return nil
	})
}

// TestPruneEvery prunes at most once per period.
func TestPruneEvery(t *testing.T) {
	s := openTest(t)
	now := t0.Add(100 * time.Hour)
	seenOld := func(id string) {
		update(t, s, func(tx *Tx) error { _, err := tx.MarkSeen("111122223333", id, t0); return err })
	}
	prune := func(every time.Duration) int {
		t.Helper()
		var p Pruned
		update(t, s, func(tx *Tx) error {
			var err error
			p, err = tx.PruneEvery(now, every)
			return err
		})
		return p.Dedupe
	}
	seenOld("a")
	if n := prune(time.Hour); n != 1 {
		t.Fatalf("first prune: %d dedupe keys, want 1", n)
	}
	seenOld("b")
	if n := prune(time.Hour); n != 0 {
		t.Fatalf("prune within the period: %d dedupe keys, want 0", n)
	}
	if n := prune(0); n != 1 {
		t.Fatalf("prune after the period: %d dedupe keys, want 1", n)
	}
}

func TestDirtyAt(t *testing.T) {
	s := openTest(t)
	update(t, s, func(tx *Tx) error {
		if _, ok, err := tx.DirtyAt("INC-1"); ok || err != nil {
			t.Fatalf("no work yet: got %v, %v", ok, err)
		}
		if err := tx.MarkDirty("INC-1", t0); err != nil {
			return err
		}
		if err := tx.MarkDirty("INC-1", t0.Add(time.Hour)); err != nil {
			return err
		}
		at, ok, err := tx.DirtyAt("INC-1")
		if !ok || err != nil || !at.Equal(t0) {
			t.Fatalf("work due: got %v %v %v, want %v", at, ok, err, t0)
		}
		return nil
	})
}

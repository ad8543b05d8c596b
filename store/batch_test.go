package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
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

package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.etcd.io/bbolt"

	"github.com/mfabot/mfabot/internal/incident"
)

// ErrLocked is returned by Open when another process holds the store's file
// lock for longer than Options.Timeout.
var ErrLocked = errors.New("store is locked")

// ErrSchemaTooNew is returned by Open when the file was written by a newer
// mfabot whose schema this code does not know.
var ErrSchemaTooNew = errors.New("store schema is newer than this mfabot")

// Defaults and floors for Options.
const (
	DefaultTimeout         = time.Second
	DefaultDedupeRetention = 48 * time.Hour
	MinDedupeRetention     = 48 * time.Hour
	DefaultLoginRetention  = 24 * time.Hour
	DefaultIPRetention     = time.Hour
)

// Options tunes Open. The zero value is valid and gives the defaults.
type Options struct {
	// Timeout is how long Open waits for the file lock; zero or less means
	// DefaultTimeout. Open never waits forever.
	Timeout time.Duration
	// Logger receives migration and pruning messages; nil discards them.
	Logger *slog.Logger
	// DedupeRetention is how long dedupe keys are kept. Zero means
	// DefaultDedupeRetention; a value below MinDedupeRetention is raised
	// to it.
	DedupeRetention time.Duration
	// LoginRetention is how long successful MFA sign-ins are kept; zero or
	// less means DefaultLoginRetention.
	LoginRetention time.Duration
	// IPRetention is how long an IP target is kept after it was last
	// touched; zero or less means DefaultIPRetention.
	IPRetention time.Duration
}

// normalize fills in defaults and clamps values, logging any clamp.
func (o Options) normalize() Options {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	switch {
	case o.DedupeRetention == 0:
		o.DedupeRetention = DefaultDedupeRetention
	case o.DedupeRetention < MinDedupeRetention:
		o.Logger.Warn("dedupe retention raised to the minimum",
			"requested", o.DedupeRetention, "used", MinDedupeRetention)
		o.DedupeRetention = MinDedupeRetention
	}
	if o.LoginRetention <= 0 {
		o.LoginRetention = DefaultLoginRetention
	}
	if o.IPRetention <= 0 {
		o.IPRetention = DefaultIPRetention
	}
	return o
}

// Store is an open mfabot database. It is safe for concurrent use; bbolt
// serialises writers and lets readers run alongside them.
type Store struct {
	db   *bbolt.DB
	path string
	opts Options
	log  *slog.Logger

	// pruneMu guards lastPrune, when Tx.PruneEvery last decided to prune.
	pruneMu   sync.Mutex
	lastPrune time.Time

	// Batch's group commit: calls wait in batchQueue for the committer
	// goroutine, which batchWake wakes; batchClosed refuses new calls
	// once Close began.
	batchMu     sync.Mutex
	batchQueue  []*batchCall
	batchClosed bool
	batchWake   chan struct{} // nil until the first Batch starts the committer
	batchDone   chan struct{}
}

// batchCall is one function waiting for Batch's committer.
type batchCall struct {
	fn   func(*Tx) error
	done chan error
}

// maxBatch bounds the functions that share one transaction.
const maxBatch = 256

// errClosed is returned by Batch once the store is closing.
var errClosed = errors.New("store is closed")

// Open opens (creating if needed) the store at path, takes its file lock and
// brings its schema up to SchemaVersion. It fails with an error wrapping
// ErrLocked when another process holds the lock, and with one wrapping
// ErrSchemaTooNew when the file comes from a newer mfabot.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.normalize()
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: opts.Timeout})
	if err != nil {
		if errors.Is(err, bbolt.ErrTimeout) {
			return nil, fmt.Errorf("store %s is in use by another mfabot process (lock not released within %s): %w",
				path, opts.Timeout, ErrLocked)
		}
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{db: db, path: path, opts: opts, log: opts.Logger}
	if err := s.migrate(); err != nil {
		_ = db.Close()
		return nil, err
	}
	return s, nil
}

// Close releases the file lock and closes the store. Closing twice is
// harmless.
func (s *Store) Close() error {
	s.batchMu.Lock()
	var done chan struct{}
	if !s.batchClosed && s.batchWake != nil {
		close(s.batchWake) // the committer finishes what is queued, then stops
		done = s.batchDone
	}
	s.batchClosed = true
	s.batchMu.Unlock()
	if done != nil {
		<-done
	}
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close store %s: %w", s.path, err)
	}
	return nil
}

// Path returns the file the store was opened from.
func (s *Store) Path() string { return s.path }

// Update runs fn in a read-write transaction, committing when fn returns nil
// and rolling back otherwise. fn's error is returned as is. Update does not
// start when ctx is already done.
func (s *Store) Update(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store update: %w", err)
	}
	return s.db.Update(func(btx *bbolt.Tx) error {
		return fn(&Tx{tx: btx, s: s})
	})
}

// Batch runs fn in a read-write transaction that it may share with the
// functions of other goroutines calling Batch meanwhile, so that concurrent
// writers pay for one commit (one fsync) between them: group commit. One
// goroutine commits; a call waits for no timer (unlike bbolt's DB.Batch):
// it joins the transaction that starts next, which holds every call that
// arrived while the previous one committed. Batch returns once that
// transaction is committed, or with fn's error.
//
// fn may be called more than once: when a function sharing the transaction
// fails, the transaction is rolled back, the others are run again in a new
// one, and the failing one is run again alone, its error then being
// returned. So fn must have no effect outside the transaction that a second
// call would not undo: it should reset any result it reports at its start.
// Batch does not start when ctx is already done; once started it waits for
// the commit whatever ctx does.
func (s *Store) Batch(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store batch: %w", err)
	}
	c := &batchCall{fn: fn, done: make(chan error, 1)}
	s.batchMu.Lock()
	if s.batchClosed {
		s.batchMu.Unlock()
		return fmt.Errorf("store batch %s: %w", s.path, errClosed)
	}
	if s.batchWake == nil {
		s.batchWake = make(chan struct{}, 1)
		s.batchDone = make(chan struct{})
		go s.committer(s.batchWake, s.batchDone)
	}
	s.batchQueue = append(s.batchQueue, c)
	select {
	case s.batchWake <- struct{}{}:
	default: // a wake-up is pending already
	}
	s.batchMu.Unlock()
	return <-c.done
}

// committer runs the queued calls of Batch, as many as wait (up to
// maxBatch) per transaction, until the store closes.
func (s *Store) committer(wake <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	for range wake {
		for {
			s.batchMu.Lock()
			n := min(len(s.batchQueue), maxBatch)
			calls := s.batchQueue[:n:n]
			s.batchQueue = s.batchQueue[n:]
			if len(s.batchQueue) == 0 {
				s.batchQueue = nil
			}
			s.batchMu.Unlock()
			if n == 0 {
				break
			}
			s.commit(calls)
		}
	}
}

// commit runs calls in one transaction. When one fails, the transaction is
// rolled back, that one is run alone to get its own outcome, and the others
// are run again together.
func (s *Store) commit(calls []*batchCall) {
	for len(calls) > 0 {
		failed := -1
		err := s.db.Update(func(btx *bbolt.Tx) error {
			for i, c := range calls {
				if err := callSafely(c.fn, &Tx{tx: btx, s: s}); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range calls {
				c.done <- err
			}
			return
		}
		c := calls[failed]
		c.done <- s.db.Update(func(btx *bbolt.Tx) error { return callSafely(c.fn, &Tx{tx: btx, s: s}) })
		calls = append(calls[:failed:failed], calls[failed+1:]...)
	}
}

// callSafely calls fn, turning a panic into an error so that one bad
// function cannot take the committer (and every writer) down.
func callSafely(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("store batch: panic: %v", r)
		}
	}()
	return fn(tx)
}

// View runs fn in a read-only transaction. fn's error is returned as is.
// View does not start when ctx is already done.
func (s *Store) View(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store view: %w", err)
	}
	return s.db.View(func(btx *bbolt.Tx) error {
		return fn(&Tx{tx: btx, s: s})
	})
}

// ListIncidents returns every incident in the order of Tx.Incidents.
func (s *Store) ListIncidents(ctx context.Context) ([]*incident.Incident, error) {
	var out []*incident.Incident
	err := s.View(ctx, func(tx *Tx) error {
		var err error
		out, err = tx.Incidents()
		return err
	})
	return out, err
}

// Prune runs Tx.Prune in its own transaction.
func (s *Store) Prune(ctx context.Context, now time.Time) (Pruned, error) {
	var p Pruned
	err := s.Update(ctx, func(tx *Tx) error {
		var err error
		p, err = tx.Prune(now)
		return err
	})
	if err == nil && p.Total() > 0 {
		s.log.Debug("store pruned", "dedupe", p.Dedupe, "mfa_logins", p.MFALogins, "ip_targets", p.IPTargets)
	}
	return p, err
}

// PruneEvery runs Prune(now) unless this store decided to prune less than
// every ago (wall-clock time), in which case it prunes nothing. Pruning only
// forgets what retention lets go, and every lookup of detection state is
// bounded by its own window, so pruning less often changes no result; it
// saves writers that commit many small transactions from walking the IP
// tallies every time. The decision is taken before the transaction
// commits: if it rolls back, the next prune waits for the next period.
func (tx *Tx) PruneEvery(now time.Time, every time.Duration) (Pruned, error) {
	s := tx.s
	s.pruneMu.Lock()
	wall := time.Now()
	due := s.lastPrune.IsZero() || wall.Sub(s.lastPrune) >= every || wall.Before(s.lastPrune)
	if due {
		s.lastPrune = wall
	}
	s.pruneMu.Unlock()
	if !due {
		return Pruned{}, nil
	}
	return tx.Prune(now)
}

// DirtyAt returns when the incident's Slack work is due, and whether it has
// any waiting (see MarkDirty).
func (tx *Tx) DirtyAt(id string) (time.Time, bool, error) {
	b, err := tx.bucket(bucketDirty)
	if err != nil {
		return time.Time{}, false, err
	}
	v := b.Get([]byte(id))
	if v == nil {
		return time.Time{}, false, nil
	}
	t, err := decodeTime(v)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("dirty %s: %w", id, err)
	}
	return t, true, nil
}

// Tx is one transaction on the store. It is valid only inside the function
// given to Store.View or Store.Update, and like bbolt's it must not be
// shared between goroutines. Write methods fail in a View transaction.
type Tx struct {
	tx     *bbolt.Tx
	s      *Store
	seenAt time.Time
}

// bucket returns a top-level bucket, which migrations guarantee exists.
func (tx *Tx) bucket(name string) (*bbolt.Bucket, error) {
	b := tx.tx.Bucket([]byte(name))
	if b == nil {
		return nil, fmt.Errorf("bucket %s is missing", name)
	}
	return b, nil
}

package cloudtrail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Stdin names standard input among the paths given to Walk.
const Stdin = "-"

// FileError is a file that could not be read; Walk reports it and goes on
// with the other files.
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string {
	if msg := e.Err.Error(); strings.HasPrefix(msg, e.Path+":") {
		return msg
	}
	return e.Path + ": " + e.Err.Error()
}
func (e *FileError) Unwrap() error { return e.Err }

// ErrNoInput is returned when a named path does not exist or cannot be read.
var ErrNoInput = errors.New("cannot read input")

// Walk decodes every path: files, directories (recursively; files ending in
// .json, .json.gz, .jsonl, .ndjson or .gz, skipping CloudTrail digest files
// and hidden entries) and "-" for stdin. Files are read by up to workers
// goroutines at once, so h's functions must be safe for concurrent use.
// Paths are checked before anything is read: a missing or unreadable one
// fails the whole walk with ErrNoInput. A file that fails while being read
// is passed to onFileError and the walk goes on.
func Walk(ctx context.Context, paths []string, stdin io.Reader, workers int, h Handler, onFileError func(*FileError)) (Stats, error) {
	files, err := expand(paths)
	if err != nil {
		return Stats{}, err
	}
	if workers < 1 {
		workers = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var (
		mu       sync.Mutex
		total    Stats
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan string)
	for range min(workers, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				st, err := decodePath(ctx, f, stdin, h)
				mu.Lock()
				total.Add(st)
				var fe *FileError
				switch {
				case err == nil:
				case errors.As(err, &fe) && ctx.Err() == nil:
					if onFileError != nil {
						onFileError(fe)
					}
				case firstErr == nil:
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, f := range files {
		select {
		case next <- f:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	return total, firstErr
}

// decodePath decodes one file (or stdin). Errors reading the file are
// returned as *FileError; an error from the handler is returned as is.
func decodePath(ctx context.Context, path string, stdin io.Reader, h Handler) (Stats, error) {
	var r io.Reader = stdin
	if path != Stdin {
		f, err := os.Open(path)
		if err != nil {
			return Stats{}, &FileError{path, err}
		}
		defer f.Close()
		r = f
	}
	var handlerErr error
	inner := h
	if h.SignIn != nil {
		inner.SignIn = func(s SignIn, p Position) error {
			if err := h.SignIn(s, p); err != nil {
				handlerErr = err
				return err
			}
			return nil
		}
	}
	st, err := Decode(ctx, r, path, inner)
	switch {
	case err == nil:
		return st, nil
	case handlerErr != nil:
		return st, handlerErr
	case ctx.Err() != nil:
		return st, ctx.Err()
	}
	return st, &FileError{path, err}
}

// expand checks the paths and lists the files to read, in a stable order.
func expand(paths []string) ([]string, error) {
	var files []string
	stdinSeen := false
	for _, p := range paths {
		if p == Stdin {
			if !stdinSeen {
				files = append(files, p)
				stdinSeen = true
			}
			continue
		}
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoInput, err)
		}
		if !info.IsDir() {
			f, err := os.Open(p)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", ErrNoInput, err)
			}
			f.Close()
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("%w: %w", ErrNoInput, err)
			}
			name := d.Name()
			if path != p && strings.HasPrefix(name, ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				if name == "CloudTrail-Digest" || name == "CloudTrail-Insight" {
					return filepath.SkipDir
				}
				return nil
			}
			regular := d.Type().IsRegular()
			if d.Type()&fs.ModeSymlink != 0 {
				// Follow links to files; a link to a directory is not
				// walked, so that a loop cannot trap the walk.
				if info, err := os.Stat(path); err == nil {
					regular = info.Mode().IsRegular()
				}
			}
			if regular && isLogName(name) {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// isLogName reports whether a file found in a directory looks like
// CloudTrail input.
func isLogName(name string) bool {
	if strings.Contains(name, "CloudTrail-Digest") {
		return false
	}
	for _, ext := range []string{".json", ".json.gz", ".jsonl", ".ndjson", ".gz", ".jsonl.gz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

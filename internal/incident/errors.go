package incident

import "errors"

// ErrBadTransition is returned when a status change is not allowed.
var ErrBadTransition = errors.New("status change not allowed")

// ErrNotFound is returned when no incident has the given id.
var ErrNotFound = errors.New("incident not found")

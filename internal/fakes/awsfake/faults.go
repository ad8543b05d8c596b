package awsfake

import (
	"net/http"
	"strings"
	"time"
)

// FaultSpec describes a failure that a fake injects into a request.
//
// A FaultSpec with an empty Code and a positive Latency only delays the
// request, which is then served normally.
type FaultSpec struct {
	// Code is the error code, for example "Throttling" (IAM),
	// "LimitExceededException" (Logs) or "RequestThrottled" (SQS).
	Code string
	// Message is the error message. A generic message is used when it is
	// empty.
	Message string
	// Status is the HTTP status code. When it is zero, the fake picks the
	// status that the real service uses for Code, or 400 for client errors
	// and 500 for codes that name an internal failure.
	Status int
	// Latency delays the response by this long before the fault (or the
	// normal response) is sent. The delay ends early if the client goes
	// away or the fake is closed.
	Latency time.Duration
	// QueryCode overrides the legacy query error code that the SQS fake
	// reports in the x-amzn-query-error header. The other fakes ignore it.
	QueryCode string
	// Details holds extra members for JSON error bodies, for example
	// "queryCompileError" for a Logs MalformedQueryException. The IAM fake
	// ignores it.
	Details map[string]any
}

// MalformedQuery returns a FaultSpec for a Logs MalformedQueryException
// whose queryCompileError points at the given character offsets.
func MalformedQuery(message string, start, end int) FaultSpec {
	return FaultSpec{
		Code:    "MalformedQueryException",
		Message: message,
		Details: map[string]any{
			"queryCompileError": map[string]any{
				"message":  message,
				"location": map[string]any{"startCharOffset": start, "endCharOffset": end},
			},
		},
	}
}

// fault is a FaultSpec queued for an operation.
type fault struct {
	op        string
	remaining int // <= 0 means every matching call
	spec      FaultSpec
}

// apiError is an error that a fake returns on the wire.
type apiError struct {
	Status    int
	Code      string
	Message   string
	QueryCode string
	Details   map[string]any
}

// sender reports whether the error is the caller's fault.
func (e *apiError) sender() bool { return e.Status < 500 }

// newAPIError builds an apiError, filling the status from statuses or from
// the generic rule.
func newAPIError(statuses map[string]int, code, message string) *apiError {
	return &apiError{Status: statusFor(statuses, code), Code: code, Message: message}
}

// statusFor returns the HTTP status for an error code.
func statusFor(statuses map[string]int, code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	lc := strings.ToLower(code)
	switch {
	case strings.Contains(lc, "unavailable"):
		return http.StatusServiceUnavailable
	case strings.Contains(lc, "internal"), strings.Contains(lc, "servicefailure"):
		return http.StatusInternalServerError
	case strings.HasPrefix(lc, "accessdenied"):
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// toAPIError converts an injected fault into the error to send.
func (s FaultSpec) toAPIError(statuses map[string]int) *apiError {
	e := newAPIError(statuses, s.Code, s.Message)
	if s.Status != 0 {
		e.Status = s.Status
	}
	if e.Message == "" {
		e.Message = "Injected fault " + s.Code + "."
	}
	e.QueryCode = s.QueryCode
	e.Details = s.Details
	return e
}

// Fail makes the next n calls to operation op fail with spec. The operation
// "*" matches every operation. When n <= 0, every matching call fails until
// ClearFaults is called. Faults are matched in the order they were added.
func (b *base) Fail(op string, n int, spec FaultSpec) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, &fault{op: op, remaining: n, spec: spec})
}

// ClearFaults removes every queued fault.
func (b *base) ClearFaults() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = nil
}

// takeFault returns the first fault that matches op and consumes one use of
// it.
func (b *base) takeFault(op string) (FaultSpec, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, f := range b.faults {
		if f.op != op && f.op != "*" {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				b.faults = append(b.faults[:i:i], b.faults[i+1:]...)
			}
		}
		return f.spec, true
	}
	return FaultSpec{}, false
}

package slackfake

import (
	"math"
	"net/http"
	"time"
)

// fault is one injected failure for the next call of a method.
type fault struct {
	status     int
	code       string
	retryAfter int
}

// response renders the injected failure.
func (f fault) response() apiResponse {
	code := f.code
	if code == "" {
		code = "internal_error"
		if f.status == http.StatusTooManyRequests {
			code = "ratelimited"
		}
	}
	res := failResp(code)
	res.status = f.status
	res.retryAfter = f.retryAfter
	return res
}

// FailNext makes the next n calls of method (a Web API method name,
// "response_url" for response_url POSTs) fail. With status 200 they answer
// {"ok":false,"error":slackErr}; with another status (such as 500) they answer
// that status with the same body. Status 0 means 200, and an empty slackErr
// means "internal_error".
// Faults are served before authentication and argument checks.
func (s *Server) FailNext(method string, n int, status int, slackErr string) {
	if status == 0 {
		status = http.StatusOK
	}
	s.addFaults(method, n, fault{status: status, code: slackErr})
}

// RateLimit makes the next n calls of method answer HTTP 429 with
// "Retry-After: retryAfter" and {"ok":false,"error":"ratelimited"}.
func (s *Server) RateLimit(method string, n int, retryAfter int) {
	s.addFaults(method, n, fault{status: http.StatusTooManyRequests, code: "ratelimited", retryAfter: retryAfter})
}

func (s *Server) addFaults(method string, n int, f fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[method] = append(s.faults[method], f)
	}
}

// ClearFaults removes every pending injected fault and latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = map[string][]fault{}
	s.latency = map[string]time.Duration{}
}

// takeFault pops the next injected fault for method.
func (s *Server) takeFault(method string) (fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[method]
	if len(q) == 0 {
		return fault{}, false
	}
	s.faults[method] = q[1:]
	return q[0], true
}

// SetLatency delays every later call of method (or "response_url") by d
// before it is recorded and answered. A zero d removes the delay.
func (s *Server) SetLatency(method string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d <= 0 {
		delete(s.latency, method)
		return
	}
	s.latency[method] = d
}

func (s *Server) latencyFor(method string) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency[method]
}

// bucket is a token bucket for one channel's chat.postMessage rate.
type bucket struct {
	tokens float64
	last   time.Time
}

// takeChannelTokenLocked consumes one message of the channel's budget. When
// the budget is exhausted it returns false and the whole seconds to wait.
func (s *Server) takeChannelTokenLocked(channelID string) (bool, int) {
	if s.opts.DisableRateLimit {
		return true, 0
	}
	now := s.now()
	b, ok := s.buckets[channelID]
	if !ok {
		b = &bucket{tokens: float64(s.opts.ChannelBurst), last: now}
		s.buckets[channelID] = b
	}
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = math.Min(float64(s.opts.ChannelBurst), b.tokens+el*s.opts.ChannelRate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := (1 - b.tokens) / s.opts.ChannelRate
	return false, max(1, int(math.Ceil(wait)))
}

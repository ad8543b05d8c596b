package awsfake

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Credentials and region that Config and the client constructors use.
const (
	AccessKeyID     = "AKIDFAKE"
	SecretAccessKey = "secret"
	Region          = "us-east-1"
	// AccountID is the account that the fakes pretend to serve.
	AccountID = "123456789012"
)

// Config returns an aws.Config for a fake at url: static credentials
// AKIDFAKE/secret, region us-east-1, BaseEndpoint set to url and no retries.
// Callers may change any field of the returned value, for example Retryer.
func Config(url string) aws.Config {
	return aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(url),
		Retryer:      func() aws.Retryer { return aws.NopRetryer{} },
	}
}

// Call records one request that a fake received.
type Call struct {
	// Op is the operation name, for example "ListMFADevices".
	Op string
	// Params holds the request parameters. For IAM they are the form values
	// (strings) without Action and Version; for Logs and SQS they are the
	// decoded JSON body, with numbers as float64.
	Params map[string]any
	// AccessKeyID is the access key named in the SigV4 Authorization header.
	AccessKeyID string
	// Region is the signing region named in the Authorization header.
	Region string
	// ErrorCode is the error code the fake returned, or "" on success. It is
	// empty while the request is still being served.
	ErrorCode string
	// Time is the wall-clock time at which the request arrived.
	Time time.Time
}

// handlerFunc serves one request of a fake.
type handlerFunc func(w http.ResponseWriter, r *http.Request)

// base holds what every fake shares: the server, the call log and the
// queued faults.
type base struct {
	srv       *httptest.Server
	done      chan struct{}
	closeOnce sync.Once
	statuses  map[string]int
	authCode  string

	mu     sync.Mutex // guards calls and faults
	calls  []Call
	faults []*fault
}

// start starts the HTTP server with h.
func (b *base) start(statuses map[string]int, authCode string, h handlerFunc) {
	b.done = make(chan struct{})
	b.statuses = statuses
	b.authCode = authCode
	b.srv = httptest.NewServer(http.HandlerFunc(h))
}

// URL returns the base URL of the fake, for example http://127.0.0.1:41234.
func (b *base) URL() string { return b.srv.URL }

// Close stops the fake. Long-polling requests that are waiting return at
// once. Close is safe to call more than once.
func (b *base) Close() {
	b.closeOnce.Do(func() {
		close(b.done)
		b.srv.CloseClientConnections()
		b.srv.Close()
	})
}

// Calls returns a copy of the requests received so far, in arrival order.
func (b *base) Calls() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Call, len(b.calls))
	for i, c := range b.calls {
		c.Params = maps.Clone(c.Params)
		out[i] = c
	}
	return out
}

// CallsTo returns the recorded requests for operation op.
func (b *base) CallsTo(op string) []Call {
	var out []Call
	for _, c := range b.Calls() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// ResetCalls forgets the recorded requests.
func (b *base) ResetCalls() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = nil
}

// begin records a request and applies the first matching fault. It returns
// the index of the recorded call, for finish, and the error to send, if any.
func (b *base) begin(r *http.Request, op string, params map[string]any) (int, *apiError) {
	key, region := parseAuth(r.Header.Get("Authorization"))
	b.mu.Lock()
	idx := len(b.calls)
	b.calls = append(b.calls, Call{Op: op, Params: params, AccessKeyID: key, Region: region, Time: time.Now()})
	b.mu.Unlock()

	if key == "" {
		return idx, newAPIError(map[string]int{b.authCode: http.StatusForbidden}, b.authCode,
			"Request is missing Authentication Token")
	}
	spec, ok := b.takeFault(op)
	if !ok {
		return idx, nil
	}
	if spec.Latency > 0 && !b.sleep(r.Context(), spec.Latency) {
		return idx, newAPIError(nil, "RequestCanceled", "The request ended before the injected delay.")
	}
	if spec.Code == "" {
		return idx, nil
	}
	return idx, spec.toAPIError(b.statuses)
}

// finish stores the outcome of call idx.
func (b *base) finish(idx int, e *apiError) {
	if e == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if idx < len(b.calls) {
		b.calls[idx].ErrorCode = e.Code
	}
}

// sleep waits for d. It returns false if ctx ended or the fake was closed
// first.
func (b *base) sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-b.done:
		return false
	}
}

// parseAuth extracts the access key and region from a SigV4 Authorization
// header: "AWS4-HMAC-SHA256 Credential=KEY/DATE/REGION/SERVICE/aws4_request, ...".
func parseAuth(h string) (key, region string) {
	_, rest, ok := strings.Cut(h, "Credential=")
	if !ok {
		return "", ""
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 3 {
		return parts[0], ""
	}
	return parts[0], parts[2]
}

// newID returns a random identifier in the 8-4-4-4-12 UUID layout.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

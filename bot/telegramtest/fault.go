package telegramtest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Fault is a failure injected into the next calls of a method.
type Fault struct {
	// Status is the HTTP status and error_code to answer (500, 502, 429...).
	// Zero means no error: with a Delay, the call is only slowed down.
	Status int
	// Description defaults to the real server's wording for the status
	// ("Too Many Requests: retry after N" for 429).
	Description string
	// RetryAfter is parameters.retry_after of a 429 (default 1).
	RetryAfter int
	// Delay holds the answer back, to simulate a slow or hung server. If
	// the client gives up meanwhile, the call has no effect.
	Delay time.Duration
	// Times is how many calls fail (0 means 1, negative means until
	// ClearFaults).
	Times int
	// Body, when set, is written verbatim instead of the JSON envelope
	// (e.g. the HTML page a proxy answers with a 502).
	Body string
}

type faultEntry struct {
	f    Fault
	left int // remaining calls; negative: unlimited
}

// faultQueues are the injected faults not used up, in the order injected,
// by method name ("" for any method). Guarded by Server.mu.
type faultQueues map[string][]*faultEntry

// faultError is the answer of an injected fault.
type faultError struct {
	apiError
	body string
}

func (e *faultError) Unwrap() error { return &e.apiError }

// errClientGone ends a call whose client went away (or a server closing)
// without an answer.
var errClientGone = errors.New("telegramtest: client gone")

// InjectFault makes the next f.Times calls of method fail (or stall) as f
// says, before any validation and without effect on state. method "" matches
// any method; a method-specific fault is used before a catch-all one.
// It panics on a method name the Bot API does not have.
func (s *Server) InjectFault(method string, f Fault) {
	key := ""
	if method != "" {
		m, ok := LookupMethod(method)
		if !ok {
			panic(fmt.Sprintf("telegramtest: InjectFault: unknown method %q", method))
		}
		key = m.Name
	}
	left := f.Times
	if left == 0 {
		left = 1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[key] = append(s.faults[key], &faultEntry{f: f, left: left})
}

// ClearFaults removes every injected fault not yet used.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = faultQueues{}
}

// takeLocked uses up one call of the fault due for method, a
// method-specific one before a catch-all one. Server.mu must be held.
func (fq faultQueues) takeLocked(method string) (Fault, bool) {
	for _, key := range []string{method, ""} {
		q := fq[key]
		if len(q) == 0 {
			continue
		}
		e := q[0]
		if e.left > 0 {
			e.left--
			if e.left == 0 {
				fq[key] = q[1:]
			}
		}
		return e.f, true
	}
	return Fault{}, false
}

// applyFault runs the fault due for this call, if any.
func (s *Server) applyFault(ctx context.Context, method string) error {
	s.mu.Lock()
	f, ok := s.faults.takeLocked(method)
	s.mu.Unlock()
	if !ok {
		return nil
	}
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return errClientGone
		case <-s.closing:
			return errClientGone
		}
	}
	if f.Status == 0 {
		return nil
	}
	fe := &faultError{apiError: apiError{code: f.Status, desc: f.Description}, body: f.Body}
	if f.Status == http.StatusTooManyRequests {
		fe.retryAfter = max(f.RetryAfter, 1)
		if fe.desc == "" {
			fe.desc = fmt.Sprintf("Too Many Requests: retry after %d", fe.retryAfter)
		}
	}
	if fe.desc == "" {
		fe.desc = http.StatusText(f.Status)
	}
	return fe
}

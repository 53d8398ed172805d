// Package logtest holds what tests need to read a component's logs.
package logtest

import (
	"bytes"
	"sync"
)

// Buffer collects log lines written from several goroutines, for a test
// to read while they run.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

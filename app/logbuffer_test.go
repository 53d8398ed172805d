package app

import (
	"bytes"
	"sync"
)

// LogBuffer collects log lines written from several goroutines. It is
// declared in package app, though only tests use it, so that the
// internal tests and the end-to-end tests of package app_test share it.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

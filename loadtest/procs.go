package loadtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// modulePath is the module whose root `go build` runs in.
const modulePath = "github.com/committeebot/committeebot"

// clockTick is the unit of utime and stime in /proc/<pid>/stat (USER_HZ,
// 100 on every Linux architecture Go supports).
const clockTick = 10 * time.Millisecond

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// moduleRoot finds the repository root from the working directory upward.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find the module root: %w", err)
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "module" && f[1] == modulePath {
					return dir, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find the module root: no go.mod of %s above the working directory; run from the repository or pass --binary", modulePath)
		}
		dir = parent
	}
}

// buildBinary builds the bot into dir with `go build -trimpath -o … .` at the
// module root.
func buildBinary(ctx context.Context, dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build the bot: %w", err)
	}
	out := filepath.Join(dir, "committeebot")
	// Built as releases are (tools/release: static, -trimpath), so that the
	// bench measures the binary people run — and shares its compiled
	// packages with the release tool's snapshot test and the test suite's
	// vet, which scripts/test runs with the same flags.
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the bot: %w\n%s", err, b)
	}
	return out, nil
}

// redisServer is a throw-away redis-server with AOF (appendfsync
// everysec, as deploy/compose.yaml runs it) in a temporary directory.
type redisServer struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

func startRedis(ctx context.Context, dir string) (*redisServer, error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if _, serr := os.Stat("/usr/bin/redis-server"); serr != nil {
			return nil, fmt.Errorf("start redis: %w", err)
		}
		path = "/usr/bin/redis-server"
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	rdir := filepath.Join(dir, "redis")
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	cmd := exec.Command(path, "--port", port, "--bind", "127.0.0.1", "--dir", rdir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
		"--logfile", filepath.Join(rdir, "redis.log"))
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis: %w", err)
	}
	r := &redisServer{cmd: cmd, addr: addr, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if err := c.Ping(ctx).Err(); err == nil {
			return r, nil
		}
		select {
		case <-r.done:
			return nil, errors.New("start redis: redis-server exited; see its log")
		case <-ctx.Done():
			r.stop()
			return nil, fmt.Errorf("start redis: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			r.stop()
			return nil, errors.New("start redis: not answering PING after 10s")
		}
	}
}

func (r *redisServer) url() string { return "redis://" + r.addr + "/0" }

func (r *redisServer) stop() {
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(5 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// botProc is one replica of the real binary: `committeebot serve` in
// webhook mode, configured by environment variables only.
type botProc struct {
	name    string
	binary  string
	env     []string
	webhook string // URL the driver posts updates to
	ops     string // base URL of /healthz, /readyz, /metrics
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	starts int
}

// start runs the binary and waits until it is ready: /readyz answers 200
// and the webhook listener accepts connections.
func (b *botProc) start(ctx context.Context) error {
	f, err := os.OpenFile(b.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: %w", b.name, err)
	}
	cmd := exec.Command(b.binary, "serve")
	cmd.Env = b.env
	cmd.Stdout, cmd.Stderr = f, f
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		_ = f.Close()
		return fmt.Errorf("start %s: %w", b.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = f.Close(); close(exited) }()
	b.mu.Lock()
	b.cmd, b.exited = cmd, exited
	b.starts++
	b.mu.Unlock()

	hostPort := strings.TrimPrefix(b.webhook, "http://")
	if i := strings.IndexByte(hostPort, '/'); i >= 0 {
		hostPort = hostPort[:i]
	}
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	lastState := "no answer"
	for {
		ready := false
		if resp, err := client.Get(b.ops + "/readyz"); err == nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			_ = resp.Body.Close()
			ready = resp.StatusCode == http.StatusOK
			lastState = fmt.Sprintf("/readyz %d %s", resp.StatusCode, bytes.TrimSpace(body))
		} else {
			lastState = err.Error()
		}
		if ready {
			if c, err := net.DialTimeout("tcp", hostPort, time.Second); err == nil {
				_ = c.Close()
				return nil
			}
		}
		select {
		case <-exited:
			return fmt.Errorf("start %s: the bot exited: %s", b.name, b.logTail(10))
		case <-ctx.Done():
			b.kill()
			return fmt.Errorf("start %s: %w", b.name, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.kill()
			return fmt.Errorf("start %s: not ready after 30s (%s): %s", b.name, lastState, b.logTail(10))
		}
	}
}

// pid is the process id of the running process, 0 if none.
func (b *botProc) pid() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cmd == nil || b.cmd.Process == nil {
		return 0
	}
	return b.cmd.Process.Pid
}

// stop sends sig and waits up to grace for the process to exit, then
// kills it. It reports how long the exit took and whether it was killed.
func (b *botProc) stop(sig syscall.Signal, grace time.Duration) (time.Duration, bool) {
	b.mu.Lock()
	cmd, exited := b.cmd, b.exited
	b.mu.Unlock()
	if cmd == nil {
		return 0, false
	}
	began := time.Now()
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return time.Since(began), sig == syscall.SIGKILL
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-exited
		return time.Since(began), true
	}
}

func (b *botProc) kill() { b.stop(syscall.SIGKILL, 10*time.Second) }

// cpu is the process's user plus system CPU time so far.
func (b *botProc) cpu() (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.pid()))
	if err != nil {
		return 0, fmt.Errorf("read cpu time of %s: %w", b.name, err)
	}
	// The command name may contain spaces: fields start after its ")".
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("read cpu time of %s: short /proc stat", b.name)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("read cpu time of %s: %w", b.name, err)
	}
	return time.Duration(ut+st) * clockTick, nil
}

// peakRSS is the process's peak resident set size (VmHWM) in bytes.
func (b *botProc) peakRSS() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", b.pid()))
	if err != nil {
		return 0, fmt.Errorf("read peak rss of %s: %w", b.name, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("read peak rss of %s: %w", b.name, err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("read peak rss of %s: no VmHWM", b.name)
}

// logTail returns the last n lines of the process's log.
func (b *botProc) logTail(n int) string {
	raw, _ := os.ReadFile(b.logPath)
	lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// logCounts counts the log lines at WARN and above by message, the bot's
// own account of what went wrong (flood control, failed handlers…), with
// the error of the first line of each.
func logCounts(paths ...string) map[string]int {
	out := map[string]int{}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for _, line := range bytes.Split(raw, []byte("\n")) {
			var rec struct {
				Level string `json:"level"`
				Msg   string `json:"msg"`
				Err   string `json:"err"`
			}
			if json.Unmarshal(line, &rec) != nil || (rec.Level != "WARN" && rec.Level != "ERROR") {
				continue
			}
			key := rec.Level + ": " + rec.Msg
			if rec.Err != "" {
				key += " (" + truncate(strings.ReplaceAll(rec.Err, "\n", " | "), 90) + ")"
			}
			out[key]++
		}
	}
	return out
}

// formatCounts renders logCounts, most frequent first.
func formatCounts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if m[keys[i]] != m[keys[j]] {
			return m[keys[i]] > m[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%d× %s", m[k], k))
	}
	return strings.Join(parts, "; ")
}

// Package redistest gives tests a real Redis: a throw-away redis-server
// process per test, or one shared server per test package, with a unique key
// prefix per test so tests sharing a server never see each other's keys.
//
// Where the server comes from, in order:
//  1. a private redis-server process when the test asks for one
//     (WithOwnServer, WithAppendOnly or WithArgs), needed for Stop, Kill,
//     Restart and Dir;
//  2. the server at COMMITTEEBOT_TEST_REDIS_URL, if that variable is set
//     (CI with a Redis service container);
//  3. the package's shared server, if the test package's TestMain calls Main;
//  4. otherwise a private redis-server process.
//
// A private server listens on a free port of 127.0.0.1 with its data
// directory in t.TempDir(), persistence off unless WithAppendOnly, and is
// killed by t.Cleanup. If redis-server is not installed the test fails with a
// message saying so (it is skipped only when it needs a private server and
// COMMITTEEBOT_TEST_REDIS_URL shows that the environment deliberately has
// none).
//
// Speed: starting redis-server takes a few milliseconds, so a private server
// per test is fine; Main saves even that for packages with many tests.
//
// NewSentinel and NewCluster start whole topologies of private processes
// (a Sentinel-managed primary with replicas, a three-master Cluster) for
// tests of failover and of hash slots; see topology.go.
package redistest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvURL names the environment variable that points tests at an existing
// Redis instead of starting redis-server. Tests then share that server (and
// its database); each test gets its own key prefix and its keys are deleted
// when it ends.
const EnvURL = "COMMITTEEBOT_TEST_REDIS_URL"

// startTimeout bounds how long New waits for a started server to answer
// PING. It is a guard against a hung process, not a test expectation.
const startTimeout = 15 * time.Second

// Option configures New.
type Option func(*config)

type config struct {
	own        bool
	appendOnly bool
	args       []string
	// sentinel runs the process as a Sentinel (--sentinel) with the
	// configuration file conf, which it rewrites as it learns.
	sentinel bool
	conf     string
}

// WithOwnServer asks for a private redis-server process even when a shared
// server is available, so the test may call Stop, Kill, Restart and Dir.
func WithOwnServer() Option { return func(c *config) { c.own = true } }

// WithAppendOnly starts a private server with the append-only file on
// (appendonly yes), so data survives Stop and Restart and the test can
// inspect the AOF under Dir. Implies WithOwnServer.
func WithAppendOnly() Option {
	return func(c *config) { c.own, c.appendOnly = true, true }
}

// WithArgs passes extra command-line arguments to a private redis-server
// (for example "--appendfsync", "always"). Implies WithOwnServer.
func WithArgs(args ...string) Option {
	return func(c *config) { c.own, c.args = true, append(c.args, args...) }
}

// shared is the URL of the server started by Main, if any.
var shared string

// seq makes prefixes unique within the process.
var seq atomic.Int64

// Instance is a Redis server handed to one test.
type Instance struct {
	t      testing.TB
	url    string
	addr   string
	prefix string
	client redis.UniversalClient
	shared bool // a server other tests use too: delete this test's keys at the end

	mu  sync.Mutex
	srv *server // nil for a shared server or a topology (Sentinel, Cluster)
}

// New returns a Redis for t; see the package documentation for where it
// comes from. Everything it starts or opens is released by t.Cleanup.
func New(t testing.TB, opts ...Option) *Instance {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	inst := &Instance{t: t, prefix: newPrefix()}

	env := os.Getenv(EnvURL)
	switch {
	case !cfg.own && env != "":
		inst.url = env
	case !cfg.own && shared != "":
		inst.url = shared
	default:
		requireServer(t)
		dir := t.TempDir() // removed after the server is killed: Cleanup runs LIFO
		srv, err := startFree(dir, cfg)
		if err != nil {
			t.Fatalf("redistest: %v", err)
		}
		t.Cleanup(srv.kill)
		inst.srv = srv
		inst.url = srv.url()
	}

	opt, err := redis.ParseURL(inst.url)
	if err != nil {
		t.Fatalf("redistest: parse %s: %v", EnvURL, err)
	}
	opt.DialTimeout = 2 * time.Second
	opt.DialerRetries = 1 // fail fast while a test has the server stopped
	inst.client, inst.addr, inst.shared = redis.NewClient(opt), opt.Addr, inst.srv == nil
	t.Cleanup(func() {
		if inst.shared {
			inst.deleteKeys()
		}
		_ = inst.client.Close()
	})
	if inst.shared {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := inst.client.Ping(ctx).Err(); err != nil {
			t.Fatalf("redistest: Redis at %s does not answer: %v", redact(inst.url), err)
		}
	}
	return inst
}

// URL returns the redis:// URL of the server.
func (i *Instance) URL() string { return i.url }

// Addr returns the host:port of the server (of a topology: the node
// that was the primary, or the first node, when it started).
func (i *Instance) Addr() string { return i.addr }

// Prefix returns a key prefix unique to this Instance. Tests pass it to
// storage.NewKeys so that tests sharing a server stay apart.
func (i *Instance) Prefix() string { return i.prefix }

// Client returns a client of the server, closed by t.Cleanup. It keeps
// working across Stop and Restart (it reconnects); a topology's client
// follows a failover (Sentinel) or the slots (Cluster).
func (i *Instance) Client() redis.UniversalClient { return i.client }

// Dir returns the data directory of a private server (where the AOF lives).
func (i *Instance) Dir() string {
	i.t.Helper()
	return i.own("Dir").dir
}

// Stop shuts the private server down the way SIGTERM does (it flushes the
// AOF, if on) and waits until it has exited. Its port stays reserved for
// Restart in the sense that nothing in this package reuses it.
func (i *Instance) Stop() {
	i.t.Helper()
	if err := i.own("Stop").stop(syscall.SIGTERM); err != nil {
		i.t.Fatalf("redistest: stop: %v", err)
	}
}

// Kill ends the private server with SIGKILL, as a crash would: writes the
// AOF had not yet fsynced may be lost.
func (i *Instance) Kill() {
	i.t.Helper()
	if err := i.own("Kill").stop(syscall.SIGKILL); err != nil {
		i.t.Fatalf("redistest: kill: %v", err)
	}
}

// Restart starts the private server again on the same port and data
// directory, stopping it first if it is running, and waits until it answers
// PING (after loading its AOF, if on). Without WithAppendOnly the data is
// gone.
func (i *Instance) Restart() {
	i.t.Helper()
	srv := i.own("Restart")
	if err := srv.stop(syscall.SIGTERM); err != nil {
		i.t.Fatalf("redistest: restart: %v", err)
	}
	if err := srv.start(); err != nil {
		i.t.Fatalf("redistest: restart: %v", err)
	}
}

// own returns the private server or fails the test.
func (i *Instance) own(method string) *server {
	i.t.Helper()
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.srv == nil {
		i.t.Fatalf("redistest: %s needs a private server; call redistest.New(t, redistest.WithOwnServer())", method)
	}
	return i.srv
}

// deleteKeys removes this Instance's keys from a shared server.
func (i *Instance) deleteKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := i.client.Scan(ctx, 0, i.prefix+":*", 1000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 1000 {
			i.client.Unlink(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		i.client.Unlink(ctx, batch...)
	}
	if err := iter.Err(); err != nil {
		i.t.Logf("redistest: delete keys %s:*: %v", i.prefix, err)
	}
}

// Main runs a test package with one redis-server shared by all its tests,
// unless COMMITTEEBOT_TEST_REDIS_URL is set, and exits with the tests'
// status. Use it as the whole TestMain:
//
//	func TestMain(m *testing.M) { redistest.Main(m) }
//
// Each New still gets its own key prefix; tests that need a private server
// (WithOwnServer, WithAppendOnly) still get one.
func Main(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if os.Getenv(EnvURL) != "" {
		return m.Run()
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		fmt.Fprintf(os.Stderr, "redistest: redis-server is not installed or not in PATH (%v); install it (apt-get install redis-server) or set %s to a Redis URL\n", err, EnvURL)
		return 1
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "redistest: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	srv, err := startFree(dir, config{})
	if err != nil {
		fmt.Fprintf(os.Stderr, "redistest: %v\n", err)
		return 1
	}
	defer srv.kill()
	shared = srv.url()
	defer func() { shared = "" }()
	return m.Run()
}

// server is one redis-server process, restartable on the same port.
type server struct {
	dir  string
	port int
	cfg  config

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
}

func (s *server) url() string { return "redis://127.0.0.1:" + strconv.Itoa(s.port) + "/0" }

func (s *server) logPath() string { return filepath.Join(s.dir, "redis.log") }

// startFree starts a server on a free port, trying a few ports in case
// another process grabs the one picked before redis-server binds it.
func startFree(dir string, cfg config) (*server, error) {
	var err error
	for range 5 {
		var port int
		if port, err = freePort(); err != nil {
			return nil, err
		}
		s := &server{dir: dir, port: port, cfg: cfg}
		if err = s.start(); err == nil {
			return s, nil
		}
		if !strings.Contains(err.Error(), "in use") {
			return nil, err
		}
	}
	return nil, err
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs redis-server and waits until it answers (and is the one that
// answers: see waitReady).
func (s *server) start() error {
	appendOnly := "no"
	if s.cfg.appendOnly {
		appendOnly = "yes"
	}
	args := []string{
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", appendOnly,
		"--dir", s.dir,
		"--daemonize", "no",
		"--logfile", s.logPath(),
	}
	args = append(args, s.cfg.args...)
	if s.cfg.sentinel {
		// The file comes first; Sentinel refuses to run without one.
		args = append(append([]string{s.cfg.conf}, args...), "--sentinel")
	}
	cmd := exec.Command("redis-server", args...)
	cmd.Dir = s.dir
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	s.mu.Lock()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()

	if err := s.waitReady(exited, cmd.Process.Pid); err != nil {
		_ = s.stop(syscall.SIGKILL)
		return err
	}
	return nil
}

// waitReady polls INFO until the server, process pid, answers, exits or
// startTimeout passes.
func (s *server) waitReady(exited <-chan struct{}, pid int) error {
	c := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:" + strconv.Itoa(s.port),
		DialTimeout:   time.Second,
		MaxRetries:    -1,
		DialerRetries: 1, // this loop is the retry
	})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-exited:
			return fmt.Errorf("redis-server on port %d exited at start:\n%s", s.port, s.logTail())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		info, err := c.Info(ctx, "server").Result()
		cancel()
		if err == nil {
			// The server answering is this one, not another that took
			// the port between freePort and the bind (this one then
			// exits, "Address already in use").
			if got := infoField(info, "process_id"); got != strconv.Itoa(pid) {
				return fmt.Errorf("port %d is in use by another redis-server (pid %s)", s.port, got)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis-server on port %d does not answer PING after %v (last error: %v):\n%s", s.port, startTimeout, err, s.logTail())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// infoField is the value of field in an INFO reply ("" if absent).
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return v
		}
	}
	return ""
}

// stop signals the process, if running, and waits for it to exit (sending
// SIGKILL if it takes too long).
func (s *server) stop(sig syscall.Signal) error {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	// A forked child (an AOF rewrite, a background save) outlives a
	// SIGKILLed server and goes on writing into its directory, which the
	// test's clean-up then fails to remove ("directory not empty"): it is
	// killed too. SIGTERM needs nothing more, the server ends its children.
	var children []int
	if sig == syscall.SIGKILL {
		children = childrenOf(cmd.Process.Pid)
	}
	if err := cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("signal redis-server: %w", err)
	}
	defer killAll(children)
	select {
	case <-exited:
		return nil
	case <-time.After(startTimeout):
	}
	_ = cmd.Process.Kill()
	<-exited
	return fmt.Errorf("redis-server on port %d ignored %v; killed", s.port, sig)
}

// childrenOf lists the processes whose parent is pid, from /proc (none
// where there is no /proc).
func childrenOf(pid int) []int {
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var out []int
	for _, path := range stats {
		b, err := os.ReadFile(path)
		if err != nil {
			continue // ended meanwhile
		}
		// "pid (comm) state ppid …": comm may hold spaces and parentheses.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(b[i+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		if child, err := strconv.Atoi(filepath.Base(filepath.Dir(path))); err == nil {
			out = append(out, child)
		}
	}
	return out
}

// killAll SIGKILLs pids and waits (a few seconds at most) until each has
// ended: gone from /proc or a zombie, writing nothing any more.
func killAll(pids []int) {
	for _, pid := range pids {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
			if err != nil {
				break
			}
			if i := bytes.LastIndexByte(b, ')'); i >= 0 && i+2 < len(b) && b[i+2] == 'Z' {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// kill ends the process for good (t.Cleanup, Main).
func (s *server) kill() { _ = s.stop(syscall.SIGKILL) }

// logTail returns the last lines of the server's log, for error messages.
func (s *server) logTail() string {
	b, err := os.ReadFile(s.logPath())
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// requireServer fails t, or skips it where the environment has no
// redis-server on purpose, unless redis-server is installed.
func requireServer(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv(EnvURL) != "" {
			t.Skipf("redistest: this test needs its own redis-server process, which is not installed (%s is set, so the environment has none on purpose)", EnvURL)
		}
		t.Fatalf("redistest: redis-server is not installed or not in PATH (%v); install it (apt-get install redis-server) or set %s to a Redis URL", err, EnvURL)
	}
}

// newPrefix returns a key prefix unique across processes and tests.
func newPrefix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "t" + strconv.FormatInt(seq.Add(1), 10) + "x" + hex.EncodeToString(b[:])
}

// redact hides the password of a Redis URL in messages.
func redact(raw string) string {
	i := strings.Index(raw, "://")
	j := strings.LastIndex(raw, "@")
	if i < 0 || j < i {
		return raw
	}
	return raw[:i+3] + "xxxxx" + raw[j:]
}

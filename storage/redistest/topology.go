package redistest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The topologies below are what deploy/ runs in production, on loopback
// ports of one machine: a Sentinel-managed primary with replicas (as the
// Kubernetes StatefulSet) and a three-master Cluster. Each process has its
// own directory under t.TempDir() and is killed by t.Cleanup; nothing is
// shared between tests, so they may run in parallel.

// SentinelMasterName is the name the Sentinels of NewSentinel know the
// primary by (redis.sentinel.master).
const SentinelMasterName = "mymaster"

// Failure detection of NewSentinel's Sentinels: short, so a failover takes
// a couple of seconds rather than the production 5 s + election.
const (
	sentinelDownAfter       = 500 * time.Millisecond
	sentinelFailoverTimeout = 3 * time.Second
)

// topologyTimeout bounds how long NewSentinel and NewCluster wait for the
// processes to find each other. A guard against a broken setup, not a test
// expectation.
const topologyTimeout = 30 * time.Second

// Sentinel is a primary, two replicas and three Sentinels (quorum 2)
// watching them. Two replicas, as in deploy/kubernetes: after a failover
// one replica is left, so writes that wait for a replica
// (redis.wait_replicas=1) are acknowledged again.
//
// Its Instance's client is a go-redis failover client (it follows the
// primary through the Sentinels); URL is the first primary's, whose host
// the bot ignores in Sentinel mode.
type Sentinel struct {
	*Instance
	data      []*server // data nodes; the first was the primary at start
	sentinels []*server
}

// NewSentinel starts the topology for t and waits until the Sentinels
// agree on the primary, see both replicas in sync and can authorize a
// failover. It skips t when redis-server cannot run as a Sentinel.
func NewSentinel(t testing.TB) *Sentinel {
	t.Helper()
	requireServer(t)
	root := t.TempDir()
	s := &Sentinel{}
	// Any node may become the primary: each sends its full sync at once
	// (the default waits 5 s for more replicas).
	for i := range 3 {
		args := []string{"--repl-diskless-sync-delay", "0"}
		if i > 0 {
			args = append(args, "--replicaof", "127.0.0.1", strconv.Itoa(s.data[0].port))
		}
		srv := startIn(t, "replication", filepath.Join(root, "data"+strconv.Itoa(i)), config{args: args})
		s.data = append(s.data, srv)
	}
	primary := s.data[0]
	// The replicas are in sync before the Sentinels start, so their first
	// INFO of the primary lists both.
	ctx, cancel := context.WithTimeout(context.Background(), topologyTimeout)
	defer cancel()
	pc := redis.NewClient(&redis.Options{Addr: primary.addr()})
	defer pc.Close()
	waitUntil(t, ctx, "the replicas to sync with the primary", func() (bool, string) {
		n, err := pc.Do(ctx, "WAIT", 2, 50).Int()
		return err == nil && n == 2, fmt.Sprintf("WAIT 2 = %d, %v", n, err)
	})

	s.sentinels = startSentinels(t, filepath.Join(root, "sentinel"), primary.port)
	// A check cut short by the deadline says nothing of the Sentinel: the
	// report keeps each one's last real answer, and the log of any that
	// is not ready when time is up.
	last := make([]string, len(s.sentinels))
	waitUntil(t, ctx, "the Sentinels to see the primary, its replicas and each other", func() (bool, string) {
		var report []string
		ok := true
		for i, sn := range s.sentinels {
			good, why := sentinelReady(ctx, sn.addr())
			if ctx.Err() == nil || last[i] == "" {
				last[i] = why
			}
			ok = ok && good
			line := sn.addr() + ": " + last[i]
			if !good && ctx.Err() != nil {
				line += "; its log:\n" + sn.logTail() + "\n"
			}
			report = append(report, line)
		}
		return ok, strings.Join(report, "; ")
	})

	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:    SentinelMasterName,
		SentinelAddrs: s.SentinelAddrs(),
		DialTimeout:   time.Second,
	})
	s.Instance = &Instance{t: t, url: primary.url(), addr: primary.addr(), prefix: newPrefix(), client: c}
	t.Cleanup(func() { _ = c.Close() })
	return s
}

// SentinelAddrs returns the Sentinels' host:port addresses
// (redis.sentinel.addrs).
func (s *Sentinel) SentinelAddrs() []string {
	addrs := make([]string, len(s.sentinels))
	for i, sn := range s.sentinels {
		addrs[i] = sn.addr()
	}
	return addrs
}

// Primary returns the host:port of the primary as the Sentinels report it
// (the first that answers).
func (s *Sentinel) Primary(ctx context.Context) (string, error) {
	var last error
	for _, sn := range s.sentinels {
		c := redis.NewSentinelClient(&redis.Options{Addr: sn.addr(), DialTimeout: time.Second})
		hp, err := c.GetMasterAddrByName(ctx, SentinelMasterName).Result()
		_ = c.Close()
		if err == nil && len(hp) == 2 {
			return hp[0] + ":" + hp[1], nil
		}
		last = err
	}
	return "", fmt.Errorf("no Sentinel named the primary: %v", last)
}

// Cut is a primary whose replicas CutOffReplicas cut off.
type Cut struct {
	s        *Sentinel
	addr     string
	primary  *redis.Client
	replicas []*redis.Client
}

// CutOffReplicas keeps the replicas from receiving the primary's writes,
// as a network partition would (a wrong masterauth keeps them from
// reconnecting), and returns once every replica's link is down. What is
// written from then on is on the primary alone (Cut.Primary) until
// Cut.Crash.
func (s *Sentinel) CutOffReplicas() *Cut {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), topologyTimeout)
	defer cancel()
	addr, err := s.Primary(ctx)
	if err != nil {
		s.t.Fatalf("redistest: %v", err)
	}
	c := &Cut{s: s, addr: addr, primary: redis.NewClient(&redis.Options{Addr: addr})}
	s.t.Cleanup(c.close)
	for _, srv := range s.data {
		if srv.addr() != addr && srv.running() {
			c.replicas = append(c.replicas, redis.NewClient(&redis.Options{Addr: srv.addr()}))
		}
	}
	c.setAuth(ctx, "cut-off-"+randomID())
	if err := c.primary.Do(ctx, "CLIENT", "KILL", "TYPE", "replica").Err(); err != nil {
		s.t.Fatalf("redistest: cut the replicas off %s: %v", addr, err)
	}
	waitUntil(s.t, ctx, "the replicas' links to go down", func() (bool, string) {
		n, err := c.primary.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(n, "connected_slaves:0\r\n"), fmt.Sprintf("%v %q", err, n)
	})
	return c
}

// Primary returns a client of the cut-off primary itself, to see what it
// holds alone (it is not the topology's client, which fails over).
func (c *Cut) Primary() redis.UniversalClient { return c.primary }

// Crash kills the cut-off primary with SIGKILL, losing what it holds
// alone, and lets the replicas authenticate again, so the Sentinels can
// promote one and the other can follow it. It returns the address of the
// killed primary.
func (c *Cut) Crash() string {
	c.s.t.Helper()
	c.s.killData(c.addr)
	ctx, cancel := context.WithTimeout(context.Background(), topologyTimeout)
	defer cancel()
	c.setAuth(ctx, "")
	return c.addr
}

func (c *Cut) setAuth(ctx context.Context, pass string) {
	c.s.t.Helper()
	for _, r := range c.replicas {
		if err := r.ConfigSet(ctx, "masterauth", pass).Err(); err != nil {
			c.s.t.Fatalf("redistest: masterauth of %s: %v", r.Options().Addr, err)
		}
	}
}

func (c *Cut) close() {
	for _, r := range append(c.replicas, c.primary) {
		_ = r.Close()
	}
}

// killData kills the data node at addr with SIGKILL.
func (s *Sentinel) killData(addr string) {
	s.t.Helper()
	for _, srv := range s.data {
		if srv.addr() == addr {
			if err := srv.stop(syscall.SIGKILL); err != nil {
				s.t.Fatalf("redistest: kill %s: %v", addr, err)
			}
			return
		}
	}
	s.t.Fatalf("redistest: the Sentinels name %s as the primary, which is none of this topology's nodes", addr)
}

// startSentinels starts three Sentinels watching the primary on port.
// Each is told the others' ids and ports in its file, so they need not
// wait for each other's hello messages (every 2 s) before they can agree.
func startSentinels(t testing.TB, root string, primaryPort int) []*server {
	t.Helper()
	var err error
	for range 5 { // another process may take a port picked here first
		var sns []*server
		if sns, err = trySentinels(root, primaryPort); err == nil {
			for _, sn := range sns {
				t.Cleanup(sn.kill)
			}
			return sns
		}
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	skipIfModeMissing(t, "Sentinel", err)
	t.Fatalf("redistest: %v", err)
	return nil
}

func trySentinels(root string, primaryPort int) ([]*server, error) {
	type node struct {
		port int
		id   string
	}
	nodes := make([]node, 3)
	for i := range nodes {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		nodes[i] = node{port: port, id: randomID()}
	}
	var started []*server
	for i, n := range nodes {
		dir := filepath.Join(root, strconv.Itoa(n.port))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		name := SentinelMasterName
		lines := []string{
			fmt.Sprintf("sentinel myid %s", n.id),
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 2", name, primaryPort),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", name, sentinelDownAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s %d", name, sentinelFailoverTimeout.Milliseconds()),
			fmt.Sprintf("sentinel parallel-syncs %s 2", name),
			"sentinel announce-ip 127.0.0.1",
		}
		for j, o := range nodes {
			if j != i {
				lines = append(lines, fmt.Sprintf("sentinel known-sentinel %s 127.0.0.1 %d %s", name, o.port, o.id))
			}
		}
		conf := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			return nil, err
		}
		srv := &server{dir: dir, port: n.port, cfg: config{sentinel: true, conf: conf}}
		if err := srv.start(); err != nil {
			for _, s := range started {
				s.kill()
			}
			return nil, err
		}
		started = append(started, srv)
	}
	return started, nil
}

// sentinelReady reports whether the Sentinel at addr sees the primary up
// with two replicas in sync and two other Sentinels, and can reach the
// quorum and the majority a failover needs.
func sentinelReady(ctx context.Context, addr string) (bool, string) {
	c := redis.NewSentinelClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	defer c.Close()
	m, err := c.Master(ctx, SentinelMasterName).Result()
	if err != nil {
		return false, err.Error()
	}
	if m["flags"] != "master" || m["num-slaves"] != "2" || m["num-other-sentinels"] != "2" {
		return false, fmt.Sprintf("flags %s, %s replicas, %s other Sentinels", m["flags"], m["num-slaves"], m["num-other-sentinels"])
	}
	replicas, err := c.Replicas(ctx, SentinelMasterName).Result()
	if err != nil {
		return false, err.Error()
	}
	for _, r := range replicas {
		if r["flags"] != "slave" || r["master-link-status"] != "ok" {
			return false, fmt.Sprintf("replica %s:%s flags %s link %s", r["ip"], r["port"], r["flags"], r["master-link-status"])
		}
	}
	if err := c.CkQuorum(ctx, SentinelMasterName).Err(); err != nil {
		return false, err.Error()
	}
	return true, "ready"
}

// Cluster is a Redis Cluster of three masters (no replicas) sharing the
// 16384 slots. Its Instance's client is a go-redis cluster client; URL is
// the first node's.
type Cluster struct {
	*Instance
	nodes []*server
}

// NewCluster starts the three masters for t, gives each a third of the
// slots, introduces them and waits until every node reports
// cluster_state:ok. It skips t when redis-server cannot run in cluster
// mode (or is older than Redis 7, which has cluster-port: the bus port is
// otherwise the data port + 10000, which may not be free).
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	requireServer(t)
	root := t.TempDir()
	c := &Cluster{}
	buses := make([]int, 3)
	for i, bus := range buses {
		var err error
		if bus, err = freePort(); err != nil {
			t.Fatalf("redistest: %v", err)
		}
		buses[i] = bus
		// Each node in its own directory: its nodes.conf is its own.
		c.nodes = append(c.nodes, startIn(t, "cluster mode", filepath.Join(root, "node"+strconv.Itoa(i)), config{
			args: []string{"--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus), "--cluster-announce-ip", "127.0.0.1"},
		}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), topologyTimeout)
	defer cancel()
	const slots = 16384
	clients := make([]*redis.Client, len(c.nodes))
	for i, n := range c.nodes {
		clients[i] = redis.NewClient(&redis.Options{Addr: n.addr()})
		defer clients[i].Close()
		lo, hi := i*slots/len(c.nodes), (i+1)*slots/len(c.nodes)-1
		if err := clients[i].ClusterAddSlotsRange(ctx, lo, hi).Err(); err != nil {
			t.Fatalf("redistest: CLUSTER ADDSLOTS %d-%d on %s: %v", lo, hi, n.addr(), err)
		}
		if i > 0 {
			// With its bus port: it is not the data port + 10000.
			if err := clients[0].Do(ctx, "CLUSTER", "MEET", "127.0.0.1", n.port, buses[i]).Err(); err != nil {
				t.Fatalf("redistest: CLUSTER MEET %s: %v", n.addr(), err)
			}
		}
	}
	waitUntil(t, ctx, "the cluster to be ok on every node", func() (bool, string) {
		var report []string
		ok := true
		for i, cl := range clients {
			info, err := cl.ClusterInfo(ctx).Result()
			good := err == nil && strings.Contains(info, "cluster_state:ok") &&
				strings.Contains(info, "cluster_known_nodes:3") && strings.Contains(info, "cluster_slots_ok:16384")
			ok = ok && good
			report = append(report, fmt.Sprintf("%s: %v %s", c.nodes[i].addr(), err, strings.Join(strings.Fields(info), " ")))
		}
		return ok, strings.Join(report, "\n")
	})
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs(), DialTimeout: time.Second})
	t.Cleanup(func() { _ = cc.Close() })
	c.Instance = &Instance{t: t, url: c.nodes[0].url(), addr: c.nodes[0].addr(), prefix: newPrefix(), client: cc}
	return c
}

// Addrs returns the nodes' host:port addresses (redis.cluster.addrs).
func (c *Cluster) Addrs() []string {
	addrs := make([]string, len(c.nodes))
	for i, n := range c.nodes {
		addrs[i] = n.addr()
	}
	return addrs
}

// KeysPerNode counts, on each node, the keys under this Instance's
// prefix: a test shows with it that its data is spread over the cluster.
func (c *Cluster) KeysPerNode(ctx context.Context) (map[string]int, error) {
	counts := map[string]int{}
	for _, n := range c.nodes {
		nc := redis.NewClient(&redis.Options{Addr: n.addr()})
		keys, err := nc.Keys(ctx, c.prefix+":*").Result()
		_ = nc.Close()
		if err != nil {
			return nil, fmt.Errorf("keys of %s: %w", n.addr(), err)
		}
		counts[n.addr()] = len(keys)
	}
	return counts, nil
}

// startIn starts a private redis-server with its data in dir, killed by
// t.Cleanup; it skips t when the server refuses an argument of a mode
// it was built without.
func startIn(t testing.TB, mode, dir string, cfg config) *server {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("redistest: %v", err)
	}
	srv, err := startFree(dir, cfg)
	if err != nil {
		skipIfModeMissing(t, mode, err)
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(srv.kill)
	return srv
}

// skipIfModeMissing skips t when err is redis-server refusing its
// configuration: a build or version without the mode the test needs.
func skipIfModeMissing(t testing.TB, mode string, err error) {
	t.Helper()
	msg := err.Error()
	for _, refusal := range []string{"Bad directive", "wrong number of arguments", "not supported", "unknown option"} {
		if strings.Contains(msg, refusal) {
			version, _ := exec.Command("redis-server", "--version").Output()
			t.Skipf("redistest: the installed redis-server (%s) cannot run %s: %v", bytes.TrimSpace(version), mode, err)
		}
	}
}

// waitUntil polls cond every 20 ms until it holds, failing t with cond's
// last report when ctx ends.
func waitUntil(t testing.TB, ctx context.Context, what string, cond func() (bool, string)) {
	t.Helper()
	for {
		ok, report := cond()
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("redistest: gave up waiting for %s: %s", what, report)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// running reports whether the process has been started and not stopped.
func (s *server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return false
	}
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

func (s *server) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// randomID returns a Sentinel run id: 40 hex digits.
func randomID() string {
	var b [20]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

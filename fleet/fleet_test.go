// Package fleet_test runs a fleet of real processes against one fake eBay
// and one real Redis: eight replicas (the program in internal/replica), each
// an ebayauth.Manager sharing its token through redisstore, driving
// requests across real token rotations. It checks the promise of fleet
// mode: one mint per rotation for the whole fleet, no failed request, and
// the same after Redis dies and comes back.
//
// The token lifetime is cut to a few seconds, so these tests take real
// time: about 9 s for the plain run and 11 s for the Redis outage.
package fleet_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/internal/syncbuf"

	"go.uber.org/goleak"

	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/internal/redistest"
)

const (
	replicas = 8
	// The fake eBay grants tokens of lifetime; replicas refresh them
	// refreshBefore their expiry, so a rotation comes every
	// lifetime-refreshBefore. A replica's refresh point is jittered up to
	// a tenth of refreshBefore (jitter) earlier.
	lifetime      = 6 * time.Second
	refreshBefore = lifetime / 2
	rotation      = lifetime - refreshBefore
	jitter        = refreshBefore / 10
	// margin is the least time a test keeps between a rotation and an
	// action of its own (stop, kill, restart), so that noise on a busy
	// machine cannot move a rotation across it.
	margin = time.Second
)

var bin struct {
	dir  string // made by TestMain
	once sync.Once
	path string
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ebayauth-fleet-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// replicaBinary builds internal/replica, once per test binary, without
// the race detector: the replicas are the system under test's users, and
// eight race-instrumented processes would crowd a small machine.
func replicaBinary(t *testing.T) string {
	t.Helper()
	bin.once.Do(func() {
		goTool, err := exec.LookPath("go") // go test puts GOROOT/bin first on PATH
		if err != nil {
			bin.err = fmt.Errorf("no go command to build the replica: %w", err)
			return
		}
		exe := "replica"
		if runtime.GOOS == "windows" {
			exe += ".exe"
		}
		bin.path = filepath.Join(bin.dir, exe)
		start := time.Now()
		out, err := exec.Command(goTool, "build", "-o", bin.path, "./internal/replica").CombinedOutput()
		if err != nil {
			bin.err = fmt.Errorf("go build ./internal/replica: %v\n%s", err, out)
		}
		t.Logf("built the replica in %v", time.Since(start).Round(time.Millisecond))
	})
	if bin.err != nil {
		t.Fatal(bin.err)
	}
	return bin.path
}

// Report is the replica's report (internal/replica's Report).
type Report struct {
	Name             string   `json:"name"`
	Requests         int64    `json:"requests"`
	Failures         int64    `json:"failures"`
	FailureSamples   []string `json:"failure_samples"`
	Mints            int64    `json:"mints"`
	StoreHits        int64    `json:"store_hits"`
	StoreErrors      int64    `json:"store_errors"`
	RefreshFailures  int64    `json:"refresh_failures"`
	Retries401       int64    `json:"retries_401"`
	StoreUnavailable int64    `json:"store_unavailable"`
	StoreRecovered   int64    `json:"store_recovered"`
	MaxLatencyMillis int64    `json:"max_latency_ms"`
	TrafficMillis    int64    `json:"traffic_ms"`
	StoppedByMax     bool     `json:"stopped_by_max"`
}

// fleet is one fake eBay, one Redis and the replicas that use them.
type fleet struct {
	t     *testing.T
	ebay  *ebaytest.Server
	redis *redistest.Server
	reps  []*replica
	mints *mintLog
	goAt  time.Time // when the replicas were told to go
}

// newFleet starts the fake eBay, whose tokens live lifetime, and the mint
// log; redis is the server the replicas will share.
func newFleet(t *testing.T, redis *redistest.Server) *fleet {
	t.Helper()
	srv := ebaytest.NewServer()
	t.Cleanup(srv.Close)
	srv.SetTokenLifetime(lifetime)
	f := &fleet{t: t, ebay: srv, redis: redis, mints: startMintLog(t, srv)}
	t.Cleanup(func() {
		if t.Failed() {
			f.dumpLogs()
		}
	})
	return f
}

// start starts n replicas sharing the fleet's Redis under a fresh prefix
// and waits until each is ready. The replicas open the store with the URL
// "redis://ADDR/0" followed by query (e.g. "?max_retries=-1").
func (f *fleet) start(n int, query string) {
	f.t.Helper()
	path := replicaBinary(f.t)
	prefix := f.redis.Prefix(f.t)
	for i := range n {
		name := fmt.Sprintf("r%d", i)
		f.reps = append(f.reps, startReplica(f.t, path,
			"-name", name,
			"-ebay", f.ebay.URL,
			"-redis", "redis://"+f.redis.Addr+"/0"+query,
			"-prefix", prefix,
			"-refresh-before", refreshBefore.String(),
			"-lock-lease", "2s",
			"-every", "20ms",
			"-workers", "2",
			"-max", "90s"))
	}
	deadline := time.After(30 * time.Second)
	for _, r := range f.reps {
		select {
		case line, ok := <-r.lines:
			if !ok || line != "ready" {
				f.t.Fatalf("replica %s: want ready, got %q (open %v)", r.name, line, ok)
			}
		case <-deadline:
			f.t.Fatalf("replica %s not ready after 30 s", r.name)
		}
	}
}

// goAll lets every replica start its traffic.
func (f *fleet) goAll() {
	f.t.Helper()
	f.goAt = time.Now()
	for _, r := range f.reps {
		if _, err := io.WriteString(r.stdin, "go\n"); err != nil {
			f.t.Fatalf("replica %s: %v", r.name, err)
		}
	}
}

// stopAll closes every replica's stdin and collects the reports.
func (f *fleet) stopAll() []Report {
	f.t.Helper()
	for _, r := range f.reps {
		r.stdin.Close()
	}
	deadline := time.After(30 * time.Second)
	reports := make([]Report, len(f.reps))
	for i, r := range f.reps {
		select {
		case line, ok := <-r.lines:
			js, isReport := strings.CutPrefix(line, "report ")
			if !ok || !isReport {
				f.t.Fatalf("replica %s: want a report, got %q (open %v)", r.name, line, ok)
			}
			if err := json.Unmarshal([]byte(js), &reports[i]); err != nil {
				f.t.Fatalf("replica %s: report %q: %v", r.name, line, err)
			}
		case <-deadline:
			f.t.Fatalf("replica %s: no report 30 s after stdin closed", r.name)
		}
		select {
		case <-r.exited:
			if r.waitErr != nil {
				f.t.Errorf("replica %s: %v", r.name, r.waitErr)
			}
		case <-deadline:
			f.t.Fatalf("replica %s has not exited 30 s after stdin closed", r.name)
		}
	}
	return reports
}

func (f *fleet) dumpLogs() {
	for _, r := range f.reps {
		log := r.stderr.String()
		if len(log) > 8000 {
			log = "…" + log[len(log)-8000:]
		}
		f.t.Logf("stderr of replica %s:\n%s", r.name, log)
	}
}

// since formats t relative to goAll.
func (f *fleet) since(t time.Time) string {
	return fmt.Sprintf("%+.2fs", t.Sub(f.goAt).Seconds())
}

// timeline formats the mint times relative to goAll.
func (f *fleet) timeline() string {
	var b strings.Builder
	for i, t := range f.mints.times() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(f.since(t))
	}
	return b.String()
}

// waitMints waits until the fake has minted n tokens or d has passed and
// returns when the nth was seen.
func (f *fleet) waitMints(n int, d time.Duration) time.Time {
	f.t.Helper()
	t, ok := f.mints.wait(n, time.Now().Add(d))
	if !ok {
		f.t.Fatalf("waited %v for mint %d; mints so far at %s", d, n, f.timeline())
	}
	return t
}

// replica is one running replica process.
type replica struct {
	name    string
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	lines   chan string // stdout lines other than events; closed at EOF
	stderr  *syncbuf.Buffer
	exited  chan struct{}
	waitErr error // once exited is closed

	mu     sync.Mutex
	events map[string][]time.Time // event lines by kind: when the replica wrote them
}

// evRefreshed is the kind of event (ebayauth.EventRefreshed) a replica
// writes after a mint, once it has saved the token or failed to.
const evRefreshed = "refreshed"

// event records a line "event KIND UNIXNANO".
func (r *replica) event(line string) error {
	var (
		kind string
		ns   int64
	)
	if _, err := fmt.Sscanf(line, "event %s %d", &kind, &ns); err != nil {
		return fmt.Errorf("replica %s: bad event line %q: %v", r.name, line, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events[kind] = append(r.events[kind], time.Unix(0, ns))
	return nil
}

// eventTimes returns when the replica wrote the events of kind.
func (r *replica) eventTimes(kind string) []time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events[kind])
}

func startReplica(t *testing.T, path string, args ...string) *replica {
	t.Helper()
	r := &replica{
		name:   args[1],
		cmd:    exec.Command(path, args...),
		lines:  make(chan string, 4),
		stderr: new(syncbuf.Buffer),
		exited: make(chan struct{}),
		events: make(map[string][]time.Time),
	}
	r.cmd.Stderr = r.stderr
	var err error
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if !strings.HasPrefix(line, "event ") {
				r.lines <- line
			} else if err := r.event(line); err != nil {
				r.lines <- err.Error() // fails whoever waits for a line
			}
		}
		close(r.lines)
		r.waitErr = r.cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-r.exited:
			return
		default:
		}
		_ = r.cmd.Process.Kill()
		for range r.lines { // let the reader reach EOF and Wait
		}
		<-r.exited
	})
	return r
}

// mintLog records when the fake eBay minted each application token, by
// polling it every pollEvery.
type mintLog struct {
	srv  *ebaytest.Server
	mu   sync.Mutex
	at   []time.Time // at[i]: when mint i+1 was seen
	stop chan struct{}
	done chan struct{}
}

const pollEvery = 20 * time.Millisecond

func startMintLog(t *testing.T, srv *ebaytest.Server) *mintLog {
	l := &mintLog{srv: srv, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		tick := time.NewTicker(pollEvery)
		defer tick.Stop()
		for {
			l.poll()
			select {
			case <-l.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() {
		close(l.stop)
		<-l.done
	})
	return l
}

func (l *mintLog) poll() {
	n := l.srv.Mints(ebaytest.GrantClientCredentials)
	now := time.Now()
	l.mu.Lock()
	for len(l.at) < n {
		l.at = append(l.at, now)
	}
	l.mu.Unlock()
}

func (l *mintLog) times() []time.Time {
	l.poll()
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.at)
}

// count returns the number of mints so far.
func (l *mintLog) count() int { return len(l.times()) }

// between counts the mints seen in [from, to).
func (l *mintLog) between(from, to time.Time) int {
	n := 0
	for _, t := range l.times() {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// wait waits until n mints have been seen, or until deadline.
func (l *mintLog) wait(n int, deadline time.Time) (time.Time, bool) {
	for {
		if at := l.times(); len(at) >= n {
			return at[n-1], true
		}
		if time.Now().After(deadline) {
			return time.Time{}, false
		}
		time.Sleep(pollEvery / 2)
	}
}

func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// tokens returns the distinct tokens the fake saw on API requests, in order
// of first use, with the number of requests that carried each.
func tokens(srv *ebaytest.Server) (order []string, uses map[string]int) {
	uses = make(map[string]int)
	for _, h := range srv.AuthHeaders() {
		if uses[h] == 0 {
			order = append(order, h)
		}
		uses[h]++
	}
	return order, uses
}

// checkReports checks what every replica must report whatever happened to
// Redis: no failed request, a fair number of requests, no 401, and one
// token per token lifetime: each replica got each of the fleet's tokens
// once, minting it or taking it from the store (tokensEach).
func checkReports(t *testing.T, srv *ebaytest.Server, reports []Report, tokensEach int64) (mints, hits int64) {
	t.Helper()
	var requests int64
	for _, r := range reports {
		t.Logf("%s: %d requests, %d failed, %d mints, %d store hits, %d store errors, %d refresh failures, "+
			"store unavailable/recovered %d/%d, slowest request %d ms, traffic %d ms",
			r.Name, r.Requests, r.Failures, r.Mints, r.StoreHits, r.StoreErrors, r.RefreshFailures,
			r.StoreUnavailable, r.StoreRecovered, r.MaxLatencyMillis, r.TrafficMillis)
		if r.Failures != 0 {
			t.Errorf("%s: %d of %d requests failed, e.g. %q", r.Name, r.Failures, r.Requests, r.FailureSamples)
		}
		if r.StoppedByMax {
			t.Errorf("%s stopped by its -max safeguard, not by the test", r.Name)
		}
		// 2 workers at one request per 20 ms: 100 a second, if they do
		// not block. Ask for a third of that.
		if want := r.TrafficMillis / 30; r.Requests < want {
			t.Errorf("%s made %d requests in %d ms; want at least %d", r.Name, r.Requests, r.TrafficMillis, want)
		}
		if r.Retries401 != 0 {
			t.Errorf("%s retried %d requests after a 401: it used a token the fake no longer accepted", r.Name, r.Retries401)
		}
		if r.RefreshFailures != 0 {
			t.Errorf("%s: %d refreshes failed", r.Name, r.RefreshFailures)
		}
		if got := r.Mints + r.StoreHits; got != tokensEach {
			t.Errorf("%s got %d tokens (%d minted, %d from the store); want %d, one per lifetime",
				r.Name, got, r.Mints, r.StoreHits, tokensEach)
		}
		requests += r.Requests
		mints += r.Mints
		hits += r.StoreHits
	}
	if got := int64(srv.APIRequests()); got != requests {
		t.Errorf("the fake saw %d API requests; the replicas made %d", got, requests)
	}
	return mints, hits
}

// TestFleetOneMintPerRotation runs 8 replicas sharing one Redis across 3
// tokens' lives (the first mint and two rotations): the fake eBay mints
// exactly 3 tokens, not 24, and no request fails.
func TestFleetOneMintPerRotation(t *testing.T) {
	f := newFleet(t, redistest.New(t))
	f.start(replicas, "")
	f.goAll()

	t1 := f.waitMints(1, 10*time.Second)
	t2 := f.waitMints(2, time.Until(t1)+rotation+3*time.Second)
	t3 := f.waitMints(3, time.Until(t2)+rotation+3*time.Second)
	// Stop halfway to the rotation that would mint a fourth token.
	stopAt := t3.Add(rotation / 2)
	sleepUntil(stopAt)
	if n := f.mints.count(); n != 3 {
		t.Errorf("before the stop the fake had minted %d tokens; want 3", n)
	}
	reports := f.stopAll()
	t.Logf("mints at %s; stopped at %s", f.timeline(), f.since(stopAt))

	for _, gap := range []time.Duration{t2.Sub(t1), t3.Sub(t2)} {
		if gap < rotation-jitter-pollEvery || gap > rotation+margin {
			t.Errorf("mints %v apart; want a rotation every %v", gap.Round(time.Millisecond), rotation)
		}
	}
	if n := f.ebay.Mints(ebaytest.GrantClientCredentials); n != 3 {
		t.Errorf("the fake minted %d tokens for %d replicas over 3 token lifetimes; want 3 (one per rotation), at %s",
			n, replicas, f.timeline())
	}
	if n := f.ebay.TokenRequests(ebaytest.GrantClientCredentials); n != 3 {
		t.Errorf("the fake saw %d token requests; want 3", n)
	}
	mints, hits := checkReports(t, f.ebay, reports, 3)
	if mints != 3 {
		t.Errorf("the replicas report %d mints between them; want 3", mints)
	}
	if hits != 3*(replicas-1) {
		t.Errorf("the replicas report %d tokens taken from the store; want %d", hits, 3*(replicas-1))
	}
	for _, r := range reports {
		if r.StoreErrors != 0 || r.StoreUnavailable != 0 {
			t.Errorf("%s: %d store errors, %d store-unavailable events with Redis up", r.Name, r.StoreErrors, r.StoreUnavailable)
		}
	}
	if f.redis.Private() {
		// What the fleet asked of Redis, for the log: loads (GET), saves
		// and unlocks (EVALSHA), lock attempts (SET NX).
		info, err := f.redis.Client(t).Info(t.Context(), "commandstats").Result()
		if err != nil {
			t.Errorf("redis INFO: %v", err)
		}
		var stats []string
		for line := range strings.Lines(info) {
			for _, cmd := range []string{"get", "set", "evalsha", "eval"} {
				if strings.HasPrefix(line, "cmdstat_"+cmd+":") {
					stats = append(stats, strings.TrimSpace(line))
				}
			}
		}
		t.Logf("redis commands: %s", strings.Join(stats, "; "))
	}
	order, uses := tokens(f.ebay)
	counts := make([]int, len(order))
	for i, tok := range order {
		counts[i] = uses[tok]
	}
	t.Logf("distinct tokens on API requests: %d, used by %v requests", len(order), counts)
	if len(order) != 3 {
		t.Errorf("API requests carried %d distinct tokens; want 3", len(order))
	}
}

// TestFleetSurvivesRedisRestart runs the fleet as above, kills Redis after
// the first rotation and restarts it (empty) before the third: no request
// fails; while Redis is down each replica mints for itself (8 mints for
// the rotation during the outage); the first rotation after Redis is back
// costs exactly one mint again.
//
// The replicas' Redis client makes one attempt per command
// (max_retries=-1): with go-redis's defaults (3 retries, each dialling 5
// times 100 ms apart) every command against a dead Redis takes about 1.7 s
// to fail, so a refresh during the outage takes 3.4 s (load, then save),
// too long for the compressed time of this test to restart Redis between
// the outage rotation and the next with margin to spare.
func TestFleetSurvivesRedisRestart(t *testing.T) {
	rs := redistest.NewPrivate(t)
	f := newFleet(t, rs)
	f.start(replicas, "?max_retries=-1")
	f.goAll()

	t1 := f.waitMints(1, 10*time.Second)
	t2 := f.waitMints(2, time.Until(t1)+rotation+3*time.Second)

	// Kill Redis halfway to the next rotation.
	killAt := t2.Add(rotation / 2)
	sleepUntil(killAt)
	rs.Kill()
	if n := f.mints.count(); n != 2 {
		t.Fatalf("%d mints before Redis was killed; want 2, at %s", n, f.timeline())
	}
	refreshedBefore := make([]int, len(f.reps))
	for i, r := range f.reps {
		refreshedBefore[i] = len(r.eventTimes(evRefreshed))
	}

	// Each replica finds Redis gone at its refresh and mints for itself:
	// 8 mints, spread over the refresh jitter and the time the Redis client
	// takes to fail.
	outFirst := f.waitMints(3, time.Until(t2)+rotation+5*time.Second)
	f.waitMints(2+replicas, time.Until(outFirst)+5*time.Second)
	// Wait until each has also failed to save its token, so that Redis
	// comes back empty: a save still retrying when Redis returns would
	// land there.
	var saved time.Time
	deadline := time.Now().Add(5 * time.Second)
	for i, r := range f.reps {
		for {
			if ts := r.eventTimes(evRefreshed); len(ts) > refreshedBefore[i] {
				if last := ts[len(ts)-1]; last.After(saved) {
					saved = last
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %s has not finished its refresh during the outage; mints at %s", r.name, f.timeline())
			}
			time.Sleep(pollEvery / 2)
		}
	}

	// Restart Redis at once, and at least margin before the next
	// rotation, which comes rotation-jitter after the earliest outage mint
	// at the earliest.
	restartAt := saved.Add(100 * time.Millisecond)
	if latest := outFirst.Add(rotation - jitter - margin); restartAt.After(latest) {
		t.Fatalf("the outage mints and saves took from %s to %s: no room to restart Redis %v before the next rotation (mints at %s)",
			f.since(outFirst), f.since(saved), margin, f.timeline())
	}
	sleepUntil(restartAt)
	rs.Restart()
	restarted := time.Now()
	if n := f.mints.count(); n != 2+replicas {
		t.Fatalf("%d mints by the time Redis was back; want %d, at %s", n, 2+replicas, f.timeline())
	}

	// The first rotation with Redis back: one mint for the fleet.
	t4 := f.waitMints(3+replicas, time.Until(outFirst)+rotation+3*time.Second)
	stopAt := t4.Add(rotation / 2)
	sleepUntil(stopAt)
	reports := f.stopAll()
	t.Logf("mints at %s; Redis killed at %s, saves failed by %s, Redis back at %s; stopped at %s",
		f.timeline(), f.since(killAt), f.since(saved), f.since(restarted), f.since(stopAt))

	if n := f.mints.between(killAt, restarted); n != replicas {
		t.Errorf("%d mints while Redis was down; want %d, one per replica", n, replicas)
	}
	if n := f.mints.between(restarted, time.Now()); n != 1 {
		t.Errorf("the rotation after Redis came back cost %d mints; want 1, at %s", n, f.timeline())
	}
	if n := f.ebay.Mints(ebaytest.GrantClientCredentials); n != 3+replicas {
		t.Errorf("the fake minted %d tokens; want %d: 1, 1, %d during the outage, 1", n, 3+replicas, replicas)
	}
	mints, hits := checkReports(t, f.ebay, reports, 4)
	if mints != 3+replicas {
		t.Errorf("the replicas report %d mints between them; want %d", mints, 3+replicas)
	}
	if hits != 3*(replicas-1) {
		t.Errorf("the replicas report %d tokens taken from the store; want %d", hits, 3*(replicas-1))
	}
	for i, r := range reports {
		// One warning per outage, not one per request, and a recovery.
		if r.StoreUnavailable != 1 || r.StoreRecovered != 1 {
			t.Errorf("%s: %d store-unavailable and %d store-recovered events; want 1 and 1",
				r.Name, r.StoreUnavailable, r.StoreRecovered)
		}
		if n := strings.Count(f.reps[i].stderr.String(), `"msg":"ebayauth: token store unavailable`); n != 1 {
			t.Errorf("%s logged %d store-unavailable warnings; want 1", r.Name, n)
		}
	}
	order, _ := tokens(f.ebay)
	t.Logf("distinct tokens on API requests: %d", len(order))
	if len(order) != 3+replicas {
		t.Errorf("API requests carried %d distinct tokens; want %d", len(order), 3+replicas)
	}
}

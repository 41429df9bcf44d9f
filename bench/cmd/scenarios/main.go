// Command scenarios runs ebayauth and golang.org/x/oauth2 side by side
// through the scenarios of BENCHMARKS.md against the fake eBay of package
// ebaytest, and prints one Markdown table.
//
// Usage:
//
//	go run ./cmd/scenarios [-quick] [-only rotation,storm,...] [-v] [-cpuprofile f] [-mutexprofile f]
//
// -quick shrinks every scenario so the whole run finishes in seconds, for
// CI; its numbers mean nothing. Without it the run takes about three
// minutes. -v reports progress on stderr.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"time"
)

func main() {
	if os.Getenv(fakeEnv) != "" {
		os.Exit(serveFake(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// scenario is one section of the table.
type scenario struct {
	name string
	run  func(ctx context.Context, p params) ([]row, error)
}

var scenarios = []scenario{
	{"rotation", rotation},
	{"revocation", revocation},
	{"outage", outage},
	{"storm", storm},
	{"fleet", fleet},
	{"memory", memory},
}

// params sizes the scenarios; full and quick are the two sets.
type params struct {
	quick bool
	logf  func(format string, args ...any)

	tokenLatency  time.Duration // token endpoint answer delay
	lifetime      time.Duration // access token lifetime
	refreshBefore time.Duration // ebayauth Config.RefreshBefore
	earlyExpiry   time.Duration // x/oauth2 ReuseTokenSourceWithExpiry
	workers       int           // request loops
	pace          time.Duration // each worker sends at most one request per pace

	rotationFor         time.Duration
	revocationFor       time.Duration
	revokeAt            time.Duration
	outageShare         float64 // of a lifetime
	outageTail          time.Duration
	stormGoroutines     int
	stormRounds         int
	fleetManagers       int
	fleetRotations      int
	fleetReplicas       int // extrapolated
	memoryManagers      int
	realLifetime        time.Duration // eBay's, for the extrapolation
	realRefreshBefore   time.Duration // ebayauth's default
	realDailyMintsLimit int
}

func fullParams() params {
	return params{
		tokenLatency:  300 * time.Millisecond,
		lifetime:      3 * time.Second,
		refreshBefore: time.Second,
		earlyExpiry:   100 * time.Millisecond,
		workers:       64,
		pace:          40 * time.Millisecond,

		rotationFor:         15 * time.Second,
		revocationFor:       6 * time.Second,
		revokeAt:            2 * time.Second,
		outageShare:         0.8,
		outageTail:          6 * time.Second,
		stormGoroutines:     10_000,
		stormRounds:         5,
		fleetManagers:       8,
		fleetRotations:      3,
		fleetReplicas:       50,
		memoryManagers:      10_000,
		realLifetime:        7200 * time.Second,
		realRefreshBefore:   time.Hour,
		realDailyMintsLimit: 1000,
	}
}

func quickParams() params {
	p := fullParams()
	p.quick = true
	p.tokenLatency = 50 * time.Millisecond
	p.lifetime = time.Second
	p.refreshBefore = 400 * time.Millisecond
	p.earlyExpiry = 50 * time.Millisecond
	p.workers = 8
	p.rotationFor = 1500 * time.Millisecond
	p.revocationFor = 1200 * time.Millisecond
	p.revokeAt = 400 * time.Millisecond
	p.outageTail = 700 * time.Millisecond
	p.stormGoroutines = 1000
	p.stormRounds = 1
	p.fleetManagers = 3
	p.fleetRotations = 1
	p.memoryManagers = 200
	return p
}

// run is main without os.Exit: it parses args, runs the scenarios and
// prints the table on stdout. It returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("scenarios", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "shrink every scenario to finish in seconds (for CI; the numbers mean nothing)")
	only := fs.String("only", "", "comma-separated scenarios to run (default all): "+names())
	verbose := fs.Bool("v", false, "report progress on stderr")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the run to `file`")
	mutexProfile := fs.String("mutexprofile", "", "write a mutex contention profile of the run to `file`")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "scenarios: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	p := fullParams()
	if *quick {
		p = quickParams()
	}
	p.logf = func(string, ...any) {}
	if *verbose {
		start := time.Now()
		p.logf = func(format string, args ...any) {
			fmt.Fprintf(stderr, "%6.1fs "+format+"\n", append([]any{time.Since(start).Seconds()}, args...)...)
		}
	}
	var want []string
	if *only != "" {
		want = strings.Split(*only, ",")
		for _, w := range want {
			if !slices.ContainsFunc(scenarios, func(s scenario) bool { return s.name == w }) {
				fmt.Fprintf(stderr, "scenarios: unknown scenario %q (have %s)\n", w, names())
				return 2
			}
		}
	}

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "scenarios: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "scenarios: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *mutexProfile != "" {
		runtime.SetMutexProfileFraction(1)
		defer func() {
			runtime.SetMutexProfileFraction(0)
			if err := writeProfile("mutex", *mutexProfile); err != nil {
				fmt.Fprintf(stderr, "scenarios: %v\n", err)
			}
		}()
	}

	var rows []row
	for _, s := range scenarios {
		if want != nil && !slices.Contains(want, s.name) {
			continue
		}
		p.logf("%s: start", s.name)
		r, err := s.run(ctx, p)
		if err != nil {
			fmt.Fprintf(stderr, "scenarios: %s: %v\n", s.name, err)
			return 1
		}
		rows = append(rows, r...)
	}
	printTable(stdout, p, rows)
	return 0
}

func writeProfile(name, path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func names() string {
	var n []string
	for _, s := range scenarios {
		n = append(n, s.name)
	}
	return strings.Join(n, ",")
}

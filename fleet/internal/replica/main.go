// Command replica is one process of the fleet that the tests of package
// fleet start eight of: an ebayauth.Manager against a fake eBay
// (ebaytest, running in the test process) that shares its token through
// Redis, driving Browse searches at a steady pace.
//
// Protocol, over its standard streams:
//
//  1. It builds its Manager and writes "ready" on stdout.
//  2. It waits for a line "go" on stdin, then sends requests. Meanwhile it
//     writes "event KIND UNIXNANO" on stdout for each Manager event of kind
//     refreshed (a mint, written once the token has been saved or the save
//     has failed), token_from_store, store_unavailable and store_recovered.
//  3. When stdin closes (or -max has passed, a safeguard against a test that
//     died), it stops, waits for the requests in flight, closes the Manager,
//     writes "report " and a Report as JSON on stdout, and exits 0.
//
// It logs JSON to stderr. It exits 2 on a usage or setup error.
//
// Usage:
//
//	replica -ebay http://127.0.0.1:PORT [-redis redis://127.0.0.1:PORT] [flags]
//
// Without -redis each replica keeps its token to itself (the
// independent-cache baseline).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
	"github.com/ebayauth/ebayauth/redisstore"
)

// Report is what a replica writes on stdout when it stops. The tests of
// package fleet decode it with a copy of this type.
type Report struct {
	Name             string   `json:"name"`
	Requests         int64    `json:"requests"`
	Failures         int64    `json:"failures"`
	FailureSamples   []string `json:"failure_samples,omitempty"` // the first few
	Mints            int64    `json:"mints"`
	StoreHits        int64    `json:"store_hits"`
	StoreErrors      int64    `json:"store_errors"`
	RefreshFailures  int64    `json:"refresh_failures"`
	Retries401       int64    `json:"retries_401"`
	StoreUnavailable int64    `json:"store_unavailable"` // EventStoreUnavailable events
	StoreRecovered   int64    `json:"store_recovered"`   // EventStoreRecovered events
	MaxLatencyMillis int64    `json:"max_latency_ms"`    // slowest request
	TrafficMillis    int64    `json:"traffic_ms"`        // from "go" to the stop
	StoppedByMax     bool     `json:"stopped_by_max,omitempty"`
}

const searchPath = "/buy/browse/v1/item_summary/search?q=phone&limit=1"

func main() {
	var (
		name          = flag.String("name", "replica", "name in logs and in the report")
		ebayURL       = flag.String("ebay", "", "base URL of the fake eBay (required)")
		redisURL      = flag.String("redis", "", "redis:// URL of the shared store; empty: no shared store")
		prefix        = flag.String("prefix", redisstore.DefaultPrefix, "Redis key prefix")
		refreshBefore = flag.Duration("refresh-before", 3*time.Second, "Config.RefreshBefore")
		lockLease     = flag.Duration("lock-lease", 2*time.Second, "Config.LockLease")
		retryMax      = flag.Int("retry-max", -1, "Config.RetryMax")
		every         = flag.Duration("every", 20*time.Millisecond, "pause between two requests of a worker")
		workers       = flag.Int("workers", 2, "concurrent request loops")
		maxRun        = flag.Duration("max", 2*time.Minute, "stop after this long even if stdin stays open")
		reqTimeout    = flag.Duration("request-timeout", 10*time.Second, "timeout of one request")
	)
	flag.Parse()
	if *ebayURL == "" || flag.NArg() > 0 || *workers < 1 {
		flag.Usage()
		os.Exit(2)
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})).
		With(slog.String("replica", *name))

	var (
		unavailable, recovered atomic.Int64
		out                    stdout
	)
	cfg := ebayauth.Config{
		ClientID:     ebaytest.ClientID,
		ClientSecret: ebaytest.ClientSecret,
		Endpoint: ebayauth.Endpoint{
			TokenURL: *ebayURL + "/identity/v1/oauth2/token",
			AuthURL:  *ebayURL + "/oauth2/authorize",
			APIURL:   *ebayURL,
		},
		RefreshBefore: *refreshBefore,
		LockLease:     *lockLease,
		RetryMax:      *retryMax,
		ValidateEvery: -1,
		Logger:        log,
		OnEvent: func(e ebayauth.Event) {
			switch e.Kind {
			case ebayauth.EventStoreUnavailable:
				unavailable.Add(1)
			case ebayauth.EventStoreRecovered:
				recovered.Add(1)
			case ebayauth.EventRefreshed, ebayauth.EventTokenFromStore:
			default:
				return
			}
			out.printf("event %s %d\n", e.Kind, time.Now().UnixNano())
		},
	}
	if *redisURL != "" {
		st, err := redisstore.Open(*redisURL, redisstore.WithPrefix(*prefix), redisstore.WithLogger(log))
		if err != nil {
			fmt.Fprintln(os.Stderr, "replica:", err)
			os.Exit(2)
		}
		defer st.Close()
		cfg.Store = st
	}
	m, err := ebayauth.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(2)
	}

	// Wait for "go"; then stdin's end is the signal to stop.
	out.printf("ready\n")
	in := bufio.NewScanner(os.Stdin)
	if !in.Scan() || strings.TrimSpace(in.Text()) != "go" {
		fmt.Fprintln(os.Stderr, "replica: stdin ended or said something other than go")
		os.Exit(2)
	}
	stop := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	maxTimer := time.NewTimer(*maxRun)
	defer maxTimer.Stop()

	var (
		requests, failures, maxLatency atomic.Int64
		mu                             sync.Mutex
		samples                        []string
		done                           = make(chan struct{})
	)
	fail := func(msg string) {
		failures.Add(1)
		mu.Lock()
		if len(samples) < 5 {
			samples = append(samples, time.Now().Format("15:04:05.000")+" "+msg)
		}
		mu.Unlock()
		log.Error("replica: request failed", slog.String("error", msg))
	}
	client := m.Client()
	do := func() {
		ctx, cancel := context.WithTimeout(context.Background(), *reqTimeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, *ebayURL+searchPath, nil)
		if err != nil {
			fail(err.Error())
			return
		}
		start := time.Now()
		resp, err := client.Do(req)
		requests.Add(1)
		if err != nil {
			fail(err.Error())
			return
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		for lat := time.Since(start).Milliseconds(); ; {
			cur := maxLatency.Load()
			if lat <= cur || maxLatency.CompareAndSwap(cur, lat) {
				break
			}
		}
		switch {
		case err != nil:
			fail("reading the body: " + err.Error())
		case resp.StatusCode != http.StatusOK:
			fail(fmt.Sprintf("status %d: %.200s", resp.StatusCode, body))
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	for w := range *workers {
		wg.Go(func() {
			// Spread the workers over the pause so the pace is steady.
			t := time.NewTimer(time.Duration(w) * *every / time.Duration(*workers))
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
				}
				do()
				t.Reset(*every)
			}
		})
	}
	byMax := false
	select {
	case <-stop:
	case <-maxTimer.C:
		byMax = true
	}
	close(done)
	wg.Wait()
	traffic := time.Since(start)
	if err := m.Close(); err != nil && !errors.Is(err, ebayauth.ErrClosed) {
		log.Warn("replica: close", slog.String("error", err.Error()))
	}

	c := m.Status().Counters
	mu.Lock()
	rep := Report{
		Name:             *name,
		Requests:         requests.Load(),
		Failures:         failures.Load(),
		FailureSamples:   samples,
		Mints:            c.Mints,
		StoreHits:        c.StoreHits,
		StoreErrors:      c.StoreErrors,
		RefreshFailures:  c.RefreshFailures,
		Retries401:       c.Retries401,
		StoreUnavailable: unavailable.Load(),
		StoreRecovered:   recovered.Load(),
		MaxLatencyMillis: maxLatency.Load(),
		TrafficMillis:    traffic.Milliseconds(),
		StoppedByMax:     byMax,
	}
	mu.Unlock()
	js, err := json.Marshal(rep)
	if err != nil {
		fmt.Fprintln(os.Stderr, "replica:", err)
		os.Exit(1)
	}
	out.printf("report %s\n", js)
}

// stdout writes whole lines to the standard output from any goroutine.
type stdout struct{ mu sync.Mutex }

func (o *stdout) printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, err := fmt.Printf(format, args...); err != nil {
		fmt.Fprintln(os.Stderr, "replica: stdout:", err)
		os.Exit(1)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/redisstore"
)

// fleet: p.fleetManagers replicas of one service (separate Managers, each
// with its own store client, as separate processes would have) keep the
// application token for p.fleetRotations rotations, first each with its own
// in-memory cache, then sharing one redisstore on a private redis-server;
// x/oauth2, which has no shared cache, for comparison. The start-up mints
// are not counted.
//
// The per-day figure for p.fleetReplicas replicas takes the measured mints
// per cache per rotation (for ebayauth the run holds p.fleetRotations
// rotations; for x/oauth2 as many token lifetimes as fit in the same run)
// to eBay's token lifetime of two hours and each client's default refresh
// point: ebayauth 1 h before expiry plus 5 % mean jitter, so a rotation
// every 57 minutes; x/oauth2 10 s before expiry. With a shared store the
// fleet mints as one cache; without one every replica is a cache.
func fleet(ctx context.Context, p params) ([]row, error) {
	const name = "fleet"
	k := p.fleetManagers
	periodE := p.lifetime - p.refreshBefore*105/100 + p.tokenLatency // ebayauth rotation period
	periodO := p.lifetime - p.earlyExpiry + p.tokenLatency           // x/oauth2
	runFor := periodE*time.Duration(p.fleetRotations) + periodE/3
	realE := p.realLifetime - p.realRefreshBefore*105/100
	realO := p.realLifetime - 10*time.Second
	// perDay extrapolates mints measured over rotations rotation periods of
	// a fleet whose replicas share caches in groups of replicasSharing.
	perDay := func(mints int, replicasSharing int, rotations float64, realPeriod time.Duration) (float64, string) {
		perRotation := float64(mints) / rotations / float64(replicasSharing)
		replicas := float64(p.fleetReplicas)
		if replicasSharing == 1 { // one shared store: the fleet mints as one
			replicas = 1
		}
		day := perRotation * replicas * float64(24*time.Hour) / float64(realPeriod)
		verdict := "under"
		if day > float64(p.realDailyMintsLimit) {
			verdict = "OVER"
		}
		return day, fmt.Sprintf("≈ %s mints/day for %d replicas: %s eBay's %s/day limit",
			num(int(day+0.5)), p.fleetReplicas, verdict, num(p.realDailyMintsLimit))
	}

	// poll calls token on every replica once per p.pace for runFor, as
	// traffic would, and counts the calls and failures.
	poll := func(tokens []func(context.Context) error) (calls, failed int64) {
		var wg sync.WaitGroup
		var c, f atomic.Int64
		end := time.Now().Add(runFor)
		for _, tok := range tokens {
			wg.Go(func() {
				for time.Now().Before(end) && ctx.Err() == nil {
					c.Add(1)
					if tok(ctx) != nil {
						f.Add(1)
					}
					time.Sleep(p.pace)
				}
			})
		}
		wg.Wait()
		return c.Load(), f.Load()
	}

	managers := func(client string, store func() (ebayauth.Store, error), sharing int) func() (row, error) {
		return func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			var tokens []func(context.Context) error
			for range k {
				s, err := store()
				if err != nil {
					return row{}, err
				}
				if c, ok := s.(io.Closer); ok {
					defer c.Close()
				}
				m, err := f.manager(p, func(c *ebayauth.Config) { c.Store = s })
				if err != nil {
					return row{}, err
				}
				defer m.Close()
				tokens = append(tokens, func(ctx context.Context) error { _, err := m.Token(ctx); return err })
			}
			if err := warm(ctx, tokens); err != nil {
				return row{}, err
			}
			startup := f.mints()
			calls, failed := poll(tokens)
			mints := f.mints() - startup
			_, day := perDay(mints, sharing, float64(p.fleetRotations), realE)
			return row{scenario: name, client: client, requests: num(calls), failed: num(failed), mints: num(mints),
				result: fmt.Sprintf("%d replicas, rotations: %d (start-up mints, not counted: %d); %s",
					k, p.fleetRotations, startup, day)}, nil
		}
	}

	rdb, stop, err := startRedis(ctx)
	if err != nil {
		p.logf("fleet: no redis-server: %v", err)
		return []row{{scenario: name, client: "ebayauth, shared redisstore",
			result: "TODO: could not start a private redis-server: " + err.Error()}}, nil
	}
	defer stop()
	prefix := fmt.Sprintf("bench%d:", time.Now().UnixNano()) // a fresh namespace per run
	return runRows(p,
		managers(fmt.Sprintf("ebayauth, %d separate MemoryStores", k),
			func() (ebayauth.Store, error) { return ebayauth.NewMemoryStore(), nil }, k),
		managers("ebayauth, one shared redisstore",
			func() (ebayauth.Store, error) { return redisstore.Open(rdb, redisstore.WithPrefix(prefix)) }, 1),
		func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			var tokens []func(context.Context) error
			for range k {
				src := f.oauth2Transport(p).Source
				tokens = append(tokens, func(context.Context) error { _, err := src.Token(); return err })
			}
			if err := warm(ctx, tokens); err != nil {
				return row{}, err
			}
			startup := f.mints()
			calls, failed := poll(tokens)
			mints := f.mints() - startup
			_, day := perDay(mints, k, float64(runFor)/float64(periodO), realO)
			return row{scenario: name, client: "x/oauth2 (no shared cache)", requests: num(calls), failed: num(failed),
				mints: num(mints), result: fmt.Sprintf("%d replicas over the same %.1f s; %s", k, runFor.Seconds(), day)}, nil
		},
	)
}

// warm gets every replica its first token.
func warm(ctx context.Context, tokens []func(context.Context) error) error {
	errs := make([]error, len(tokens))
	var wg sync.WaitGroup
	for i, tok := range tokens {
		wg.Go(func() { errs[i] = tok(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startRedis starts a private redis-server on a free loopback port, with no
// persistence, and returns its URL and a function that stops it.
func startRedis(ctx context.Context) (url string, stop func(), err error) {
	path, err := exec.LookPath("redis-server")
	if err != nil {
		return "", nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(path, "--port", fmt.Sprint(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	stop = func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	url = fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	s, err := redisstore.Open(url)
	if err != nil {
		stop()
		return "", nil, err
	}
	defer s.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, time.Second)
		_, err := s.Load(c, "ping")
		cancel()
		if err == nil || errors.Is(err, ebayauth.ErrNotFound) {
			return url, stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", nil, fmt.Errorf("redis-server did not answer: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

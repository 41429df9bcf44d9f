package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"

	"golang.org/x/oauth2"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/bench"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// memory: p.memoryManagers token holders, one per seller account (a user
// token each, minted from its own refresh token), built and given their
// first token; the heap they hold is read with runtime.ReadMemStats after
// GC. The fake eBay runs in a child process so its heap does not count.
func memory(ctx context.Context, p params) ([]row, error) {
	const name = "memory"
	n := p.memoryManagers
	fp, err := startFake(ctx, n)
	if err != nil {
		return nil, err
	}
	defer fp.Close()
	e := fp.Endpoint

	sharedClient := ebayauth.NewRetryingClient(-1)
	shared := ebayauth.NewMemoryStore()
	ebayauthRow := func(client string, edit func(*ebayauth.Config)) (row, error) {
		ms := make([]*ebayauth.Manager, n)
		defer func() {
			for _, m := range ms {
				if m != nil {
					m.Close()
				}
			}
		}()
		d, err := measure(n, func(i int) error {
			cfg := ebayauth.Config{
				ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret, Endpoint: e,
				RefreshToken: fp.RefreshTokens[i], Logger: discardLogger, RetryMax: -1,
			}
			if edit != nil {
				edit(&cfg)
			}
			m, err := ebayauth.New(cfg)
			if err != nil {
				return err
			}
			ms[i] = m
			_, err = m.Token(ctx)
			return err
		})
		if err != nil {
			return row{}, err
		}
		runtime.KeepAlive(ms)
		return d.row(name, client, n), nil
	}

	var rows []row
	r, err := ebayauthRow("ebayauth, defaults", nil)
	if err != nil {
		return nil, err
	}
	rows = append(rows, r)
	p.logf("memory: %s", r.result)
	r, err = ebayauthRow("ebayauth, shared Store and HTTPClient", func(c *ebayauth.Config) {
		c.Store, c.HTTPClient = shared, sharedClient
	})
	if err != nil {
		return nil, err
	}
	rows = append(rows, r)
	p.logf("memory: %s", r.result)

	// x/oauth2: Config.TokenSource over one shared http.Client, with the
	// Bearer patch inside a ReuseTokenSource, and a Transport each.
	tokenClient := &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	octx := context.WithValue(ctx, oauth2.HTTPClient, tokenClient)
	conf := &oauth2.Config{ClientID: ebaytest.ClientID, ClientSecret: ebaytest.ClientSecret,
		Endpoint: oauth2.Endpoint{TokenURL: e.TokenURL, AuthURL: e.AuthURL, AuthStyle: oauth2.AuthStyleInHeader}}
	ts := make([]*oauth2.Transport, n)
	d, err := measure(n, func(i int) error {
		src := bench.BearerSource{Src: conf.TokenSource(octx, &oauth2.Token{RefreshToken: fp.RefreshTokens[i]})}
		ts[i] = bench.OAuth2Transport(src, 0, nil)
		_, err := ts[i].Source.Token()
		return err
	})
	if err != nil {
		return nil, err
	}
	runtime.KeepAlive(ts)
	r = d.row(name, "x/oauth2, shared http.Client", n)
	rows = append(rows, r)
	p.logf("memory: %s", r.result)
	return rows, nil
}

// memDelta is what building something added to the process.
type memDelta struct {
	heap, stack float64 // bytes
	goroutines  int
}

func (d memDelta) row(scenario, client string, n int) row {
	d.stack = max(d.stack, 0) // a shrinking stack elsewhere is noise
	return row{scenario: scenario, client: client, result: fmt.Sprintf(
		"%s holders with a token: heap %s (%s each); +%s goroutines, stacks %s",
		num(n), byteSize(d.heap), byteSize(d.heap/float64(n)), num(d.goroutines), byteSize(d.stack))}
}

// measure calls build(i) for i in [0, n), 16 at a time, and reports what
// the results hold on to after GC. build must keep what it builds reachable.
func measure(n int, build func(i int) error) (memDelta, error) {
	var before, after runtime.MemStats
	settle := func(m *runtime.MemStats) int {
		runtime.GC()
		runtime.GC()
		runtime.ReadMemStats(m)
		return runtime.NumGoroutine()
	}
	g0 := settle(&before)
	var (
		wg    sync.WaitGroup
		next  = make(chan int)
		mu    sync.Mutex
		first error
	)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				if err := build(i); err != nil {
					mu.Lock()
					first = cmpErr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if first != nil {
		return memDelta{}, first
	}
	g1 := settle(&after)
	return memDelta{
		heap:       float64(after.HeapAlloc) - float64(before.HeapAlloc),
		stack:      float64(after.StackInuse) - float64(before.StackInuse),
		goroutines: g1 - g0,
	}, nil
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

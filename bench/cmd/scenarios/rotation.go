package main

import (
	"context"
	"fmt"
	"time"

	"github.com/ebayauth/ebayauth/bench"
)

// rotation: tokens live p.lifetime, the token endpoint takes
// p.tokenLatency, and p.workers send requests for p.rotationFor. The floor
// row sends a token that outlives the run, so its latencies are those of the
// fake's REST API under this load: the base the others are read against.
func rotation(ctx context.Context, p params) ([]row, error) {
	const name = "rotation"
	rows, err := runRows(p,
		func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			tok, err := f.longLivedToken(p.lifetime)
			if err != nil {
				return row{}, err
			}
			before := f.mints()
			r := drive(ctx, p, &bench.Floor{Header: "Bearer " + tok, Base: f.base}, f.URL+searchPath, p.rotationFor)
			logFailures(p, "rotation floor", r)
			out := latencyRow(name, "floor (static token)", r, f.mints()-before)
			out.result = "base latency under this load; " + slow(p, r)
			return out, nil
		},
		func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			m, err := f.manager(p, nil)
			if err != nil {
				return row{}, err
			}
			defer m.Close()
			if _, err := m.Token(ctx); err != nil {
				return row{}, err
			}
			before := f.mints()
			r := drive(ctx, p, m.Transport(f.base), f.URL+searchPath, p.rotationFor)
			logFailures(p, "rotation ebayauth", r)
			out := latencyRow(name, "ebayauth", r, f.mints()-before)
			c := m.Status().Counters
			out.result = fmt.Sprintf("refreshed in the background %v before expiry; %s; %d 401s healed, %d refresh failures",
				p.refreshBefore, slow(p, r), c.Retries401, c.RefreshFailures)
			return out, nil
		},
		func() (row, error) {
			f := newFake(p.lifetime, p.tokenLatency)
			defer f.Close()
			tr := f.oauth2Transport(p)
			if _, err := tr.Source.Token(); err != nil {
				return row{}, err
			}
			before := f.mints()
			r := drive(ctx, p, tr, f.URL+searchPath, p.rotationFor)
			logFailures(p, "rotation oauth2", r)
			out := latencyRow(name, "x/oauth2", r, f.mints()-before)
			out.result = "refreshes on the request path, holding its mutex; " + slow(p, r)
			return out, nil
		},
	)
	if err != nil {
		return nil, err
	}
	p.logf("rotation: %d s each row", int(p.rotationFor/time.Second))
	return rows, nil
}

// slow says how many requests took half the token endpoint's latency or
// more: requests that waited for a mint, or were stalled by the machine.
func slow(p params, r *loadResult) string {
	return fmt.Sprintf("%s requests ≥ %s", num(r.slower(p.tokenLatency/2)), ms(p.tokenLatency/2))
}

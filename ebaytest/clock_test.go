package ebaytest_test

import (
	"context"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestClock(t *testing.T) {
	start := time.Date(2038, 1, 1, 0, 0, 0, 0, time.UTC)
	c := ebaytest.NewClock(start)
	parked := make(chan struct{})
	fired := make(chan time.Time)
	go func() {
		ch := c.After(time.Minute)
		close(parked)
		fired <- <-ch
	}()
	if err := c.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	<-parked
	c.Advance(59 * time.Second)
	if n := c.Waiters(); n != 1 {
		t.Fatalf("after 59 s: %d pending; want 1 (fired early)", n)
	}
	c.Advance(time.Second)
	if got := <-fired; !got.Equal(start.Add(time.Minute)) {
		t.Errorf("fired at %v; want %v", got, start.Add(time.Minute))
	}
	c.Set(start) // never backwards
	if got := c.Now(); !got.Equal(start.Add(time.Minute)) {
		t.Errorf("Now after Set to the past = %v; want %v", got, start.Add(time.Minute))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.BlockUntil(ctx, 1); err == nil {
		t.Error("BlockUntil with nothing parked and a cancelled ctx returned nil")
	}
}

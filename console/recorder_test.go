package console

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

// farStart is where the fake clock starts in most tests: far from today,
// so that a test that let the wall clock judge a token would fail at once.
var farStart = time.Date(2039, 6, 1, 9, 30, 0, 0, time.UTC)

func TestRecorderRing(t *testing.T) {
	clock := ebaytest.NewClock(farStart)
	r := NewRecorder(RecorderConfig{Events: 5, Clock: clock})
	if got := r.Events("", 10); len(got) != 0 {
		t.Fatalf("a new Recorder has %d events", len(got))
	}
	for i := range 8 {
		acct := "a"
		if i%2 == 1 {
			acct = "b"
		}
		r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Account: acct, Fingerprint: string(rune('0' + i))})
	}
	got := r.Events("", 10)
	var fps []string
	for _, e := range got {
		fps = append(fps, e.Fingerprint)
	}
	if strings.Join(fps, "") != "76543" {
		t.Errorf("events %v; want the last 5, newest first", fps)
	}
	fps = nil
	for _, e := range r.Events("b", 2) {
		fps = append(fps, e.Fingerprint)
	}
	if strings.Join(fps, "") != "75" {
		t.Errorf("b's last 2 events %v; want 7, 5", fps)
	}
	if r.Seq() != 8 || got[0].Seq != 8 || !got[0].Time.Equal(farStart) {
		t.Errorf("seq %d, newest %+v; want 8, timed by the clock", r.Seq(), got[0])
	}
}

func TestRecorderErrorText(t *testing.T) {
	r := NewRecorder(RecorderConfig{})
	r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed, Err: errors.New(strings.Repeat("é", 400))})
	e := r.Events("", 1)[0]
	if len(e.Error) > maxErrorText+len("…") || !strings.HasSuffix(e.Error, "…") || !strings.HasPrefix(e.Error, "éé") {
		t.Errorf("error text of %d bytes: %.20q…; want it cut at %d bytes on a rune boundary", len(e.Error), e.Error, maxErrorText)
	}
}

func TestRecorderHours(t *testing.T) {
	start := time.Date(2039, 6, 1, 22, 10, 0, 0, time.UTC)
	clock := ebaytest.NewClock(start)
	r := NewRecorder(RecorderConfig{Clock: clock})
	ev := func(kind ebayauth.EventKind, account string) {
		r.Observe(ebayauth.Event{Kind: kind, Time: clock.Now(), Account: account})
	}
	ev(ebayauth.EventRefreshed, "")
	ev(ebayauth.EventRefreshed, "u1")
	ev(ebayauth.EventRefreshFailed, "")
	r.ObserveExchange(time.Time{})
	if d := r.MintsToday(); d != (DailyMints{Token: 1, Sellers: 1, Exchanges: 1}) {
		t.Errorf("MintsToday = %+v; want 1 each", d)
	}
	clock.Advance(time.Hour) // 23:10
	ev(ebayauth.EventRefreshed, "")
	hs := r.Hours()
	if len(hs) != 24 || !hs[23].Start.Equal(time.Date(2039, 6, 1, 23, 0, 0, 0, time.UTC)) ||
		hs[23].Mints != 1 || hs[22].Mints != 2 || hs[22].Failures != 1 {
		t.Errorf("hours: last %+v, before %+v", hs[23], hs[22])
	}
	// Past midnight UTC the day starts over; the chart still shows
	// yesterday's hours.
	clock.Advance(time.Hour) // 00:10 the next day
	if d := r.MintsToday(); d != (DailyMints{}) {
		t.Errorf("MintsToday after midnight = %+v; want zero", d)
	}
	if hs := r.Hours(); hs[22].Mints != 1 || hs[21].Mints != 2 {
		t.Errorf("hours after midnight: %+v %+v", hs[21], hs[22])
	}
	// A day later the old hours are gone, even where a bucket is reused.
	clock.Advance(24 * time.Hour)
	ev(ebayauth.EventRefreshed, "")
	total := 0
	for _, h := range r.Hours() {
		total += h.Mints + h.Failures
	}
	if total != 1 {
		t.Errorf("a day later the chart counts %d; want 1", total)
	}
}

func TestRecorderFailing(t *testing.T) {
	r := NewRecorder(RecorderConfig{})
	r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed, Account: "u2"})
	r.Observe(ebayauth.Event{Kind: ebayauth.EventInvalidGrant, Account: "u1"})
	r.Observe(ebayauth.Event{Kind: ebayauth.EventValidationFailed, Account: "u3"})
	r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Account: "u3"})
	r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed}) // the single token: not a seller
	if got := strings.Join(r.FailingAccounts(), ","); got != "u1,u2" {
		t.Errorf("failing %s; want u1,u2", got)
	}
	if !r.Failing("u1") || r.Failing("u3") {
		t.Error("Failing disagrees with FailingAccounts")
	}
	// Bounded: the oldest failure goes first.
	base := farStart
	for i := range maxFailing + 5 {
		r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed, Account: "x" + itoa(i), Time: base.Add(time.Duration(i+10) * time.Second)})
	}
	if n := len(r.FailingAccounts()); n != maxFailing {
		t.Errorf("%d failing sellers kept; want at most %d", n, maxFailing)
	}
}

func itoa(i int) string {
	b := []byte{}
	for {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
		if i == 0 {
			return string(b)
		}
	}
}

func TestRecorderConcurrent(t *testing.T) {
	r := NewRecorder(RecorderConfig{Events: 64})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Account: itoa(g)})
				if i%50 == 0 {
					r.Events("", 10)
					r.Hours()
					r.MintsToday()
				}
			}
		})
	}
	wg.Wait()
	if r.Seq() != 4000 || r.MintsToday().Sellers != 4000 {
		t.Errorf("seq %d, mints %+v; want 4000", r.Seq(), r.MintsToday())
	}
}

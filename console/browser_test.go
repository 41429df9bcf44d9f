package console

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which the browser tests drive. They
// never download a browser: CI installs the package (.ci/run).
const chromiumPath = "/usr/bin/chromium"

var screenshots = flag.Bool("screenshots", false, "write the screenshots of TestBrowserScreenshots to ../docs")

// stepTimeout bounds each browser action, and pollTimeout each wait for
// the page to change.
const (
	stepTimeout = 20 * time.Second
	pollTimeout = 15 * time.Second
)

// browser is a headless Chromium tab for one test, and the problems its
// console reported: errors, uncaught exceptions, failed loads, CSP
// violations. The test fails on any unless tolerated.
type browser struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	problems []string
	tolerate bool // the test provokes errors on purpose (a refused POST)
}

// newBrowser starts Chromium for t. It fails, never skips, when chromium
// is missing: CI must not pass without the browser tests.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("the browser tests need Debian's chromium at %s (apt-get install chromium; .ci/run installs it): %v", chromiumPath, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.WSURLReadTimeout(30*time.Second),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	b := &browser{t: t, ctx: ctx}
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	// The first action starts the browser; it runs on the browser's own
	// context (a timeout there would stop the browser), bounded by
	// WSURLReadTimeout.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	if err := chromedp.Listen(ctx, b.listen); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.check) // before the browser stops: cleanups run last first
	return b
}

// listen keeps what the page's console reports as a problem. It runs on
// the tab's reading goroutine, so it only appends.
func (b *browser) listen(ev any) {
	var p string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError && ev.Type != runtime.ConsoleAPICalledTypeAssert {
			return
		}
		var args []string
		for _, a := range ev.Args {
			if a.Description != "" {
				args = append(args, a.Description)
			} else {
				args = append(args, string(a.Value))
			}
		}
		p = "console." + string(ev.Type) + ": " + strings.Join(args, " ")
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		p = "uncaught exception: " + d.Text
		if d.Exception != nil {
			p += " " + d.Exception.Description
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level != cdplog.EntryLevelError {
			return
		}
		p = "browser log (" + string(ev.Entry.Source) + "): " + ev.Entry.Text + " " + ev.Entry.URL
	default:
		return
	}
	b.mu.Lock()
	b.problems = append(b.problems, p)
	b.mu.Unlock()
}

// check fails the test if the page reported problems.
func (b *browser) check() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tolerate {
		return
	}
	for _, p := range b.problems {
		b.t.Errorf("the page's console: %s", p)
	}
}

// do runs steps, bounded by stepTimeout.
func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression and returns its value.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// text returns the trimmed text of the first element sel matches.
func (b *browser) text(sel string) string {
	b.t.Helper()
	return eval[string](b, fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? "<missing>").trim()`, jsString(sel)))
}

// waitFor waits until the JavaScript predicate holds, polling the page
// (no sleeping in Go), or fails saying what it waited for.
func (b *browser) waitFor(what, predicate string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, pollTimeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(pollTimeout))); err != nil {
		b.t.Fatalf("waiting for %s (%s): %v", what, predicate, err)
	}
}

// waitText waits until the element sel matches reads want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s to read %q (it reads %q)", sel, want, b.text(sel)),
		fmt.Sprintf(`(document.querySelector(%s)?.textContent ?? "").trim() === %s`, jsString(sel), jsString(want)))
}

// markPage marks the document, so that noReload can tell it was not
// loaded again.
func (b *browser) markPage() { eval[int](b, `window.__consoleMark = 1`) }

func (b *browser) noReload() {
	b.t.Helper()
	if !eval[bool](b, `window.__consoleMark === 1`) {
		b.t.Error("the page was loaded again; want it updated in place")
	}
}

// checkImages waits for the page's images and fails on any that did not
// load.
func (b *browser) checkImages() {
	b.t.Helper()
	b.waitFor("the images to load", `Array.from(document.images).every(i => i.complete)`)
	broken := eval[[]string](b, `Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src)`)
	if len(broken) > 0 {
		b.t.Errorf("broken images: %v", broken)
	}
	if n := eval[int](b, `document.images.length`); n == 0 {
		b.t.Error("the page has no images; want the icon and the chart")
	}
}

// screenshot returns a PNG of the whole page.
func (b *browser) screenshot() []byte {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	return png
}

// noScript turns JavaScript off in the tab, for the pages that must read
// right without it.
func (b *browser) noScript() {
	b.do("turning JavaScript off", func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return chromedp.Void{}, err
	})
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserTokenView: the single token's page shows its state; Refresh
// now mints a new token, and the page shows it and the mint counter rise
// without a reload.
func TestBrowserTokenView(t *testing.T) {
	f := newFixture(t, setup{single: true})
	if _, err := f.m.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do("loading the console", chromedp.Navigate(f.ts.URL), chromedp.WaitVisible(chromedp.CSS(`[data-scope="token"] .badge`)))
	if got := b.text(`[data-scope="token"] .badge`); got != "fresh" {
		t.Errorf("state %q; want fresh", got)
	}
	fp := b.text(`[data-scope="token"] [data-f="fingerprint"]`)
	gauge := `[data-gauge="client_credentials"] [data-f="text"]`
	if got := b.text(gauge); got != "1 of 1,000 today" {
		t.Errorf("mint gauge %q; want 1 of 1,000 today", got)
	}
	b.checkImages()
	b.markPage()

	b.do("clicking Refresh now", chromedp.Click(chromedp.CSS(`[data-scope="token"] form[action$="refresh"] button`)))
	b.waitText(gauge, "2 of 1,000 today")
	b.waitFor("a new fingerprint", fmt.Sprintf(`document.querySelector('[data-scope="token"] [data-f="fingerprint"]').textContent !== %s`, jsString(fp)))
	b.waitFor("the toast", `document.getElementById('toast').textContent.startsWith('New token minted')`)
	if got := f.m.Status().Fingerprint; got == fp || got != b.text(`[data-scope="token"] [data-f="fingerprint"]`) {
		t.Errorf("the page shows %s, the Manager holds %s (was %s)", b.text(`[data-scope="token"] [data-f="fingerprint"]`), got, fp)
	}
	b.noReload()

	// Validate, then eBay revokes the token: the next validation turns
	// the page to "rejected", still without a reload.
	b.do("clicking Validate", chromedp.Click(chromedp.CSS(`[data-scope="token"] form[action$="validate"] button`)))
	b.waitFor("the verdict", `document.querySelector('[data-scope="token"] [data-f="validation"]').textContent.startsWith('accepted by eBay')`)
	f.srv.RevokeAll()
	_ = f.m.Validate(context.Background())
	b.waitText(`[data-scope="token"] .badge`, "rejected")
	b.noReload()
}

// TestBrowserSellers: the sellers' table shows each seller's state;
// Refresh now in a row mints for that seller; a seller eBay revokes turns
// to "needs consent" with a consent link, without a reload.
func TestBrowserSellers(t *testing.T) {
	f := newFixture(t, setup{sellers: true})
	for _, s := range [][3]string{{"u-alice", "alice", "EBAY_US"}, {"u-bob", "bob", "EBAY_GB"}, {"u-carol", "carol", "EBAY_DE"}} {
		f.connect(t, s[0], s[1], s[2])
		f.token(t, s[0])
	}
	row := func(id string) string { return `tr[data-scope="` + id + `"]` }
	b := newBrowser(t)
	b.do("loading the console", chromedp.Navigate(f.ts.URL), chromedp.WaitVisible(chromedp.CSS(row("u-alice"))))
	for _, id := range []string{"u-alice", "u-bob", "u-carol"} {
		if got := b.text(row(id) + " .badge"); got != "fresh" {
			t.Errorf("%s: state %q; want fresh", id, got)
		}
	}
	gauge := `[data-gauge="refresh_token"] [data-f="text"]`
	if got := b.text(gauge); got != "3 of 50,000 today" {
		t.Errorf("mint gauge %q; want 3 of 50,000 today", got)
	}
	if got := b.text(`[data-gauge="authorization_code"] [data-f="text"]`); got != "3 of 10,000 today" {
		t.Errorf("code gauge %q; want 3 of 10,000 today", got)
	}
	b.checkImages()
	b.markPage()
	before := f.token(t, "u-alice").Fingerprint()

	b.do("clicking Refresh now for alice", chromedp.Click(chromedp.CSS(row("u-alice")+` form[action$="refresh"] button`)))
	b.waitText(gauge, "4 of 50,000 today")
	if after := f.token(t, "u-alice").Fingerprint(); after == before {
		t.Error("Refresh now did not mint for alice")
	}
	b.waitFor("alice's new token on the page", fmt.Sprintf(`document.querySelector('%s').textContent.includes('4 of') && document.getElementById('timeline').textContent.includes('u-alice')`, gauge))

	// eBay revokes bob; the daemon's next refresh learns it.
	if b.visible(row("u-bob") + " .consent") {
		t.Error("a fresh seller shows a consent link")
	}
	f.revoke(t, "u-bob")
	b.waitText(row("u-bob")+" .badge", "needs consent")
	b.waitFor("bob's consent link", fmt.Sprintf(`!document.querySelector('%s .consent').hidden && document.querySelector('%s .consent input').value.includes('oauth2/authorize')`, row("u-bob"), row("u-bob")))
	if b.visible(row("u-bob") + " .actions") {
		t.Error("bob's row still offers Refresh now; want only the consent link")
	}
	if got := b.text(row("u-alice") + " .badge"); got != "fresh" {
		t.Errorf("alice: %q after bob's revocation; want fresh", got)
	}
	b.noReload()

	// Filter: only bob needs consent; his page links back.
	b.do("filtering", chromedp.Navigate(f.ts.URL+"/?state=needs_consent"), chromedp.WaitVisible(chromedp.CSS(row("u-bob"))))
	if n := eval[int](b, `document.querySelectorAll('tbody tr').length`); n != 1 {
		t.Errorf("%d rows need consent; want bob's alone", n)
	}
	b.do("opening bob's page", chromedp.Click(chromedp.CSS(row("u-bob")+" th a")), chromedp.WaitVisible(chromedp.CSS(`[data-scope="seller"] .badge`)))
	if got := b.text(`[data-scope="seller"] .badge`); got != "needs consent" {
		t.Errorf("bob's page: %q; want needs consent", got)
	}
	b.checkImages()
}

// visible reports whether sel matches a shown element.
func (b *browser) visible(sel string) bool {
	return eval[bool](b, fmt.Sprintf(`(() => { const e = document.querySelector(%s); return !!e && !e.hidden && e.offsetParent !== null })()`, jsString(sel)))
}

// TestBrowserCrossSitePost: a page on another site that posts a form to
// the console gets 403, and nothing is minted.
func TestBrowserCrossSitePost(t *testing.T) {
	f := newFixture(t, setup{single: true})
	if _, err := f.m.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><title>evil</title><form method="post" action="%s/refresh"><input name="csrf" value="guess"><button id="go">win a prize</button></form>`, f.ts.URL)
	}))
	t.Cleanup(evil.Close)
	b := newBrowser(t)
	b.tolerate = true // the refused POST is logged as a failed load
	b.do("visiting the console", chromedp.Navigate(f.ts.URL), chromedp.WaitVisible(chromedp.CSS(`.badge`)))
	// localhost and 127.0.0.1 are different sites.
	b.do("visiting the other site", chromedp.Navigate(strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)), chromedp.WaitVisible(chromedp.CSS(`#go`)))
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`#go`)))
	if err != nil {
		t.Fatalf("posting across sites: %v", err)
	}
	if resp.Status != http.StatusForbidden {
		t.Errorf("the cross-site POST got %d %s; want 403", resp.Status, resp.StatusText)
	}
	b.waitFor("the refusal", `document.body && document.body.textContent.includes('Forbidden: cross-origin request refused')`)
	if n := f.srv.Mints("client_credentials"); n != 1 {
		t.Errorf("%d tokens minted; want the first one only", n)
	}
}

// TestBrowserLogin: beyond loopback (an admin secret set) the page asks
// for the secret; the session cookie is out of the script's reach.
func TestBrowserLogin(t *testing.T) {
	f := newFixture(t, setup{single: true, edit: func(c *Config) { c.AdminSecret = []byte(adminSecret) }})
	if _, err := f.m.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	b.do("loading the console", chromedp.Navigate(f.ts.URL), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
	if n := eval[int](b, `document.querySelectorAll('[data-scope="token"]').length`); n != 0 {
		t.Error("the login page shows the token")
	}
	b.do("logging in",
		chromedp.SendKeys(chromedp.CSS(`#secret`), adminSecret),
		chromedp.Click(chromedp.CSS(`.login-card button`)),
		chromedp.WaitVisible(chromedp.CSS(`[data-scope="token"] .badge`)))
	if got := b.text(`[data-scope="token"] .badge`); got != "fresh" {
		t.Errorf("state %q after login; want fresh", got)
	}
	if c := eval[string](b, `document.cookie`); c != "" {
		t.Errorf("the script sees cookies %q; want the session cookie HttpOnly", c)
	}
	b.markPage()
	b.do("clicking Refresh now", chromedp.Click(chromedp.CSS(`[data-scope="token"] form[action$="refresh"] button`)))
	b.waitText(`[data-gauge="client_credentials"] [data-f="text"]`, "2 of 1,000 today")
	b.noReload()
	b.do("logging out", chromedp.Click(chromedp.CSS(`.logout button`)), chromedp.WaitVisible(chromedp.CSS(`#secret`)))
}

// TestBrowserWithoutScript: with JavaScript off, the page still shows the
// states, and Refresh now still works (the form posts and comes back).
func TestBrowserWithoutScript(t *testing.T) {
	f := newFixture(t, setup{sellers: true})
	f.connect(t, "u-alice", "alice", "EBAY_US")
	f.token(t, "u-alice")
	f.connect(t, "u-bob", "bob", "EBAY_US")
	f.revoke(t, "u-bob")
	b := newBrowser(t)
	b.noScript()
	b.do("loading the console", chromedp.Navigate(f.ts.URL), chromedp.WaitVisible(chromedp.CSS(`tr[data-scope="u-bob"]`)))
	if got := b.text(`tr[data-scope="u-bob"] .badge`); got != "needs consent" {
		t.Errorf("bob: %q; want needs consent", got)
	}
	if got := b.text(`tr[data-scope="u-alice"] .badge`); got != "fresh" {
		t.Errorf("alice: %q; want fresh", got)
	}
	b.do("clicking Refresh now", chromedp.Click(chromedp.CSS(`tr[data-scope="u-alice"] form[action$="refresh"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`main > .notice, .top ~ .notice`)))
	if got := b.text(`.notice`); got != "A new token was minted." {
		t.Errorf("notice %q; want the refresh reported", got)
	}
	if got := b.text(`[data-gauge="refresh_token"] [data-f="text"]`); got != "2 of 50,000 today" {
		t.Errorf("mint gauge %q; want 2 of 50,000 today", got)
	}
}

// TestBrowserScreenshots renders the single-token and the accounts views
// with a day of history, checks them, and with -screenshots writes them to
// docs/ (console-token.png, console-accounts.png, console-phone.png).
func TestBrowserScreenshots(t *testing.T) {
	start := time.Now().UTC().Truncate(time.Minute).Add(-24 * time.Hour)

	single := newFixture(t, setup{single: true, start: start})
	playDay(t, single, func() error { _, err := single.m.ForceRefresh(context.Background()); return err })
	if err := single.m.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}

	sellers := newFixture(t, setup{sellers: true, start: start})
	names := [][3]string{{"k3vQ8nZp2Ls", "vintage_cameras", "EBAY_US"}, {"m1xT4rQw9Ea", "bookbarn_uk", "EBAY_GB"},
		{"p8LcN2vR5Ys", "sneaker.vault", "EBAY_US"}, {"q2WdH7kB3Jm", "kuechen_welt", "EBAY_DE"},
		{"r5TgU1oP6Zc", "retro-games-fr", "EBAY_FR"}, {"t9BnM4xV2Lq", "garden_supply_co", "EBAY_US"}}
	for _, n := range names {
		sellers.connect(t, n[0], n[1], n[2])
		sellers.token(t, n[0])
	}
	i := 0
	playDay(t, sellers, func() error {
		i++
		m, err := sellers.accts.Manager(context.Background(), names[i%4][0])
		if err != nil {
			return err
		}
		_, err = m.ForceRefresh(context.Background())
		return err
	})
	sellers.expiring(t, names[3][0])
	sellers.revoke(t, names[4][0])
	for _, n := range names[:4] {
		sellers.token(t, n[0])
	}

	b := newBrowser(t)
	shots := map[string][]byte{}
	b.do("loading the token view", chromedp.Navigate(single.ts.URL), chromedp.WaitVisible(chromedp.CSS(`[data-scope="token"] .badge`)))
	b.checkImages()
	shots["console-token.png"] = b.screenshot()

	b.do("loading the accounts view", chromedp.Navigate(sellers.ts.URL), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	b.checkImages()
	shots["console-accounts.png"] = b.screenshot()

	b.do("narrowing to a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
		chromedp.Navigate(sellers.ts.URL), chromedp.WaitVisible(chromedp.CSS(`tbody tr`)))
	b.checkImages()
	if w := eval[int](b, `document.documentElement.scrollWidth`); w > 390 {
		t.Errorf("on a phone the page is %d px wide; want it to fit 390", w)
	}
	shots["console-phone.png"] = b.screenshot()

	for name, shot := range shots {
		cfg, err := png.DecodeConfig(bytes.NewReader(shot))
		if err != nil || cfg.Width < 300 || cfg.Height < 300 {
			t.Errorf("%s: not a full-page PNG: %v %+v", name, err, cfg)
			continue
		}
		dir := t.TempDir()
		if *screenshots {
			dir = filepath.Join("..", "docs")
		}
		if err := os.WriteFile(filepath.Join(dir, name), shot, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// playDay plays a day of history on f: every 70 minutes mint calls mint, and
// every fifth time eBay fails the refresh first.
func playDay(t *testing.T, f *fixture, mint func() error) {
	t.Helper()
	for i := range 20 {
		f.clock.Advance(70 * time.Minute)
		if i%5 == 2 {
			f.srv.FailNext(1, http.StatusServiceUnavailable, `{"error":"temporarily_unavailable"}`)
			if err := mint(); err == nil {
				t.Fatal("a refresh eBay failed succeeded")
			}
			f.clock.Advance(5 * time.Minute) // past the backoff
		}
		if err := mint(); err != nil {
			t.Fatalf("hour %d: %v", i, err)
		}
	}
}

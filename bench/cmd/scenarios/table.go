package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one line of the table; a zero field prints as "–" unless set.
type row struct {
	scenario, client string
	requests, failed string
	mints            string
	p50, p99, max    string
	result           string
}

func printTable(w io.Writer, p params, rows []row) {
	mode := "full"
	if p.quick {
		mode = "quick (sizes shrunk for CI: the numbers mean nothing)"
	}
	fmt.Fprintf(w, "Scenarios, %s run: token endpoint latency %v, token lifetime %v, ebayauth RefreshBefore %v, "+
		"x/oauth2 early expiry %v, %d workers each sending at most one request per %v.\n\n",
		mode, p.tokenLatency, p.lifetime, p.refreshBefore, p.earlyExpiry, p.workers, p.pace)
	fmt.Fprintln(w, "| scenario | client | requests | failed | mints | p50 | p99 | max | result |")
	fmt.Fprintln(w, "|---|---|--:|--:|--:|--:|--:|--:|---|")
	for _, r := range rows {
		cells := []string{r.scenario, r.client, r.requests, r.failed, r.mints, r.p50, r.p99, r.max, r.result}
		for i, c := range cells {
			if c == "" {
				cells[i] = "–"
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// ms formats d in milliseconds with a precision that suits its size.
func ms(d time.Duration) string {
	f := float64(d) / float64(time.Millisecond)
	switch {
	case f < 10:
		return fmt.Sprintf("%.2f ms", f)
	case f < 100:
		return fmt.Sprintf("%.1f ms", f)
	}
	return fmt.Sprintf("%.0f ms", f)
}

// num formats n with thousands separators.
func num[T ~int | ~int64 | ~uint64](n T) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// byteSize formats n bytes in B, KiB or MiB.
func byteSize(n float64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%.0f B", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", n/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", n/(1<<20))
}

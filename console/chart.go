package console

import (
	"bufio"
	"fmt"
	"io"
)

// The chart's geometry, in SVG user units.
const (
	chartW, chartH             = 560, 200
	plotL, plotR, plotT, plotB = 34, 552, 14, 174 // the plot area
)

// writeChart draws mints and failed refreshes per hour as an SVG bar
// chart: two bars an hour, the current hour on the right, a scale on the
// left. It is drawn on the server, needs no script and loads nothing.
func writeChart(w io.Writer, hs []HourCount) {
	b := bufio.NewWriter(w)
	defer b.Flush()
	top := 1
	mints, failures := 0, 0
	for _, h := range hs {
		top = max(top, h.Mints, h.Failures)
		mints += h.Mints
		failures += h.Failures
	}
	top = niceCeil(top)
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="t d">`,
		chartW, chartH, chartW, chartH)
	fmt.Fprintf(b, `<title id="t">Mints and failed refreshes per hour, last 24 hours</title>`)
	fmt.Fprintf(b, `<desc id="d">%s, %s in the last 24 hours.</desc>`,
		plural(mints, "token minted", "tokens minted"), plural(failures, "failed refresh", "failed refreshes"))
	b.WriteString(`<style>text{font:13px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;fill:#4b5563}` +
		`.g{stroke:#e5e7eb;stroke-width:1}.ax{stroke:#9ca3af;stroke-width:1}.m{fill:#2563eb}.f{fill:#dc2626}</style>`)
	fmt.Fprintf(b, `<rect width="%d" height="%d" fill="#ffffff"/>`, chartW, chartH)
	// Scale: 0, half and top.
	scale := []int{0, top}
	if top > 1 {
		scale = append(scale, top/2)
	}
	for _, v := range scale {
		y := yOf(v, top)
		cls := "g"
		if v == 0 {
			cls = "ax"
		}
		fmt.Fprintf(b, `<line class="%s" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, cls, plotL, plotR, y, y)
		fmt.Fprintf(b, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`, plotL-6, y+4, thousands(v))
	}
	slot := float64(plotR-plotL) / float64(max(len(hs), 1))
	barW := slot * 0.36
	for i, h := range hs {
		x := float64(plotL) + float64(i)*slot + slot*0.12
		for j, v := range []int{h.Mints, h.Failures} {
			if v == 0 {
				continue
			}
			y := yOf(v, top)
			cls := "m"
			what := "minted"
			if j == 1 {
				cls, what = "f", "failed"
			}
			fmt.Fprintf(b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="1.5"><title>%s UTC: %d %s</title></rect>`,
				cls, x+float64(j)*barW, y, barW, float64(plotB)-y, h.Start.Format("15:04"), v, what)
		}
		if i%6 == 0 || i == len(hs)-1 {
			label := h.Start.Format("15:04")
			if i == len(hs)-1 {
				label = "now"
			}
			fmt.Fprintf(b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(plotL)+(float64(i)+0.5)*slot, plotB+16, label)
		}
	}
	b.WriteString(`</svg>`)
}

// yOf is the y of value v on a scale whose top is top.
func yOf(v, top int) float64 {
	return float64(plotB) - float64(v)/float64(top)*float64(plotB-plotT)
}

// niceCeil rounds n up to 1, 2 or 5 times a power of ten, and to an even
// number above 1, so that half of it is a whole number too.
func niceCeil(n int) int {
	if n <= 1 {
		return 1
	}
	for p := 1; ; p *= 10 {
		for _, m := range []int{2, 4, 6, 10} {
			if m*p >= n {
				return m * p
			}
		}
	}
}

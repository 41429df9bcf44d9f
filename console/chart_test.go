package console

import (
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/ebayauth/ebayauth"
	"github.com/ebayauth/ebayauth/ebaytest"
)

func TestChartIsSVG(t *testing.T) {
	clock := ebaytest.NewClock(farStart)
	r := NewRecorder(RecorderConfig{Clock: clock})
	for i := range 30 {
		r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshed, Time: farStart.Add(-time.Duration(i) * time.Hour / 2)})
	}
	r.Observe(ebayauth.Event{Kind: ebayauth.EventRefreshFailed})
	var b strings.Builder
	writeChart(&b, r.Hours())
	svg := b.String()
	var doc struct {
		XMLName xml.Name
		Rects   []struct {
			Class string `xml:"class,attr"`
		} `xml:"rect"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil || doc.XMLName.Local != "svg" {
		t.Fatalf("the chart is not SVG: %v\n%s", err, svg)
	}
	bars := map[string]int{}
	for _, r := range doc.Rects {
		bars[r.Class]++
	}
	if bars["m"] != 15 || bars["f"] != 1 { // 30 mints, two an hour, and one failure
		t.Errorf("bars %v; want 15 hours with mints, 1 with failures", bars)
	}
	if !strings.Contains(svg, "30 tokens minted, 1 failed refresh") {
		t.Error("the chart's description does not count")
	}
}

func TestNiceCeil(t *testing.T) {
	for in, want := range map[int]int{0: 1, 1: 1, 2: 2, 3: 4, 5: 6, 7: 10, 11: 20, 45: 60, 999: 1000} {
		if got := niceCeil(in); got != want {
			t.Errorf("niceCeil(%d) = %d; want %d", in, got, want)
		}
	}
}

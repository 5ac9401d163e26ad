package console

import (
	"context"
	"fmt"
	"html"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gateguard/gateguard/gate"
	"github.com/gateguard/gateguard/gate/central/store"
)

// presence is where one person was last seen today.
type presence struct {
	ID, Name, Department string
	Gate                 string
	Time                 time.Time
	OnSite               bool // last admitted at an entry lane (or no exits are configured)
	Entered              bool // admitted at an entry lane today
}

// presenceToday reads today's admitted entries, newest first: a person's
// newest admission says whether they are on site (entry lane) or left
// (exit lane).
func (c *Console) presenceToday(ctx context.Context, roster []store.Person) (map[string]*presence, error) {
	now := c.o.Now().In(c.o.Location)
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.o.Location)
	byID := map[string]store.Person{}
	for _, p := range roster {
		byID[p.ID] = p
	}
	out := map[string]*presence{}
	err := c.o.Store.EachEvent(ctx, store.EventFilter{From: day, To: now.Add(time.Minute), Kind: gate.KindEntry, Decision: "admitted"},
		func(e store.EventRow) error {
			if e.Holder == "" {
				return nil
			}
			p, seen := out[e.Holder]
			if !seen {
				rp := byID[e.Holder]
				p = &presence{ID: e.Holder, Name: rp.Name, Department: rp.Department, Gate: e.Gate, Time: e.Time,
					OnSite: c.dir(e.Gate) == "entry"}
				out[e.Holder] = p
			}
			if c.dir(e.Gate) == "entry" {
				p.Entered = true
			}
			return nil
		})
	return out, err
}

type deptRow struct {
	Department string
	Roster     int
	Back       int // entered today
	OnSite     int
	BackPeople []store.Person
	NotBack    []store.Person
}

type onsiteData struct {
	Exact      bool
	Exits      string
	Depts      []deptRow
	Total      deptRow
	Unrostered int
	NoRoster   bool
	Chart      template.HTML
	TrendDays  int
	Fire       []string
}

func (c *Console) headcount(ctx context.Context) (onsiteData, map[string]*presence, []store.Person, error) {
	roster, err := c.o.DB.People(ctx)
	if err != nil {
		return onsiteData{}, nil, nil, err
	}
	pres, err := c.presenceToday(ctx, roster)
	if err != nil {
		return onsiteData{}, nil, nil, err
	}
	d := onsiteData{Exact: len(c.exits()) > 0, Exits: strings.Join(c.exits(), ", "), NoRoster: len(roster) == 0,
		TrendDays: c.o.TrendDays}
	idx := map[string]int{}
	onRoster := map[string]bool{}
	for _, p := range roster {
		onRoster[p.ID] = true
		i, ok := idx[p.Department]
		if !ok {
			i = len(d.Depts)
			idx[p.Department] = i
			d.Depts = append(d.Depts, deptRow{Department: p.Department})
		}
		row := &d.Depts[i]
		row.Roster++
		if pp := pres[p.ID]; pp != nil && pp.Entered {
			row.Back++
			row.BackPeople = append(row.BackPeople, p)
		} else {
			row.NotBack = append(row.NotBack, p)
		}
		if pp := pres[p.ID]; pp != nil && pp.OnSite {
			row.OnSite++
		}
	}
	for id, p := range pres {
		if !onRoster[id] && p.OnSite {
			d.Unrostered++
		}
	}
	for _, r := range d.Depts {
		d.Total.Roster += r.Roster
		d.Total.Back += r.Back
		d.Total.OnSite += r.OnSite
		d.Total.NotBack = append(d.Total.NotBack, r.NotBack...)
	}
	return d, pres, roster, nil
}

func (c *Console) fireGates(ctx context.Context) []string {
	gates, err := c.o.Store.Gates(ctx)
	if err != nil {
		return nil
	}
	var out []string
	for _, g := range gates {
		if g.FireAlarm {
			out = append(out, g.Gate)
		}
	}
	return out
}

func (c *Console) onsitePage(w http.ResponseWriter, r *http.Request, u User) {
	d, _, roster, err := c.headcount(r.Context())
	if err != nil {
		c.storeError(w, r, u, "onsite", err)
		return
	}
	series, err := c.trendSeries(r.Context(), roster)
	if err != nil {
		c.storeError(w, r, u, "onsite", err)
		return
	}
	d.Chart = template.HTML(trendSVG(u.Language, series, c.o.TrendDays))
	d.Fire = c.fireGates(r.Context())
	c.render(w, r, http.StatusOK, "onsite", page{User: u, Nav: "onsite", Title: T(u.Language, "onsite.title"), Data: d})
}

// series is one department's daily return-to-work rate.
type series struct {
	Department string
	Days       []time.Time
	Rate       []float64 // 0–1, -1 for no roster
}

// trendSeries counts, for each of the last TrendDays days, the distinct
// roster members admitted at an entry lane, per department, over the
// roster as it is now. Past days are cached (they do not change).
func (c *Console) trendSeries(ctx context.Context, roster []store.Person) ([]series, error) {
	now := c.o.Now().In(c.o.Location)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, c.o.Location)
	dept := map[string]string{}
	size := map[string]int{}
	var depts []string
	for _, p := range roster {
		dept[p.ID] = p.Department
		if size[p.Department] == 0 {
			depts = append(depts, p.Department)
		}
		size[p.Department]++
	}
	sort.Strings(depts)
	days := make([]time.Time, c.o.TrendDays)
	for i := range days {
		days[i] = today.AddDate(0, 0, i-len(days)+1)
	}
	counts := make([]map[string]int, len(days))
	for i, day := range days {
		key := day.Format("2006-01-02")
		c.trendMu.Lock()
		cached, ok := c.trend[key]
		c.trendMu.Unlock()
		if ok && i < len(days)-1 {
			counts[i] = cached
			continue
		}
		seen := map[string]bool{}
		m := map[string]int{}
		err := c.o.Store.EachEvent(ctx, store.EventFilter{From: day, To: day.AddDate(0, 0, 1), Kind: gate.KindEntry, Decision: "admitted"},
			func(e store.EventRow) error {
				if d, ok := dept[e.Holder]; ok && !seen[e.Holder] && c.dir(e.Gate) == "entry" {
					seen[e.Holder] = true
					m[d]++
				}
				return nil
			})
		if err != nil {
			return nil, err
		}
		counts[i] = m
		if i < len(days)-1 {
			c.trendMu.Lock()
			if len(c.trend) > 400 {
				c.trend = map[string]map[string]int{}
			}
			c.trend[key] = m
			c.trendMu.Unlock()
		}
	}
	out := make([]series, 0, len(depts))
	for _, d := range depts {
		s := series{Department: d, Days: days, Rate: make([]float64, len(days))}
		for i := range days {
			s.Rate[i] = float64(counts[i][d]) / float64(size[d])
		}
		out = append(out, s)
	}
	return out, nil
}

// palette is colour-blind-safe (Okabe–Ito), dark enough on white.
var palette = []string{"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442"}

// trendSVG draws the daily rates as one line per department, with a title
// and description for screen readers (the page also has the numbers).
func trendSVG(lang string, ss []series, days int) string {
	const w, h, left, right, top, bottom = 760, 280, 48, 170, 16, 36
	pw, ph := float64(w-left-right), float64(h-top-bottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" role="img" aria-labelledby="trend-title trend-desc" class="chart">`, w, h)
	fmt.Fprintf(&b, `<title id="trend-title">%s</title><desc id="trend-desc">%s</desc>`,
		html.EscapeString(T(lang, "onsite.trend", days)), html.EscapeString(T(lang, "onsite.trend.desc")))
	for _, pct := range []int{0, 25, 50, 75, 100} {
		y := float64(top) + ph*(1-float64(pct)/100)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" class="grid"/><text x="%d" y="%.1f" class="axis" text-anchor="end">%d%%</text>`,
			left, y, w-right, y, left-6, y+4, pct)
	}
	n := days
	x := func(i int) float64 {
		if n <= 1 {
			return float64(left)
		}
		return float64(left) + pw*float64(i)/float64(n-1)
	}
	if len(ss) > 0 {
		for i, d := range ss[0].Days {
			if i%7 == (n-1)%7 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" class="axis" text-anchor="middle">%s</text>`, x(i), h-12, d.Format("01-02"))
			}
		}
	}
	for k, s := range ss {
		col := palette[k%len(palette)]
		var pts []string
		for i, r := range s.Rate {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(i), float64(top)+ph*(1-r)))
		}
		name := s.Department
		if name == "" {
			name = "—"
		}
		last := s.Rate[len(s.Rate)-1]
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5" data-dept="%s"><title>%s</title></polyline>`,
			strings.Join(pts, " "), col, html.EscapeString(s.Department), html.EscapeString(name))
		ly := top + 14 + 20*k
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="4" fill="%s"/><text x="%d" y="%d" class="legend">%s %.0f%%</text>`,
			w-right+12, ly-6, col, w-right+32, ly, html.EscapeString(name), 100*last)
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func (c *Console) trendSVG(w http.ResponseWriter, r *http.Request, u User) {
	roster, err := c.o.DB.People(r.Context())
	if err != nil {
		c.storeError(w, r, u, "onsite", err)
		return
	}
	ss, err := c.trendSeries(r.Context(), roster)
	if err != nil {
		c.storeError(w, r, u, "onsite", err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(trendSVG(u.Language, ss, c.o.TrendDays)))
}

type musterGroup struct {
	Department string
	People     []*presence
}

type musterData struct {
	Generated time.Time
	Exact     bool
	Groups    []musterGroup
	Count     int
	Fire      []string
}

func (c *Console) musterPage(w http.ResponseWriter, r *http.Request, u User) {
	_, pres, _, err := c.headcount(r.Context())
	if err != nil {
		c.storeError(w, r, u, "onsite", err)
		return
	}
	d := musterData{Generated: c.o.Now(), Exact: len(c.exits()) > 0, Fire: c.fireGates(r.Context())}
	groups := map[string][]*presence{}
	for _, p := range pres {
		if p.OnSite {
			dep := p.Department
			if p.Name == "" && dep == "" {
				dep = T(u.Language, "onsite.not_on_roster")
			}
			groups[dep] = append(groups[dep], p)
			d.Count++
		}
	}
	for dep, ps := range groups {
		sort.Slice(ps, func(i, j int) bool { return ps[i].Name+ps[i].ID < ps[j].Name+ps[j].ID })
		d.Groups = append(d.Groups, musterGroup{Department: dep, People: ps})
	}
	sort.Slice(d.Groups, func(i, j int) bool { return d.Groups[i].Department < d.Groups[j].Department })
	c.render(w, r, http.StatusOK, "muster", page{User: u, Nav: "onsite", Title: T(u.Language, "muster.title"), Data: d})
}

package sqldb

import (
	"slices"
	"testing"

	"github.com/gateguard/gateguard/gate/central/store"
)

func TestFoldSeqs(t *testing.T) {
	cases := []struct {
		name    string
		max     uint64
		gaps    []store.Gap
		seqs    []uint64
		wantMax uint64
		want    []store.Gap
		changed bool
	}{
		{"first message from 1", 0, nil, []uint64{1, 2, 3}, 3, nil, false},
		{"first message later: gap from 1", 0, nil, []uint64{5}, 5, []store.Gap{{First: 1, Last: 4}}, true},
		{"unordered in a batch", 2, nil, []uint64{6, 3, 5, 4}, 6, nil, false},
		{"skip opens a gap", 3, nil, []uint64{7}, 7, []store.Gap{{First: 4, Last: 6}}, true},
		{"fill the middle", 7, []store.Gap{{First: 4, Last: 6}}, []uint64{5}, 7, []store.Gap{{First: 4, Last: 4}, {First: 6, Last: 6}}, true},
		{"fill an edge", 7, []store.Gap{{First: 4, Last: 6}}, []uint64{4}, 7, []store.Gap{{First: 5, Last: 6}}, true},
		{"fill all", 7, []store.Gap{{First: 4, Last: 6}}, []uint64{6, 4, 5}, 7, []store.Gap{}, true},
		{"below max, in no gap (a restarted count)", 9, nil, []uint64{2}, 9, nil, false},
		{"seq 0 ignored", 1, nil, []uint64{0}, 1, nil, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, g, ch := FoldSeqs(c.max, c.gaps, c.seqs)
			if len(g) == 0 {
				g = nil
			}
			want := c.want
			if len(want) == 0 {
				want = nil
			}
			if m != c.wantMax || !slices.Equal(g, want) || ch != c.changed {
				t.Fatalf("FoldSeqs(%d, %v, %v) = %d, %v, %v; want %d, %v, %v", c.max, c.gaps, c.seqs, m, g, ch, c.wantMax, want, c.changed)
			}
		})
	}
}

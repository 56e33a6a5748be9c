package sim

import (
	"fmt"
	"testing"
)

type fatP struct {
	slot uint32
	pad  [6]uint64
}

func BenchmarkFat(b *testing.B) {
	for _, n := range []int{1e3, 1e5, 1e6} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var q wheelQueue[fatP]
			var seq uint64
			for i := 0; i < n; i++ {
				seq++
				q.push(&qentry[fatP]{at: holdDelays[i%len(holdDelays)] * Time(1+i/len(holdDelays)), seq: seq})
			}
			j := 0
			step := func() {
				e := q.popUntil(MaxTime)
				seq++
				ne := qentry[fatP]{at: e.at + holdDelays[j&(len(holdDelays)-1)], seq: seq, p: e.p}
				q.push(&ne)
				j++
			}
			for i := 0; i < 2*n; i++ {
				step()
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				step()
			}
		})
	}
}

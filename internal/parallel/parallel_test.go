package parallel

import (
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
)

// Each calls fn once per index, never more than limit at once, and joins
// the errors in index order.
func TestEach(t *testing.T) {
	for _, limit := range []int{0, 1, 3, 100} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var running, most atomic.Int64
			var calls [20]atomic.Int64
			err := Each(len(calls), limit, func(i int) error {
				now := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
				}
				calls[i].Add(1)
				if i%7 == 3 {
					return fmt.Errorf("index %d", i)
				}
				return nil
			})
			for i := range calls {
				if n := calls[i].Load(); n != 1 {
					t.Errorf("index %d called %d times", i, n)
				}
			}
			if m := most.Load(); m > int64(max(limit, 1)) {
				t.Errorf("%d ran at once, limit %d", m, limit)
			}
			want := errors.Join(errors.New("index 3"), errors.New("index 10"), errors.New("index 17"))
			if err == nil || err.Error() != want.Error() {
				t.Errorf("error %v, want %v", err, want)
			}
		})
	}
}

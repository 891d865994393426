// Package parallel runs a function over indexes with bounded concurrency,
// for the backends that drive many servers or containers at once.
package parallel

import (
	"errors"
	"sync"
)

// Each runs fn(i) for every i in [0, n), at most limit at once (at least
// one), and returns when all have returned, with their errors joined in
// index order. It starts one goroutine per index, each of which has
// exited when Each returns.
func Each(n, limit int, fn func(i int) error) error {
	sem := make(chan struct{}, max(limit, 1))
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = fn(i)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

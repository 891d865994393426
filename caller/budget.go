package caller

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Budget is a token bucket that bounds retries and hedges, in the spirit of
// gRPC's retryThrottling: it starts full, with maxTokens; every call that
// fails takes one token and every call that succeeds gives back tokenRatio,
// up to maxTokens. A retry or a hedge is sent only while more than half the
// tokens are left. A hedge, which follows slowness rather than a failure,
// also takes a token itself.
//
// So when every call fails, at most ⌈maxTokens/2⌉ retries and hedges are
// sent in total, however many calls and fan-outs share the budget, and a
// fleet-wide outage cannot become a retry storm; when calls are slow but
// succeed, hedges in the long run are at most tokenRatio per successful
// call. A fan-out to n addresses that should ride out one failure per
// address needs maxTokens above 2n. A Budget is safe for concurrent use and
// may be shared by many Callers.
type Budget struct {
	mu     sync.Mutex
	max    float64
	ratio  float64
	tokens float64
}

// NewBudget returns a full budget. maxTokens must be positive and
// tokenRatio not negative; NewBudget panics otherwise.
func NewBudget(maxTokens, tokenRatio float64) *Budget {
	if !(maxTokens > 0) || !(tokenRatio >= 0) {
		panic(fmt.Sprintf("caller: NewBudget(%v, %v): maxTokens must be > 0 and tokenRatio >= 0", maxTokens, tokenRatio))
	}
	return &Budget{max: maxTokens, ratio: tokenRatio, tokens: maxTokens}
}

// Tokens returns the tokens left.
func (b *Budget) Tokens() float64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens
}

// succeeded records a successful call.
func (b *Budget) succeeded() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.tokens+b.ratio, b.max)
	b.mu.Unlock()
}

// failed records a failed call.
func (b *Budget) failed() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.tokens = max(b.tokens-1, 0)
	b.mu.Unlock()
}

// allowRetry reports whether a retry may be sent. A nil Budget allows
// everything.
func (b *Budget) allowRetry() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tokens > b.max/2
}

// allowHedge reports whether a hedge may be sent, and if so takes its
// token. A nil Budget allows everything.
func (b *Budget) allowHedge() bool {
	if b == nil {
		return true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tokens <= b.max/2 {
		return false
	}
	b.tokens = max(b.tokens-1, 0)
	return true
}

// backoff returns the wait before retry n (n >= 1): full jitter, a random
// duration in [0, min(cap, base·2^(n-1))). A cap <= 0 means no cap.
func backoff(n int, base, cap time.Duration) time.Duration {
	ceil := backoffCeil(n, base, cap)
	if ceil <= 0 {
		return 0
	}
	return rand.N(ceil)
}

// backoffCeil is min(cap, base·2^(n-1)), without overflow.
func backoffCeil(n int, base, cap time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	ceil := base
	for i := 1; i < n; i++ {
		if ceil > (1<<62)/2 || (cap > 0 && ceil >= cap) {
			break
		}
		ceil *= 2
	}
	if cap > 0 {
		ceil = min(ceil, cap)
	}
	return ceil
}

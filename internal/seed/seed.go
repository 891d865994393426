// Package seed keeps the seed article's fan-out pattern, the baseline that
// rpcfleet's benchmarks and compatibility tests measure against: one
// goroutine per server, a sync.WaitGroup, and a fresh rpc.Dial for every
// call.
package seed

import (
	"net/rpc"
	"sync"
)

// Args and Reply are the article's own types, declared here as it declares
// them, not shared with the fleet: gob matches them by field name.
type (
	Args  struct{ Name string }
	Reply struct{ Message string }
)

// FanOut calls Service.Method on every server the article's way and returns
// the messages in completion order, with the errors it met.
func FanOut(servers []string, name string) (messages []string, errs []error) {
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	for _, server := range servers {
		wg.Add(1)
		go func(server string) {
			defer wg.Done()
			client, err := rpc.Dial("tcp", server)
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			defer client.Close()
			var reply Reply
			err = client.Call("Service.Method", &Args{Name: name}, &reply)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			messages = append(messages, reply.Message)
		}(server)
	}
	wg.Wait()
	return messages, errs
}

// Command seedclient is the seed article's client program: it calls
// Service.Method on three servers at 127.0.0.1:8080-8082 at once and prints
// each reply. Addresses given as arguments replace the three defaults (so
// tests can pick free ports); nothing else differs from the article.
package main

import (
	"fmt"
	"log"
	"net/rpc"
	"os"
	"sync"
)

type Args struct {
	Name string
}

type Reply struct {
	Message string
}

func main() {
	servers := []string{"127.0.0.1:8080", "127.0.0.1:8081", "127.0.0.1:8082"}
	if len(os.Args) > 1 {
		servers = os.Args[1:]
	}
	var wg sync.WaitGroup
	for _, server := range servers {
		wg.Add(1)
		go func(server string) {
			defer wg.Done()
			client, err := rpc.Dial("tcp", server)
			if err != nil {
				log.Fatal("dialing:", err)
			}
			defer client.Close()
			args := &Args{Name: "Alice"}
			var reply Reply
			if err := client.Call("Service.Method", args, &reply); err != nil {
				log.Fatal("call error:", err)
			}
			fmt.Println(reply.Message)
		}(server)
	}
	wg.Wait()
}

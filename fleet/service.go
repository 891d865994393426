package fleet

import (
	"fmt"

	"github.com/rpcfleet/rpcfleet/internal/wire"
)

// Args is the argument of the default service's Service.Method.
type Args = wire.Args

// Reply is the reply of the default service's Service.Method.
type Reply = wire.Reply

// service is the default receiver, registered as "Service".
type service struct {
	index int
	addr  string
}

// Method greets args.Name and names the server that answered.
func (s *service) Method(args Args, reply *Reply) error {
	reply.Message = Greeting(args.Name, s.index, s.addr)
	return nil
}

// Echo replies with args.Name unchanged. It is a second method for rules
// that target one method (method=Service.Echo).
func (s *service) Echo(args Args, reply *Reply) error {
	reply.Message = args.Name
	return nil
}

// Greeting is the message Service.Method replies with on server index at
// addr.
func Greeting(name string, index int, addr string) string {
	return fmt.Sprintf("Hello, %s! (server %d at %s)", name, index, addr)
}

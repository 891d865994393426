// Package wire holds the argument and reply types of the fleet's default
// service, Service.Method, and those of the control protocol that only its
// two ends use. Args and Reply match the seed article's client field for
// field, so gob moves them between that client and a fleet unchanged.
package wire

// Args is the argument of Service.Method.
type Args struct {
	Name string
}

// Reply is the reply of Service.Method.
type Reply struct {
	Message string
}

package faults

import (
	"fmt"
	"strconv"
	"time"
)

// Slice writes the reply in chunks of Size bytes with Gap between them
// (slice=8,gap=5ms), as a congested network delivers it.
//
// The client observes a normal reply that arrives about
// (len/Size - 1) * Gap late; replies behind it on the connection wait.
type Slice struct {
	Size int64         // bytes per chunk (slice=8, slice=1KB)
	Gap  time.Duration // pause between chunks (gap=5ms)
}

func (Slice) kind() string { return "slice" }

func (s Slice) text() string {
	return "slice=" + strconv.FormatInt(s.Size, 10) + ",gap=" + s.Gap.String()
}

func (s *Slice) set(key, val string) error {
	switch key {
	case "":
		n, err := parseSize(val)
		if err != nil {
			return fmt.Errorf("slice needs a chunk size: %v", err)
		}
		s.Size = n
		return nil
	case "gap":
		d, err := parseDuration(val)
		s.Gap = d
		return err
	}
	return errUnknownSetting
}

func (s Slice) check() error {
	if s.Gap == 0 {
		return fmt.Errorf("slice needs gap=DURATION")
	}
	return nil
}

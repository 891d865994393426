// Command failures prints the failed specs of Ginkgo JUnit reports, one
// block each, so that the last lines of a failing `make test` name them:
// Ginkgo prints a suite's failures when that suite ends, and with several
// suites in one run they scroll away under the suites that ran after it.
//
// Usage: go run ./internal/failures reports/*junit.xml
//
// It exits 0 whatever it finds (the suites' own exit status is the
// verdict), and 2 when a report cannot be read or parsed.
package main

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2/reporters"
)

// maxLines bounds what is printed of one failure's message: the first
// lines say what failed; the whole text is in the report.
const maxLines = 12

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: failures REPORT.xml...")
		os.Exit(2)
	}
	if err := run(os.Stdout, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "failures:", err)
		os.Exit(2)
	}
}

func run(w io.Writer, paths []string) error {
	n := 0
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		var suites reporters.JUnitTestSuites
		if err := xml.Unmarshal(data, &suites); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, s := range suites.TestSuites {
			for _, c := range s.TestCases {
				kind, msg, where := "", "", ""
				switch {
				case c.Failure != nil:
					kind, msg, where = c.Failure.Type, c.Failure.Message, c.Failure.Description
				case c.Error != nil:
					kind, msg, where = c.Error.Type, c.Error.Message, c.Error.Description
				default:
					continue
				}
				if n == 0 {
					fmt.Fprintln(w, "\nFailed specs:")
				}
				n++
				fmt.Fprintf(w, "\n%d. [%s] %s (%s, %.1fs)\n", n, s.Name, c.Name, kind, c.Time)
				if loc := firstLine(where); loc != "" && !strings.Contains(msg, loc) {
					fmt.Fprintf(w, "   at %s\n", loc)
				}
				fmt.Fprintln(w, indent(head(msg, maxLines)))
			}
		}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// head returns the first n lines of s, and says how many it left out.
func head(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) <= n {
		return strings.Join(lines, "\n")
	}
	return strings.Join(lines[:n], "\n") + fmt.Sprintf("\n... (%d more lines in the report)", len(lines)-n)
}

func indent(s string) string {
	return "   " + strings.ReplaceAll(s, "\n", "\n   ")
}

package container

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

func TestStatStart(t *testing.T) {
	tests := []struct {
		name, stat, want string
		wantErr          bool
	}{
		{"plain", "4242 (rpcfleet) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 7 0 987654 1000 10 18446744073709551615", "987654", false},
		{"command with spaces and parentheses", "17 (a) b (c) R 1 17 17 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 31337 0 0", "31337", false},
		{"no command", "17 a R 1", "", true},
		{"too short", "17 (a) R 1 17", "", true},
		{"start not a number", "17 (a) R 1 17 17 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 x 0 0", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := statStart(tt.stat)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("statStart = %q, %v; want %q, error %t", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestOrphaned(t *testing.T) {
	const host = "build-1"
	// On this fake host, PID 100 started at tick 5000; no other PID exists.
	procs := func(pid int) process {
		if pid == 100 {
			return process{exists: true, start: "5000"}
		}
		return process{}
	}
	noStarts := func(pid int) process { return process{exists: pid == 100} } // no /proc
	labels := func(kv ...string) map[string]string {
		m := map[string]string{LabelManaged: "true"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		labels map[string]string
		lookup func(int) process
		want   bool
	}{
		{"owner alive", labels(labelHost, host, labelPID, "100", labelStart, "5000"), procs, false},
		{"owner exited", labels(labelHost, host, labelPID, "101", labelStart, "5000"), procs, true},
		{"PID reused by another process", labels(labelHost, host, labelPID, "100", labelStart, "4000"), procs, true},
		{"another host, PID gone here", labels(labelHost, "ci-runner-7", labelPID, "101", labelStart, "5000"), procs, false},
		{"another host, PID taken here", labels(labelHost, "ci-runner-7", labelPID, "100", labelStart, "4000"), procs, false},
		{"no start time recorded", labels(labelHost, host, labelPID, "100"), procs, false},
		{"no start time readable", labels(labelHost, host, labelPID, "100", labelStart, "4000"), noStarts, false},
		{"no host label: PID alive", labels(labelPID, "100"), procs, false},
		{"no host label: PID gone", labels(labelPID, "101"), procs, true},
		{"no PID: not the backend's", labels(labelHost, host), procs, false},
		{"bad PID: not the backend's", labels(labelHost, host, labelPID, "-3"), procs, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := orphaned(tt.labels, host, tt.lookup); got != tt.want {
				t.Errorf("orphaned(%v) = %t, want %t", tt.labels, got, tt.want)
			}
		})
	}
}

// TestOwner checks this process's labels: its own lookup finds it alive.
func TestOwner(t *testing.T) {
	o := owner()
	if o[labelSession] == "" || len(o[labelSession]) != 16 {
		t.Errorf("session label %q, want 16 hex digits", o[labelSession])
	}
	if o[labelPID] != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid label %q, want %d", o[labelPID], os.Getpid())
	}
	host := hostID()
	if procMounted() && o[labelStart] == "" {
		t.Error("no start time label, though /proc is mounted")
	}
	if orphaned(ownerLabels(), host, lookup) {
		t.Error("this process's own objects count as orphaned")
	}
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil && !strings.HasSuffix(host, " "+ns) {
		t.Errorf("hostID %q does not name the PID namespace %s", host, ns)
	}
}

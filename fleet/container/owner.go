package container

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Labels naming the process that created a container or network.
const (
	labelSession = "rpcfleet.session"  // random, one per process: what Owned lists
	labelHost    = "rpcfleet.host"     // hostID of that process
	labelPID     = "rpcfleet.pid"      // its PID
	labelStart   = "rpcfleet.pidstart" // its start time (/proc/<pid>/stat field 22), "" where unknown
)

// owner is the identity of this process, as labels.
var owner = sync.OnceValue(func() map[string]string {
	id := make([]byte, 8)
	rand.Read(id)
	l := map[string]string{labelSession: hex.EncodeToString(id), labelHost: hostID(), labelPID: strconv.Itoa(os.Getpid())}
	if start, err := procStart(os.Getpid()); err == nil {
		l[labelStart] = start
	}
	return l
})

// hostID names where this process's PIDs mean something: the host name
// and the PID namespace. Two test runners in containers that share the
// host's name (--network host) but not its PIDs get different IDs, so
// neither judges the other's PIDs.
func hostID() string {
	host, _ := os.Hostname()
	if ns, err := os.Readlink("/proc/self/ns/pid"); err == nil {
		host += " " + ns
	}
	return host
}

// ownerLabels returns the labels naming this process, and LabelManaged.
func ownerLabels() map[string]string {
	l := map[string]string{LabelManaged: "true"}
	for k, v := range owner() {
		l[k] = v
	}
	return l
}

// procStart returns the start time of process pid, in clock ticks since
// boot: field 22 of /proc/<pid>/stat. With the PID it names one process
// for as long as the machine runs, whatever PIDs are reused.
func procStart(pid int) (string, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return "", err
	}
	return statStart(string(b))
}

// statStart returns field 22 of a /proc/<pid>/stat line. Field 2, the
// command in parentheses, may itself hold spaces and parentheses: the
// fields after it start after the last ')'.
func statStart(stat string) (string, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return "", errors.New("fleet/container: /proc stat: no command field")
	}
	f := strings.Fields(stat[i+1:]) // fields 3, 4, ...
	if len(f) < 22-2 {
		return "", fmt.Errorf("fleet/container: /proc stat: %d fields, want at least 22", len(f)+2)
	}
	if _, err := strconv.ParseUint(f[22-3], 10, 64); err != nil {
		return "", fmt.Errorf("fleet/container: /proc stat: start time: %w", err)
	}
	return f[22-3], nil
}

// process is what Sweep can learn of a PID on this host.
type process struct {
	exists bool
	start  string // "" if unknown
}

// lookup finds process pid on this host: its start time from /proc, or,
// without /proc, whether it exists at all.
func lookup(pid int) process {
	start, err := procStart(pid)
	switch {
	case err == nil:
		return process{exists: true, start: start}
	}
	// No /proc entry: gone, or hidden from us (hidepid), or no /proc at
	// all. A signal 0 tells them apart.
	err = syscall.Kill(pid, 0)
	return process{exists: err == nil || errors.Is(err, syscall.EPERM)}
}

func procMounted() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// orphaned reports whether the process that created an object with labels
// has exited, so that Sweep may remove it. host is this host's hostID;
// lookup finds a process on it. An object created on another host is
// never orphaned: its owner cannot be looked up here. An object without a
// host label (of an older rpcfleet) is judged by its PID alone, and one
// without a PID is not the backend's (a benchmark's, say, which removes
// its own): it is left alone.
func orphaned(labels map[string]string, host string, lookup func(pid int) process) bool {
	if h, ok := labels[labelHost]; ok && h != host {
		return false
	}
	pid, err := strconv.Atoi(labels[labelPID])
	if err != nil || pid <= 0 {
		return false
	}
	p := lookup(pid)
	if !p.exists {
		return true
	}
	want := labels[labelStart]
	// Another process under a reused PID, when both start times are known.
	return want != "" && p.start != "" && p.start != want
}

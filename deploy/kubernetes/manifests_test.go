// Package kubernetes_test checks the Kubernetes manifests of
// deploy/kubernetes without a cluster: every file decodes strictly (an
// unknown or misspelt field fails) into the Kubernetes API types, and the
// fields the attach backend (package fleet/attach) relies on agree with
// each other and with rpcfleet serve. It is a module of its own, so that
// k8s.io/api stays out of rpcfleet's build.
package kubernetes_test

import (
	"errors"
	"os"
	"slices"
	"strconv"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/rpcfleet/rpcfleet/fleet/attach"
	"github.com/rpcfleet/rpcfleet/fleet/serve"
)

// decode reads file strictly into v.
func decode(t *testing.T, file string, v any) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := strict(b, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

// strict decodes YAML into v as the API server's strict field validation
// does: an unknown field, a field in the wrong case (Go's encoding/json
// would take readOnlyRootFileSystem for readOnlyRootFilesystem) or a
// field given twice is an error.
func strict(b []byte, v any) error {
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		return err
	}
	errs, err := kjson.UnmarshalStrict(j, v)
	if err != nil {
		return err
	}
	return errors.Join(errs...)
}

// flag returns the value after name in args, or "".
func flag(args []string, name string) string {
	i := slices.Index(args, name)
	if i < 0 || i+1 >= len(args) {
		return ""
	}
	return args[i+1]
}

func TestManifests(t *testing.T) {
	var (
		sts    appsv1.StatefulSet
		svc    corev1.Service
		secret corev1.Secret
	)
	decode(t, "statefulset.yaml", &sts)
	decode(t, "service.yaml", &svc)
	decode(t, "secret.yaml", &secret)
	check := func(ok bool, format string, args ...any) {
		t.Helper()
		if !ok {
			t.Errorf(format, args...)
		}
	}
	check(sts.Kind == "StatefulSet" && svc.Kind == "Service" && secret.Kind == "Secret", "kinds: %q %q %q", sts.Kind, svc.Kind, secret.Kind)

	// The headless Service publishes one record per pod, for the pods of
	// the StatefulSet, with a port named control for SRV.
	check(svc.Spec.ClusterIP == corev1.ClusterIPNone, "Service clusterIP %q, want None (headless: A records per pod)", svc.Spec.ClusterIP)
	check(sts.Spec.ServiceName == svc.Name, "StatefulSet serviceName %q, want the Service %q", sts.Spec.ServiceName, svc.Name)
	labels := sts.Spec.Template.Labels
	for k, v := range svc.Spec.Selector {
		check(labels[k] == v, "Service selector %s=%s does not select the pods (labels %v)", k, v, labels)
	}
	for k, v := range sts.Spec.Selector.MatchLabels {
		check(labels[k] == v, "StatefulSet selector %s=%s does not match its template (labels %v)", k, v, labels)
	}

	if len(sts.Spec.Template.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want the server only", len(sts.Spec.Template.Spec.Containers))
	}
	c := sts.Spec.Template.Spec.Containers[0]
	args := c.Args
	port := func(name string) int32 {
		for _, p := range c.Ports {
			if p.Name == name {
				return p.ContainerPort
			}
		}
		return 0
	}
	svcPort := func(name string) int32 {
		for _, p := range svc.Spec.Ports {
			if p.Name == name && p.TargetPort.StrVal == name {
				return p.Port
			}
		}
		return 0
	}
	for name, flagName := range map[string]string{"rpc": "--port", "control": "--control-port"} {
		check(flag(args, flagName) == strconv.Itoa(int(port(name))), "%s %q, want the container port named %s (%d)", flagName, flag(args, flagName), name, port(name))
		check(svcPort(name) == port(name) && port(name) != 0, "Service port %s: %d, want %d targeting the port named %s", name, svcPort(name), port(name), name)
	}
	check(flag(args, "--host") == "0.0.0.0", "--host %q: the pod's IP must be served", flag(args, "--host"))
	check(flag(args, "--count") == "1", "--count %q: one server per pod", flag(args, "--count"))
	check(flag(args, "--fleet-id") != "", "--fleet-id: every server names its fleet, which attach checks")
	check(sts.Spec.Replicas != nil && flag(args, "--fleet-size") == strconv.Itoa(int(*sts.Spec.Replicas)),
		"--fleet-size %q, want the replica count", flag(args, "--fleet-size"))

	// The pod's ordinal as --index, through the pod-index label.
	check(flag(args, "--index") == "$("+serve.IndexEnv+")", "--index %q, want $(%s)", flag(args, "--index"), serve.IndexEnv)
	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	idx := env[serve.IndexEnv].ValueFrom
	check(idx != nil && idx.FieldRef != nil && idx.FieldRef.FieldPath == "metadata.labels['apps.kubernetes.io/pod-index']",
		"%s: want the pod-index label through the downward API, got %+v", serve.IndexEnv, idx)

	// The token from the Secret.
	tok := env[serve.TokenEnv].ValueFrom
	check(tok != nil && tok.SecretKeyRef != nil && tok.SecretKeyRef.Name == secret.Name, "%s: want a secretKeyRef to %q, got %+v", serve.TokenEnv, secret.Name, tok)
	if tok != nil && tok.SecretKeyRef != nil {
		_, ok := secret.StringData[tok.SecretKeyRef.Key]
		check(ok, "the Secret has no key %q", tok.SecretKeyRef.Key)
	}

	// Non-root, read-only root filesystem, resource requests.
	psc, sc := sts.Spec.Template.Spec.SecurityContext, c.SecurityContext
	check(psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot, "runAsNonRoot: want true")
	check(sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "readOnlyRootFilesystem: want true")
	check(sc != nil && sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "allowPrivilegeEscalation: want false")
	check(!c.Resources.Requests.Cpu().IsZero() && !c.Resources.Requests.Memory().IsZero(), "resource requests: want cpu and memory, got %v", c.Resources.Requests)

	// The forms the README gives for attaching parse.
	for _, s := range []string{"dns:" + svc.Name + ".default.svc.cluster.local:" + strconv.Itoa(int(port("control"))),
		"srv:_control._tcp." + svc.Name + ".default.svc.cluster.local"} {
		if _, err := attach.Parse(s); err != nil {
			t.Errorf("attach.Parse(%q): %v", s, err)
		}
	}
}

// A misspelt field fails the strict decoding the test relies on.
func TestStrictDecoding(t *testing.T) {
	var sts appsv1.StatefulSet
	for _, doc := range []string{
		"apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  replica: 3\n",
		"apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  template:\n    spec:\n      containers:\n        - name: s\n          securityContext:\n            readOnlyRootFileSystem: true\n",
	} {
		if err := strict([]byte(doc), &sts); err == nil {
			t.Errorf("a misspelt field decoded without an error:\n%s", doc)
		}
	}
}

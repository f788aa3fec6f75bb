#!/bin/sh
# t/88-container-files.t - etc/container/ checked with what this machine
# has (no container engine): the Containerfile is multi-stage on Debian 12,
# runs as a numeric non-root user, and its runtime stage installs the
# package of every shared library the binaries of this build link
# against, and it is built from sources only; the Kubernetes manifest
# parses and has the security context, probes (startup, readiness before
# liveness), preStop delay, grace period, disruption budget, Secret and
# volumes the daemon needs, and its ConfigMap is the image's
# configuration; the probe command is a valid tlsward command.
# (t/87-nonroot.t runs the daemon the way the image does.)
. "$TOP_SRCDIR/t/lib.sh"
tap_setup

CF=$TOP_SRCDIR/etc/container/Containerfile
K8S=$TOP_SRCDIR/etc/container/tlsward.yaml

# ---- Containerfile
froms=$(grep -c '^FROM ' "$CF")
ok $(( froms >= 2 ? 0 : 1 )) "multi-stage ($froms FROM lines)"
like "$(grep '^FROM ' "$CF" | head -n 1)" 'debian:12 AS build$' "the build stage is Debian 12"
like "$(grep '^FROM ' "$CF" | tail -n 1)" 'debian:12-slim$' "the run stage is Debian 12 slim"
final=$(awk '/^FROM /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$CF")
user=$(echo "$final" | sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\1/p')
ok $(( ${user:-0} > 0 ? 0 : 1 )) "the run stage has a numeric non-root USER ($user)"
like "$(echo "$final" | grep '^ENTRYPOINT')" '"/usr/sbin/tlswardd", "-f"' "tlswardd runs in the foreground (logs to stderr)"
like "$(echo "$final" | grep '^STOPSIGNAL')" 'SIGTERM' "SIGTERM stops it (and drains)"
like "$(echo "$final" | grep '^COPY etc/container')" 'main\.cf etc/container/services\.cf /etc/tlsward/' \
    "the image's configuration is etc/container's"
runtime=$(echo "$final" | sed -n '/apt-get install/,/rm -rf/p' | tr ' \\' '\n\n' | grep -E '^lib[a-z0-9.+-]+$' | sort -u)
if command -v dpkg >/dev/null 2>&1; then
	missing=
	for bin in "$TOP_BUILDDIR/daemon/tlswardd" "$TOP_BUILDDIR/cli/tlsward"; do
		for lib in $(ldd "$bin" | awk '$3 ~ /^\// { print $3 }'); do
			case $lib in */libasan*|*/libubsan*|*/liblsan*|*/libstdc++*|*/libgcc_s*) continue ;; esac
			pkg=$(dpkg -S "$(readlink -f "$lib")" 2>/dev/null | head -n 1 | cut -d: -f1)
			[ -z "$pkg" ] && pkg=$(dpkg -S "$lib" 2>/dev/null | head -n 1 | cut -d: -f1)
			[ "$pkg" = libc6 ] && continue	# in every Debian base image
			echo "$runtime" | grep -qx "$pkg" || missing="$missing $pkg($lib)"
		done
	done
	is "${missing:-none}" none "the run stage installs the package of every library tlswardd and tlsward link against"
	diag "run-stage packages: $(echo $runtime)"
else
	skip "runtime libraries" "no dpkg"
fi

# ---- a clean build: sources only, a fresh build directory, -Werror
build=$(sed -n '/^FROM .* AS build$/,/^FROM /p' "$CF" | sed -e ':a' -e '/\\$/N; s/\\\n//; ta')
like "$(echo "$build" | grep '^RUN .*configure')" 'mkdir /build +&& +cd /build +&& +/src/configure .*--enable-werror' \
    "the image is built out of tree, in a fresh directory, warnings as errors"
like "$(echo "$build" | grep '^RUN .*configure')" "find \\. .*'\\*\\.o'.*config\\.status.*exit 1" \
    "the build stops on a context with host objects or configure results"
unlike "$(echo "$build" | grep '^RUN .*configure')" '(^| )\./configure|make distclean' \
    "and never configures in the copied tree"
like "$(grep '^HEALTHCHECK' "$CF")" 'status' "a HEALTHCHECK (tlsward status)"
like "$(sed -n '1,/^FROM/p' "$CF")" 'podman build --format docker' \
    "the header says podman keeps HEALTHCHECK only with --format docker"
like "$(sed -n '1,/^FROM/p' "$CF")" ':ro,Z ' "and mounts the secrets with ,Z (SELinux)"
CI=$TOP_SRCDIR/.containerignore
cmp -s "$CI" "$TOP_SRCDIR/.dockerignore"
ok $? ".containerignore (podman) and .dockerignore (docker) are the same list"
# Every file a build makes (this build directory's, as if it were built
# in the source tree) is left out of the build context, and no source
# file is: the matching of podman and docker (patterns anchored at the
# context's root, "**" any number of directories, a match of a parent
# directory excludes what is below it, the last matching line wins).
if [ "$TOP_BUILDDIR" != "$TOP_SRCDIR" ]; then
	(cd "$TOP_BUILDDIR" && find . -type f -o -type l) | sed 's|^\./||' > "$T/built"
else
	git -C "$TOP_SRCDIR" ls-files -o -i --exclude-standard > "$T/built" 2>/dev/null || : > "$T/built"
fi
git -C "$TOP_SRCDIR" ls-files > "$T/sources" 2>/dev/null || : > "$T/sources"
python3 - "$CI" "$T/built" "$T/sources" > "$T/ignore.out" <<'PY'
import re, sys
rules = []
for line in open(sys.argv[1]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    neg = line.startswith("!")
    pat = line.lstrip("!").strip("/")
    rx, i = "", 0
    while i < len(pat):
        if pat.startswith("**/", i):
            rx, i = rx + "(?:.*/)?", i + 3
        elif pat.startswith("**", i):
            rx, i = rx + ".*", i + 2
        elif pat[i] == "*":
            rx, i = rx + "[^/]*", i + 1
        elif pat[i] == "?":
            rx, i = rx + "[^/]", i + 1
        else:
            rx, i = rx + re.escape(pat[i]), i + 1
    rules.append((neg, re.compile(rx + "$")))
def excluded(path):
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    out = False
    for neg, rx in rules:
        if any(rx.match(p) for p in prefixes):
            out = not neg
    return out
built = [l.strip() for l in open(sys.argv[2]) if l.strip()]
sources = [l.strip() for l in open(sys.argv[3]) if l.strip()]
print("built %d" % len(built))
print("sources %d" % len(sources))
for p in built:
    if not excluded(p):
        print("kept " + p)
for p in sources:
    if excluded(p) and p not in built:
        print("dropped " + p)
    elif p in built:
        print("tracked %s (a build product in git)" % p)
PY
n=$(sed -n 's/^built //p' "$T/ignore.out")
ok "$([ "${n:-0}" -gt 20 ] && ! grep -q '^kept ' "$T/ignore.out"; echo $?)" \
    "the build context leaves out every one of the $n files a build makes"
grep '^kept ' "$T/ignore.out" | head -n 20 | while read -r l; do diag "$l"; done
if [ "$(sed -n 's/^sources //p' "$T/ignore.out")" -gt 0 ]; then
	ok "$(grep -q '^dropped ' "$T/ignore.out"; [ $? -ne 0 ]; echo $?)" \
	    "and keeps every source file (git ls-files)"
	grep -E '^(dropped|tracked) ' "$T/ignore.out" | head -n 20 | while read -r l; do diag "$l"; done
else
	skip "every source file kept" "not a git checkout"
fi
# The configuration directory is in config.h, so a reconfigured tree
# rebuilds what uses it (a -D flag in the Makefile would not).
like "$(grep TLSWARD_CONFDIR "$TOP_BUILDDIR/config.h")" '^#define TLSWARD_CONFDIR "/' \
    "config.h defines the configuration directory"
unlike "$(grep -E '^(AM_CPPFLAGS|AM_CFLAGS|[a-z_]+_CPPFLAGS) *=' -A2 "$TOP_SRCDIR/Makefile.am")" '\-D[A-Z_]*(DIR|PATH)' \
    "Makefile.am passes no path as a -D flag"

# ---- the Kubernetes manifest
python3 -c 'import yaml' 2>/dev/null || { skip_rest=1; }
if [ -n "${skip_rest:-}" ]; then
	skip "the manifest" "no python3-yaml"
	tap_done; exit 0
fi
python3 - "$K8S" "$TOP_SRCDIR/etc/container" "$user" > "$T/k8s.out" 2>&1 <<'PY'
import os, re, shlex, sys, yaml
path, cdir, image_uid = sys.argv[1], sys.argv[2], int(sys.argv[3])
docs = list(yaml.safe_load_all(open(path)))
def check(cond, name):
    print(("ok " if cond else "not ok ") + name)
kinds = {d["kind"]: d for d in docs}
check(sorted(kinds) == ["ConfigMap", "Deployment", "PodDisruptionBudget", "Service"],
      "a ConfigMap, a Deployment, a PodDisruptionBudget and a Service")
dep, svc, cm = kinds["Deployment"], kinds["Service"], kinds["ConfigMap"]
pdb = kinds.get("PodDisruptionBudget", {"spec": {}})
pod = dep["spec"]["template"]["spec"]
psc = pod.get("securityContext", {})
check(psc.get("runAsNonRoot") is True, "pod: runAsNonRoot")
check(psc.get("runAsUser") == image_uid, "pod: runAsUser is the image's USER (%s)" % psc.get("runAsUser"))
check(psc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod: seccompProfile RuntimeDefault")
c = [x for x in pod["containers"] if x["name"] == "tlswardd"][0]
sc = c.get("securityContext", {})
check(sc.get("readOnlyRootFilesystem") is True, "container: readOnlyRootFilesystem")
check(sc.get("runAsNonRoot") is True, "container: runAsNonRoot")
check(sc.get("allowPrivilegeEscalation") is False, "container: allowPrivilegeEscalation false")
check(sc.get("capabilities", {}).get("drop") == ["ALL"], "container: capabilities drop ALL")
check(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "container: seccompProfile RuntimeDefault")
for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
    cmd = c.get(probe, {}).get("exec", {}).get("command", [])
    check(cmd[:1] == ["/usr/bin/tlsward"] and "status" in cmd, "%s asks the daemon (%s)" % (probe, " ".join(cmd)))
    print("probe " + " ".join(shlex.quote(a) for a in cmd))
def window(p):  # seconds of failures before the probe acts
    p = c.get(p, {})
    return p.get("periodSeconds", 10) * p.get("failureThreshold", 3)
check(window("startupProbe") >= 30, "the startup probe gives the first start %ds" % window("startupProbe"))
check(window("readinessProbe") < window("livenessProbe"),
      "readiness (%ds) acts before liveness (%ds): out of the Service first, restarted later"
      % (window("readinessProbe"), window("livenessProbe")))
check("initialDelaySeconds" not in c.get("livenessProbe", {}), "liveness waits for the startup probe, not a fixed delay")
for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
    p = c.get(probe, {})
    check(p.get("timeoutSeconds", 1) <= p.get("periodSeconds", 10), "%s: timeout within its period" % probe)
pre = c.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
check(pre[:1] == ["/bin/sleep"] and int(pre[1]) > 0, "preStop waits (%s) before SIGTERM closes the listeners" % " ".join(pre))
prestop = int(pre[1]) if pre[:1] == ["/bin/sleep"] else 0
check(pdb["spec"].get("selector", {}).get("matchLabels", {}).items() <= dep["spec"]["template"]["metadata"]["labels"].items()
      and pdb["spec"].get("selector", {}).get("matchLabels"), "the PodDisruptionBudget selects the pods")
check(0 < pdb["spec"].get("minAvailable", 0) < dep["spec"].get("replicas", 1),
      "and keeps %s of %s replicas (evictions can proceed)" % (pdb["spec"].get("minAvailable"), dep["spec"].get("replicas")))
check(c.get("resources", {}).get("limits", {}).get("memory"), "a memory limit (tlswardd sizes its session limit to it)")
mounts = {m["name"]: m for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
main_cf = cm["data"]["main.cf"]
check(main_cf == open(os.path.join(cdir, "main.cf")).read(), "the ConfigMap's main.cf is etc/container/main.cf")
check(cm["data"]["services.cf"] == open(os.path.join(cdir, "services.cf")).read(), "the ConfigMap's services.cf is etc/container/services.cf")
param = dict(re.findall(r"^(\w+) = (.*)$", main_cf, re.M))
cfg = [n for n, m in mounts.items() if m["mountPath"] == "/etc/tlsward"]
check(cfg and vols[cfg[0]].get("configMap", {}).get("name") == cm["metadata"]["name"] and mounts[cfg[0]].get("readOnly"),
      "the ConfigMap is /etc/tlsward, read-only")
secdir = os.path.dirname(param["tlsproxy_tls_cert_file"])
sec = [n for n, m in mounts.items() if m["mountPath"] == secdir]
check(sec and "secretName" in vols[sec[0]].get("secret", {}) and "subPath" not in mounts[sec[0]],
      "a Secret is mounted (whole, so updates arrive) where main.cf takes the key (%s)" % secdir)
check(os.path.dirname(param["tlsproxy_tls_key_file"]) == secdir, "the key is in the Secret too")
run = [n for n, m in mounts.items() if m["mountPath"] == os.path.dirname(param["tlsproxy_admin_socket"])]
check(run and "emptyDir" in vols[run[0]], "the admin socket is on a writable emptyDir")
drain = int(param["tlsproxy_drain_timeout"].rstrip("s"))
grace = param.get("tlsproxy_stop_grace_time", "0").rstrip("s")
check(pod.get("terminationGracePeriodSeconds", 30) > prestop + int(grace) + drain,
      "terminationGracePeriodSeconds exceeds preStop + tlsproxy_stop_grace_time + tlsproxy_drain_timeout")
listen = open(os.path.join(cdir, "services.cf")).read().split("\n")[-2].split()[1]
port = int(listen.rsplit(":", 1)[1])
cports = {p["name"]: p["containerPort"] for p in c["ports"]}
check(port in cports.values(), "the container port is services.cf's (%d)" % port)
check(all(p["targetPort"] in cports for p in svc["spec"]["ports"]), "the Service targets it")
check(svc["spec"]["selector"].items() <= dep["spec"]["template"]["metadata"]["labels"].items(), "the Service selects the pods")
PY
while read -r line; do
	case $line in
	"ok "*) ok 0 "${line#ok }" ;;
	"not ok "*) ok 1 "${line#not ok }" ;;
	esac
done < "$T/k8s.out"
grep -Eq '^(not )?ok ' "$T/k8s.out" || { diag "$(cat "$T/k8s.out")"; ok 1 "the manifest checks ran"; }

# The probe command is a valid tlsward invocation: without a daemon it
# fails with 1 (not 2, a usage error).
probe=$(sed -n 's/^probe //p' "$T/k8s.out" | head -n 1)
mkdir "$T/etc"
printf 'tlsproxy_admin_socket = %s/none.sock\n' "$T" > "$T/etc/main.cf"
cmd=$(echo "$probe" | sed -e "s|^/usr/bin/tlsward |'$TLSWARD' |" -e "s| /etc/tlsward | '$T/etc' |")
eval "$cmd" >/dev/null 2>&1
is "$?" 1 "the probe command parses (without a daemon: 1, not a usage error)"
tap_done

#!/bin/sh
# t/88-container-files.t - etc/container/ checked with what this machine
# has (no container engine): the Containerfile is multi-stage on Debian 12,
# runs as a numeric non-root user, and its runtime stage installs the
# package of every shared library the binaries of this build link
# against; the Kubernetes manifest parses and has the security context,
# probes, Secret and volumes the daemon needs, and its ConfigMap is the
# image's configuration; the probe command is a valid tlsward command.
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
check(sorted(kinds) == ["ConfigMap", "Deployment", "Service"], "a ConfigMap, a Deployment and a Service")
dep, svc, cm = kinds["Deployment"], kinds["Service"], kinds["ConfigMap"]
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
for probe in ("readinessProbe", "livenessProbe"):
    cmd = c.get(probe, {}).get("exec", {}).get("command", [])
    check(cmd[:1] == ["/usr/bin/tlsward"] and "status" in cmd, "%s asks the daemon (%s)" % (probe, " ".join(cmd)))
    print("probe " + " ".join(shlex.quote(a) for a in cmd))
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
check(pod.get("terminationGracePeriodSeconds", 30) > drain, "terminationGracePeriodSeconds exceeds tlsproxy_drain_timeout")
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

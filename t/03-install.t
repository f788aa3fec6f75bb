#!/bin/sh
# t/03-install.t - "make install" of this build into a staging directory
# (DESTDIR): the programs; the sample main.cf and services.cf in the
# configuration directory, never replacing one that exists; the systemd
# units with this build's paths; the tmpfiles.d snippet for the admin
# socket's directory. "make uninstall" leaves what README says: changed
# configuration files, keys and certificates, nothing else. A failed
# creation of the worker's user stops the install. And a fresh
# installation's CLI: the subcommands that write create a missing
# configuration directory.
. "$TOP_SRCDIR/t/lib.sh"
tap_setup
[ -f "$TOP_BUILDDIR/Makefile" ] || skip_all "no Makefile in $TOP_BUILDDIR"
command -v make >/dev/null 2>&1 || skip_all "no make"

R=$T/root
# A make of our own, not a job of the "make check" that runs this test.
# The unit directories are the test's, under DESTDIR like everything else.
mk() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$TOP_BUILDDIR" \
	    DESTDIR="$R" systemdsystemunitdir=/units tmpfilesdir=/tmpfiles \
	    "$@" > "$T/make.out" 2>&1
}
confdir=$("$TLSWARD" --help | sed -n 's/.*else \(\/.*\))$/\1/p')
units=$(sed -n 's/^systemdsystemunitdir = //p' "$TOP_BUILDDIR/Makefile")
tmpfiles=$(sed -n 's/^tmpfilesdir = //p' "$TOP_BUILDDIR/Makefile")

# ---- install
mk install
rc=$?
is "$rc" 0 "make install DESTDIR=... succeeds"
[ "$rc" -eq 0 ] || diag "$(tail -n 30 "$T/make.out")"
sbin=$(find "$R" -type f -name tlswardd | head -n 1)
bin=$(find "$R" -type f -name tlsward | head -n 1)
ok "$([ -x "$sbin" ] && [ -x "$bin" ]; echo $?)" "tlswardd and tlsward are installed"
for f in main.cf services.cf; do
	cmp -s "$TOP_SRCDIR/etc/$f" "$R$confdir/$f"
	ok $? "the sample $f is in the configuration directory ($confdir)"
done
is "$(stat -c %a "$R$confdir" 2>/dev/null)" 755 "the configuration directory is 0755"

if [ "$units" = no ]; then
	skip "systemd units" "configured --with-systemdsystemunitdir=no"
else
	svc=$R/units/tlswardd.service
	ok "$([ -f "$svc" ] && [ -f "$R/units/tlswardd.socket" ]; echo $?)" \
	    "tlswardd.service and tlswardd.socket are in the unit directory"
	unlike "$(cat "$svc")" '@[a-z]+@' "no placeholder is left in the unit"
	start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$svc")
	reload=$(sed -n 's/^ExecReload=\([^ ]*\) .*/\1/p' "$svc")
	is "$R$start" "$sbin" "ExecStart is the installed tlswardd ($start)"
	is "$R$reload" "$bin" "ExecReload is the installed tlsward ($reload)"
	like "$(sed -n 's/^ExecStart=//p' "$svc")" " -c $confdir\$" \
	    "and the configuration directory is this build's"
fi
if [ "$tmpfiles" = no ]; then
	skip "tmpfiles.d snippet" "configured --with-tmpfilesdir=no"
else
	tf=$R/tmpfiles/tlswardd.conf
	sock=$("$TLSWARD" -c "$T" config -d tlsproxy_admin_socket | sed 's/.* = //')
	like "$(grep -v '^#' "$tf" 2>/dev/null)" "^d $(dirname "$sock") 0755 root root" \
	    "the tmpfiles.d snippet makes the admin socket's directory ($(dirname "$sock"))"
	if command -v systemd-tmpfiles >/dev/null 2>&1; then
		systemd-tmpfiles --root="$T/boot" --create "$tf" 2>"$T/tmpfiles.err"
		is "$?.$(stat -c %a "$T/boot$(dirname "$sock")" 2>/dev/null)" 0.755 \
		    "systemd-tmpfiles takes it and makes the directory"
	else
		skip "systemd-tmpfiles takes it" "no systemd-tmpfiles"
	fi
fi

# ---- a second install keeps the configuration
printf '# mine\n' >> "$R$confdir/main.cf"
cp "$R$confdir/main.cf" "$T/main.cf.mine"
mk install
is "$?" 0 "a second make install succeeds"
cmp -s "$T/main.cf.mine" "$R$confdir/main.cf"
ok $? "and leaves the changed main.cf as it was"
like "$(cat "$T/make.out")" "main.cf exists: not replaced" "and says so"

# ---- uninstall: what README says stays
"$TLSWARD" -c "$R$confdir" enable-server localhost > "$T/enable.out" 2>&1
is "$?" 0 "enable-server on the installed configuration"
mk uninstall
is "$?" 0 "make uninstall succeeds"
left=$(cd "$R" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
key=$(sed -n 's/^smtpd_tls_key_file = //p' "$R$confdir/main.cf")
cert=$(sed -n 's/^smtpd_tls_cert_file = //p' "$R$confdir/main.cf")
want=$(printf '%s\n' "${cert#"$R"/}" "${key#"$R"/}" "${confdir#/}/main.cf" | sort | tr '\n' ' ')
is "$left" "$want" "left: the changed main.cf, the key and the certificate; nothing else"
like "$(cat "$T/make.out")" "main.cf changed: kept" "make uninstall says it kept main.cf"

# A configuration nobody changed goes with the rest (as distcheck wants).
rm -rf "$R"
mk install && mk uninstall
is "$?" 0 "install and uninstall of an untouched installation"
is "$(find "$R" -type f | wc -l)" 0 "leave no file"
ok "$([ ! -d "$R$confdir" ]; echo $?)" "and no configuration directory"

# ---- the worker's user: a failed useradd stops a root install
mkdir "$T/fake"
printf '#!/bin/sh\necho 0\n' > "$T/fake/id"
printf '#!/bin/sh\nexit 2\n' > "$T/fake/getent"
printf '#!/bin/sh\necho "useradd: cannot lock /etc/passwd" >&2\nexit 10\n' > "$T/fake/useradd"
chmod +x "$T/fake/id" "$T/fake/getent" "$T/fake/useradd"
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL PATH="$T/fake:$PATH" \
    make -C "$TOP_BUILDDIR" install-exec-hook DESTDIR= > "$T/make.out" 2>&1
rc=$?
ok "$([ "$rc" -ne 0 ]; echo $?)" "a useradd that fails fails make install (exit $rc)"
like "$(cat "$T/make.out")" "cannot create the system user tlsward" "with the reason"

# ---- a fresh installation's CLI: no configuration directory yet
out=$(umask 077; "$TLSWARD" -c "$T/new/dir" enable-server localhost 2>&1)
is "$?" 0 "enable-server on a missing configuration directory"
[ -n "$out" ] && diag "$out"
is "$(stat -c %a "$T/new" "$T/new/dir" 2>/dev/null | tr '\n' ' ')" "755 755 " \
    "creates it and its parent, 0755 whatever the umask"
key=$(sed -n 's/^smtpd_tls_key_file = //p' "$T/new/dir/main.cf" 2>/dev/null)
ok "$([ -f "$key" ]; echo $?)" "the key is there and main.cf names it"
out=$(cd "$T" && "$TLSWARD" -c rel/conf enable-server localhost 2>&1)
is "$?" 0 "enable-server with a relative, missing -c directory"
like "$(sed -n 's/^smtpd_tls_key_file = //p' "$T/rel/conf/main.cf" 2>/dev/null)" "^$T/rel/conf/key-" \
    "writes absolute file names into main.cf"
"$TLSWARD" -c "$T/cfg/dir" config -e 'myhostname = a.example' 2>/dev/null
is "$?.$(cat "$T/cfg/dir/main.cf" 2>/dev/null)" "0.myhostname = a.example" "config -e creates it too"
"$TLSWARD" -c "$T/ro/dir" config -n > /dev/null 2>&1
is "$?" 1 "a reading subcommand reports it missing"
ok "$([ ! -e "$T/ro" ]; echo $?)" "and creates nothing"
: > "$T/file"
out=$("$TLSWARD" -c "$T/file/dir" enable-server localhost 2>&1)
is "$?" 1 "a directory that cannot be made: exit 1"
like "$out" "cannot create directory $T/file/dir: $T/file is not a directory" "with a clear message"
tap_done

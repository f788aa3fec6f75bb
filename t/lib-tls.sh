# t/lib-tls.sh - helpers for the TLS policy tests (sourced after t/lib.sh):
# a throw-away PKI in $P (set P before calling), and feeding one line to
# a TLS client.
#
#   mkca NAME CN [ISSUER]        CA: $P/NAME.crt/.key (self-signed or under ISSUER)
#   mkleaf NAME ISSUER CN DNS... leaf for serverAuth+clientAuth with SANs
#   feed TEXT CMD...             TEXT on CMD's stdin until CMD printed or ended
#   tls_line PORT TEXT [args]    feed TEXT to openssl s_client on 127.0.0.1:PORT

# ---- a test PKI (EC keys: quick), made for this run only
mkca() {	# mkca NAME CN [ISSUER]: a CA, self-signed or under ISSUER
	if [ -z "${3:-}" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$P/$1.key" -out "$P/$1.crt" -days 2 -subj "/CN=$2" \
		    -addext basicConstraints=critical,CA:TRUE \
		    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
	else
		openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		    -keyout "$P/$1.key" -out "$P/$1.csr" -subj "/CN=$2" 2>/dev/null
		printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n' > "$P/$1.ext"
		openssl x509 -req -in "$P/$1.csr" -CA "$P/$3.crt" -CAkey "$P/$3.key" \
		    -CAcreateserial -days 2 -out "$P/$1.crt" -extfile "$P/$1.ext" 2>/dev/null
	fi
}
mkleaf() {	# mkleaf NAME ISSUER CN DNSNAME...
	_n=$1 _ca=$2 _cn=$3; shift 3
	_san=$(printf 'DNS:%s,' "$@"); _san=${_san%,}
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$P/$_n.key" -out "$P/$_n.csr" -subj "/CN=$_cn" 2>/dev/null
	printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' \
	    "$_san" > "$P/$_n.ext"
	openssl x509 -req -in "$P/$_n.csr" -CA "$P/$_ca.crt" -CAkey "$P/$_ca.key" \
	    -CAcreateserial -days 2 -out "$P/$_n.crt" -extfile "$P/$_n.ext" 2>/dev/null
}

# feed TEXT CMD...: TEXT on CMD's stdin, which stays open until CMD has
# printed something, or ended, or 5 s have passed (so a slow machine is
# no failure and a refused session costs no waiting); prints the output.
feed() {
	_x=$1; shift
	rm -f "$T/feed.out" "$T/feed.done"
	( printf '%s\n' "$_x"; _i=0
	  while [ $_i -lt 50 ] && ! grep -q . "$T/feed.out" 2>/dev/null &&
	      [ ! -e "$T/feed.done" ]; do sleep 0.1; _i=$((_i + 1)); done ) |
	    { "$@" > "$T/feed.out" 2>/dev/null; touch "$T/feed.done"; }
	cat "$T/feed.out"
}
tls_line() {	# tls_line PORT TEXT [s_client args]
	_p=$1 _x=$2; shift 2
	feed "$_x" timeout 10 openssl s_client -quiet -no_ign_eof \
	    -connect "127.0.0.1:$_p" "$@"
}

/*
 * conf_params.c - the built-in parameter table: every parameter tlsward
 * knows, with its Postfix 3.7 default (as "postconf -d" prints it) and its
 * value type. Sorted by name in C (strcmp) order for bsearch; a unit test
 * keeps it sorted and free of duplicates.
 *
 * Runs in: the CLI and the privileged supervisor. Owns: read-only data.
 *
 * Every default is Postfix's ("postconf -d" of Debian's 3.7.11; t/unit/
 * test_conf_types and t/43-postfix-params.t compare), but these, because
 * tlsward does not implement Postfix's compatibility levels, relational
 * expressions or "stress", and is not Postfix:
 *   smtpd_starttls_timeout         300s (the value when not under stress)
 *   smtp_tls_dane_insecure_mx_policy  may (the value unless the security
 *                                  level is dane)
 *   config_directory               the directory given to conf_new (-c)
 * Computed at run time (conf_def_runtime), as Postfix does: the
 * *_fingerprint_digest (md5 below compatibility_level 3.6, else sha256,
 * Postfix's relational expression evaluated), myhostname
 * (gethostname(), with ".$mydomain" or ".localdomain" appended when it
 * has no dot), mydomain (myhostname minus its first label, else
 * "localdomain"); and tlsward's tlsproxy_admin_socket and
 * tlsproxy_pid_file (one per configuration directory: conf_instance.c).
 * tlsproxy_* parameters that Postfix does not have ("tlswardd" above
 * them) have tlsward's own defaults.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "conf_int.h"

const char conf_def_runtime[] = "(computed at run time)";

static const struct conf_param conf_params[] = {
	{ "compatibility_level", "0", CONF_T_STR },
	{ "config_directory", conf_def_runtime, CONF_T_STR },
	{ "data_directory", "/var/lib/postfix", CONF_T_STR },
	{ "mail_name", "Postfix", CONF_T_STR },
	{ "mydomain", conf_def_runtime, CONF_T_STR },
	{ "myhostname", conf_def_runtime, CONF_T_STR },
	{ "queue_directory", "/var/spool/postfix", CONF_T_STR },
	{ "smtp_enforce_tls", "no", CONF_T_BOOL },
	{ "smtp_starttls_timeout", "300s", CONF_T_TIME },
	{ "smtp_tls_CAfile", "", CONF_T_STR },
	{ "smtp_tls_CApath", "", CONF_T_STR },
	{ "smtp_tls_block_early_mail_reply", "no", CONF_T_BOOL },
	{ "smtp_tls_cert_file", "", CONF_T_STR },
	{ "smtp_tls_chain_files", "", CONF_T_STR },
	{ "smtp_tls_ciphers", "medium", CONF_T_GRADE },
	{ "smtp_tls_connection_reuse", "no", CONF_T_BOOL },
	/* may: Postfix's default unless smtp_tls_security_level = dane */
	{ "smtp_tls_dane_insecure_mx_policy", "may", CONF_T_STR },
	{ "smtp_tls_dcert_file", "", CONF_T_STR },
	{ "smtp_tls_dkey_file", "$smtp_tls_dcert_file", CONF_T_STR },
	{ "smtp_tls_eccert_file", "", CONF_T_STR },
	{ "smtp_tls_eckey_file", "$smtp_tls_eccert_file", CONF_T_STR },
	{ "smtp_tls_enforce_peername", "yes", CONF_T_BOOL },
	{ "smtp_tls_exclude_ciphers", "", CONF_T_STR },
	{ "smtp_tls_fingerprint_cert_match", "", CONF_T_STR },
	/* md5 below compatibility_level 3.6, else sha256 */
	{ "smtp_tls_fingerprint_digest", conf_def_runtime, CONF_T_DIGEST },
	{ "smtp_tls_force_insecure_host_tlsa_lookup", "no", CONF_T_BOOL },
	{ "smtp_tls_key_file", "$smtp_tls_cert_file", CONF_T_STR },
	{ "smtp_tls_loglevel", "0", CONF_T_INT },
	{ "smtp_tls_mandatory_ciphers", "medium", CONF_T_GRADE },
	{ "smtp_tls_mandatory_exclude_ciphers", "", CONF_T_STR },
	{ "smtp_tls_mandatory_protocols", ">=TLSv1", CONF_T_PROTOCOLS },
	{ "smtp_tls_note_starttls_offer", "no", CONF_T_BOOL },
	{ "smtp_tls_per_site", "", CONF_T_STR },
	{ "smtp_tls_policy_maps", "", CONF_T_STR },
	{ "smtp_tls_protocols", ">=TLSv1", CONF_T_PROTOCOLS },
	{ "smtp_tls_scert_verifydepth", "9", CONF_T_INT },
	{ "smtp_tls_secure_cert_match", "nexthop, dot-nexthop", CONF_T_STR },
	{ "smtp_tls_security_level", "", CONF_T_LEVEL },
	{ "smtp_tls_servername", "", CONF_T_STR },
	{ "smtp_tls_session_cache_database", "", CONF_T_STR },
	{ "smtp_tls_session_cache_timeout", "3600s", CONF_T_TIME },
	{ "smtp_tls_trust_anchor_file", "", CONF_T_STR },
	{ "smtp_tls_verify_cert_match", "hostname", CONF_T_STR },
	{ "smtp_tls_wrappermode", "no", CONF_T_BOOL },
	{ "smtp_use_tls", "no", CONF_T_BOOL },
	{ "smtpd_enforce_tls", "no", CONF_T_BOOL },
	/* 300s: Postfix's ${stress?{10}:{300}}s without stress */
	{ "smtpd_starttls_timeout", "300s", CONF_T_TIME },
	{ "smtpd_tls_CAfile", "", CONF_T_STR },
	{ "smtpd_tls_CApath", "", CONF_T_STR },
	{ "smtpd_tls_always_issue_session_ids", "yes", CONF_T_BOOL },
	{ "smtpd_tls_ask_ccert", "no", CONF_T_BOOL },
	{ "smtpd_tls_auth_only", "no", CONF_T_BOOL },
	{ "smtpd_tls_ccert_verifydepth", "9", CONF_T_INT },
	{ "smtpd_tls_cert_file", "", CONF_T_STR },
	{ "smtpd_tls_chain_files", "", CONF_T_STR },
	{ "smtpd_tls_ciphers", "medium", CONF_T_GRADE },
	{ "smtpd_tls_dcert_file", "", CONF_T_STR },
	{ "smtpd_tls_dh1024_param_file", "", CONF_T_STR },
	{ "smtpd_tls_dh512_param_file", "", CONF_T_STR },
	{ "smtpd_tls_dkey_file", "$smtpd_tls_dcert_file", CONF_T_STR },
	{ "smtpd_tls_eccert_file", "", CONF_T_STR },
	{ "smtpd_tls_eckey_file", "$smtpd_tls_eccert_file", CONF_T_STR },
	{ "smtpd_tls_eecdh_grade", "auto", CONF_T_EECDH },
	{ "smtpd_tls_exclude_ciphers", "", CONF_T_STR },
	/* md5 below compatibility_level 3.6, else sha256 */
	{ "smtpd_tls_fingerprint_digest", conf_def_runtime, CONF_T_DIGEST },
	{ "smtpd_tls_key_file", "$smtpd_tls_cert_file", CONF_T_STR },
	{ "smtpd_tls_loglevel", "0", CONF_T_INT },
	{ "smtpd_tls_mandatory_ciphers", "medium", CONF_T_GRADE },
	{ "smtpd_tls_mandatory_exclude_ciphers", "", CONF_T_STR },
	{ "smtpd_tls_mandatory_protocols", ">=TLSv1", CONF_T_PROTOCOLS },
	{ "smtpd_tls_protocols", ">=TLSv1", CONF_T_PROTOCOLS },
	{ "smtpd_tls_received_header", "no", CONF_T_BOOL },
	{ "smtpd_tls_req_ccert", "no", CONF_T_BOOL },
	{ "smtpd_tls_security_level", "", CONF_T_LEVEL },
	{ "smtpd_tls_session_cache_database", "", CONF_T_STR },
	{ "smtpd_tls_session_cache_timeout", "3600s", CONF_T_TIME },
	{ "smtpd_tls_wrappermode", "no", CONF_T_BOOL },
	{ "smtpd_use_tls", "no", CONF_T_BOOL },
	{ "syslog_facility", "mail", CONF_T_STR },
	{ "syslog_name",
	    "${multi_instance_name?{$multi_instance_name}:{postfix}}",
	    CONF_T_STR },
	{ "tls_append_default_CA", "no", CONF_T_BOOL },
	{ "tls_config_file", "default", CONF_T_STR },
	{ "tls_config_name", "", CONF_T_STR },
	{ "tls_daemon_random_bytes", "32", CONF_T_INT },
	{ "tls_dane_digests", "sha512 sha256", CONF_T_STR },
	{ "tls_disable_workarounds", "", CONF_T_STR },
	{ "tls_eecdh_auto_curves",
	    "X25519 X448 prime256v1 secp521r1 secp384r1", CONF_T_STR },
	{ "tls_eecdh_strong_curve", "prime256v1", CONF_T_STR },
	{ "tls_eecdh_ultra_curve", "secp384r1", CONF_T_STR },
	{ "tls_export_cipherlist",
	    "aNULL:-aNULL:HIGH:MEDIUM:LOW:EXPORT:+RC4:@STRENGTH", CONF_T_STR },
	{ "tls_fast_shutdown_enable", "yes", CONF_T_BOOL },
	{ "tls_high_cipherlist", "aNULL:-aNULL:HIGH:@STRENGTH", CONF_T_STR },
	{ "tls_legacy_public_key_fingerprints", "no", CONF_T_BOOL },
	{ "tls_low_cipherlist",
	    "aNULL:-aNULL:HIGH:MEDIUM:LOW:+RC4:@STRENGTH", CONF_T_STR },
	{ "tls_medium_cipherlist",
	    "aNULL:-aNULL:HIGH:MEDIUM:+RC4:@STRENGTH", CONF_T_STR },
	{ "tls_null_cipherlist", "eNULL:!aNULL", CONF_T_STR },
	{ "tls_preempt_cipherlist", "no", CONF_T_BOOL },
	{ "tls_random_bytes", "32", CONF_T_INT },
	{ "tls_random_exchange_name",
	    "${data_directory}/prng_exch", CONF_T_STR },
	{ "tls_random_prng_update_period", "3600s", CONF_T_TIME },
	{ "tls_random_reseed_period", "3600s", CONF_T_TIME },
	{ "tls_random_source", "dev:/dev/urandom", CONF_T_STR },
	{ "tls_server_sni_maps", "", CONF_T_STR },
	{ "tls_session_ticket_cipher", "aes-256-cbc", CONF_T_STR },
	{ "tls_ssl_options", "", CONF_T_STR },
	{ "tls_wildcard_matches_multiple_labels", "yes", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_admin_socket", conf_def_runtime, CONF_T_STR },
	{ "tlsproxy_client_CAfile", "$smtp_tls_CAfile", CONF_T_STR },
	{ "tlsproxy_client_CApath", "$smtp_tls_CApath", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_client_alpn", "", CONF_T_STR },
	{ "tlsproxy_client_cert_file", "$smtp_tls_cert_file", CONF_T_STR },
	{ "tlsproxy_client_chain_files", "$smtp_tls_chain_files", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_client_ciphers", "$smtp_tls_ciphers", CONF_T_GRADE },
	{ "tlsproxy_client_dcert_file", "$smtp_tls_dcert_file", CONF_T_STR },
	{ "tlsproxy_client_dkey_file", "$smtp_tls_dkey_file", CONF_T_STR },
	{ "tlsproxy_client_eccert_file", "$smtp_tls_eccert_file", CONF_T_STR },
	{ "tlsproxy_client_eckey_file", "$smtp_tls_eckey_file", CONF_T_STR },
	{ "tlsproxy_client_enforce_tls", "$smtp_enforce_tls", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_client_exclude_ciphers", "$smtp_tls_exclude_ciphers", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_client_fingerprint_cert_match",
	    "$smtp_tls_fingerprint_cert_match", CONF_T_STR },
	{ "tlsproxy_client_fingerprint_digest",
	    "$smtp_tls_fingerprint_digest", CONF_T_DIGEST },
	{ "tlsproxy_client_key_file", "$smtp_tls_key_file", CONF_T_STR },
	{ "tlsproxy_client_loglevel", "$smtp_tls_loglevel", CONF_T_INT },
	{ "tlsproxy_client_loglevel_parameter",
	    "smtp_tls_loglevel", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_client_mandatory_ciphers",
	    "$smtp_tls_mandatory_ciphers", CONF_T_GRADE },
	/* tlswardd */
	{ "tlsproxy_client_mandatory_exclude_ciphers",
	    "$smtp_tls_mandatory_exclude_ciphers", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_client_mandatory_protocols",
	    "$smtp_tls_mandatory_protocols", CONF_T_PROTOCOLS },
	{ "tlsproxy_client_per_site", "$smtp_tls_per_site", CONF_T_STR },
	{ "tlsproxy_client_policy_maps",
	    "${tlsproxy_client_policy:$smtp_tls_policy_maps}", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_client_protocols", "$smtp_tls_protocols", CONF_T_PROTOCOLS },
	{ "tlsproxy_client_scert_verifydepth",
	    "$smtp_tls_scert_verifydepth", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_client_secure_cert_match",
	    "$smtp_tls_secure_cert_match", CONF_T_STR },
	{ "tlsproxy_client_security_level",
	    "${tlsproxy_client_level:$smtp_tls_security_level}", CONF_T_LEVEL },
	/* tlswardd */
	{ "tlsproxy_client_session_cache_timeout", "3600s", CONF_T_TIME },
	{ "tlsproxy_client_use_tls", "$smtp_use_tls", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_client_verify_cert_match",
	    "$smtp_tls_verify_cert_match", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_drain_timeout", "30s", CONF_T_TIME },
	{ "tlsproxy_enforce_tls", "$smtpd_enforce_tls", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_event_threads", "0", CONF_T_INT },
	/* tlswardd: one connect attempt to one forward address */
	{ "tlsproxy_forward_connect_timeout", "5s", CONF_T_TIME },
	/* tlswardd: how often forward host names are looked up again */
	{ "tlsproxy_forward_resolve_interval", "60s", CONF_T_TIME },
	/* tlswardd */
	{ "tlsproxy_handshake_timeout", "10s", CONF_T_TIME },
	/* tlswardd: a session's silence (not Postfix's watchdog) */
	{ "tlsproxy_idle_timeout", "3600s", CONF_T_TIME },
	/* tlswardd */
	{ "tlsproxy_listen_group", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_listen_mode", "0666", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_listen_owner", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_max_session_time", "0", CONF_T_TIME },
	/* tlswardd */
	{ "tlsproxy_max_sessions", "0", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_max_threads", "256", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_metrics_listen", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_min_threads", "4", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_pid_file", conf_def_runtime, CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_proxy_accept", "none", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_proxy_header_timeout", "5s", CONF_T_TIME },
	/* tlswardd */
	{ "tlsproxy_proxy_send", "none", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_proxy_trusted_networks", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_queue_limit", "128", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_sandbox", "enforce", CONF_T_STR },
	{ "tlsproxy_service_name", "tlsproxy", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_session_log", "yes", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_session_log_format", "postfix", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_sni_refuse_unknown", "no", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_source_ipv4_prefix", "32", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_source_ipv6_prefix", "64", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_source_limit_exceptions", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_source_rate_limit", "0", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_source_session_limit", "0", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_stop_grace_time", "0", CONF_T_TIME },
	{ "tlsproxy_tls_CAfile", "$smtpd_tls_CAfile", CONF_T_STR },
	{ "tlsproxy_tls_CApath", "$smtpd_tls_CApath", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_tls_alpn", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_tls_alpn_mismatch", "continue", CONF_T_STR },
	{ "tlsproxy_tls_always_issue_session_ids",
	    "$smtpd_tls_always_issue_session_ids", CONF_T_BOOL },
	{ "tlsproxy_tls_ask_ccert", "$smtpd_tls_ask_ccert", CONF_T_BOOL },
	{ "tlsproxy_tls_ccert_verifydepth",
	    "$smtpd_tls_ccert_verifydepth", CONF_T_INT },
	{ "tlsproxy_tls_cert_file", "$smtpd_tls_cert_file", CONF_T_STR },
	{ "tlsproxy_tls_chain_files", "$smtpd_tls_chain_files", CONF_T_STR },
	{ "tlsproxy_tls_ciphers", "$smtpd_tls_ciphers", CONF_T_GRADE },
	{ "tlsproxy_tls_dcert_file", "$smtpd_tls_dcert_file", CONF_T_STR },
	{ "tlsproxy_tls_dh1024_param_file",
	    "$smtpd_tls_dh1024_param_file", CONF_T_STR },
	{ "tlsproxy_tls_dh512_param_file",
	    "$smtpd_tls_dh512_param_file", CONF_T_STR },
	{ "tlsproxy_tls_dkey_file", "$smtpd_tls_dkey_file", CONF_T_STR },
	{ "tlsproxy_tls_eccert_file", "$smtpd_tls_eccert_file", CONF_T_STR },
	{ "tlsproxy_tls_eckey_file", "$smtpd_tls_eckey_file", CONF_T_STR },
	{ "tlsproxy_tls_eecdh_grade", "$smtpd_tls_eecdh_grade", CONF_T_EECDH },
	{ "tlsproxy_tls_exclude_ciphers",
	    "$smtpd_tls_exclude_ciphers", CONF_T_STR },
	{ "tlsproxy_tls_fingerprint_digest",
	    "$smtpd_tls_fingerprint_digest", CONF_T_DIGEST },
	{ "tlsproxy_tls_key_file", "$smtpd_tls_key_file", CONF_T_STR },
	{ "tlsproxy_tls_loglevel", "$smtpd_tls_loglevel", CONF_T_INT },
	{ "tlsproxy_tls_mandatory_ciphers",
	    "$smtpd_tls_mandatory_ciphers", CONF_T_GRADE },
	{ "tlsproxy_tls_mandatory_exclude_ciphers",
	    "$smtpd_tls_mandatory_exclude_ciphers", CONF_T_STR },
	{ "tlsproxy_tls_mandatory_protocols",
	    "$smtpd_tls_mandatory_protocols", CONF_T_PROTOCOLS },
	/* tlswardd */
	{ "tlsproxy_tls_ocsp_response_files", "", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_tls_ocsp_stapling", "yes", CONF_T_BOOL },
	{ "tlsproxy_tls_protocols", "$smtpd_tls_protocols", CONF_T_PROTOCOLS },
	{ "tlsproxy_tls_req_ccert", "$smtpd_tls_req_ccert", CONF_T_BOOL },
	{ "tlsproxy_tls_security_level",
	    "$smtpd_tls_security_level", CONF_T_LEVEL },
	/* tlswardd */
	{ "tlsproxy_tls_ticket_count", "1", CONF_T_INT },
	/* tlswardd */
	{ "tlsproxy_tls_ticket_key_file", "", CONF_T_STR },
	{ "tlsproxy_use_tls", "$smtpd_use_tls", CONF_T_BOOL },
	/* tlswardd */
	{ "tlsproxy_user", "tlsward", CONF_T_STR },
	/* tlswardd */
	{ "tlsproxy_watch_files", "yes", CONF_T_BOOL },
	{ "tlsproxy_watchdog_timeout", "10s", CONF_T_TIME },
};

#define CONF_NPARAMS	(sizeof(conf_params) / sizeof(conf_params[0]))

const struct conf_param *
conf_param_table(size_t *countp)
{
	*countp = CONF_NPARAMS;
	return conf_params;
}

static int
conf_param_cmp(const void *key, const void *elem)
{
	const struct conf_param *p = elem;

	return strcmp(key, p->name);
}

const struct conf_param *
conf_param_find(const char *name)
{
	return bsearch(name, conf_params, CONF_NPARAMS, sizeof(conf_params[0]),
	    conf_param_cmp);
}

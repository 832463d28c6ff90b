/*
 * test_tls.c - server/tls.c: the --dev self-signed certificate (files,
 * modes, contents, idempotence, half-pair errors), the server context
 * (loading, mismatched and missing files, bad settings) and real
 * handshakes over an in-memory BIO pair: TLS 1.3 by default, TLS 1.2 with
 * an ECDHE cipher when the client caps it, refusal of TLS 1.1 (RFC 8996)
 * and of non-forward-secret TLS 1.2 ciphers, and no renegotiation.
 */
#include "tls.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define HOST "mail.example.test"

struct pair {
	char dir[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
};

static struct pair a, b;
static char err[512];

/* ---- file helpers -------------------------------------------------------- */

static void path_join(char *out, const char *dir, const char *name)
{
	int n = snprintf(out, PATH_MAX, "%s/%s", dir, name);

	ck_assert(n > 0 && n < PATH_MAX);
}

static void pair_init(struct pair *p)
{
	const char *tmp = getenv("TMPDIR");

	path_join(p->dir, tmp != NULL && *tmp != '\0' ? tmp : "/tmp",
		  "quill-tls-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(p->dir));
	path_join(p->cert, p->dir, "cert.pem");
	path_join(p->key, p->dir, "key.pem");
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void pair_cleanup(struct pair *p)
{
	if (p->dir[0] != '\0')
		ck_assert_int_eq(
			nftw(p->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	memset(p, 0, sizeof(*p));
}

static int exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	ck_assert_int_eq(closedir(d), 0);
	return n;
}

/* Read a whole (small) file into a malloc'd, NUL-terminated buffer. */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *buf = calloc(1, 16384);
	size_t n;

	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, 16383, fp);
	ck_assert(n > 0 && n < 16383);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

static void setup(void)
{
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	err[0] = '\0';
	pair_init(&a);
}

static void teardown(void)
{
	pair_cleanup(&a);
	pair_cleanup(&b);
	ck_assert_int_eq(ERR_peek_error(), 0);
}

/* ---- the self-signed certificate ---------------------------------------- */

static X509 *read_cert(const char *path)
{
	FILE *fp = fopen(path, "r");
	X509 *x;

	ck_assert_ptr_nonnull(fp);
	x = PEM_read_X509(fp, NULL, NULL, NULL);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(x);
	return x;
}

static EVP_PKEY *read_key(const char *path)
{
	FILE *fp = fopen(path, "r");
	EVP_PKEY *k;

	ck_assert_ptr_nonnull(fp);
	k = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_ptr_nonnull(k);
	return k;
}

static void check_names(X509 *x)
{
	ck_assert_int_eq(X509_check_host(x, HOST, 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_ip_asc(x, "127.0.0.1", 0), 1);
	ck_assert_int_eq(X509_check_ip_asc(x, "::1", 0), 1);
	ck_assert_int_eq(X509_check_host(x, "other.example", 0, 0, NULL), 0);
	ck_assert_int_eq(X509_check_ip_asc(x, "192.0.2.1", 0), 0);
	ck_assert_int_eq(X509_NAME_cmp(X509_get_subject_name(x),
				       X509_get_issuer_name(x)),
			 0);
}

static void check_serial_and_dates(X509 *x)
{
	BIGNUM *serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	int days = 0, secs = 0;

	ck_assert_ptr_nonnull(serial);
	ck_assert_int_eq(BN_num_bits(serial), 128);
	ck_assert(!BN_is_negative(serial));
	BN_free(serial);
	ck_assert_int_eq(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
					X509_get0_notAfter(x)),
			 1);
	ck_assert_int_eq(days, 825);
	ck_assert_int_eq(secs, 0);
	/* Backdated an hour, so valid now. */
	ck_assert_int_lt(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
	ck_assert_int_gt(X509_cmp_current_time(X509_get0_notAfter(x)), 0);
}

static void check_cert_file(const char *cert_file, const char *key_file)
{
	X509 *x = read_cert(cert_file);
	EVP_PKEY *k = read_key(key_file);
	char group[64];
	size_t glen = 0;

	ck_assert_int_eq(X509_get_version(x), X509_VERSION_3);
	check_names(x);
	check_serial_and_dates(x);
	ck_assert_int_eq(X509_check_ca(x), 0);
	ck_assert_int_eq(X509_check_purpose(x, X509_PURPOSE_SSL_SERVER, 0), 1);
	ck_assert_uint_eq(X509_get_key_usage(x), KU_DIGITAL_SIGNATURE);
	ck_assert_uint_eq(X509_get_extended_key_usage(x), XKU_SSL_SERVER);
	ck_assert_int_eq(X509_get_signature_nid(x), NID_ecdsa_with_SHA256);
	ck_assert_int_eq(X509_verify(x, X509_get0_pubkey(x)), 1);
	ck_assert(EVP_PKEY_is_a(k, "EC"));
	ck_assert_int_eq(
		EVP_PKEY_get_group_name(k, group, sizeof(group), &glen), 1);
	ck_assert_str_eq(group, "prime256v1");
	ck_assert_int_eq(X509_check_private_key(x, k), 1);
	EVP_PKEY_free(k);
	X509_free(x);
}

START_TEST(self_signed_creates_pair)
{
	struct stat st;

	ck_assert_int_eq(
		tls_ensure_self_signed(a.cert, a.key, HOST, err, sizeof(err)),
		0);
	ck_assert_int_eq(stat(a.key, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(stat(a.cert, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_int_eq(count_entries(a.dir), 2); /* no temporaries left */
	check_cert_file(a.cert, a.key);
}
END_TEST

START_TEST(self_signed_localhost_once)
{
	X509 *x;

	ck_assert_int_eq(tls_ensure_self_signed(a.cert, a.key, "localhost", err,
						sizeof(err)),
			 0);
	x = read_cert(a.cert);
	ck_assert_int_eq(X509_check_host(x, "localhost", 0, 0, NULL), 1);
	ck_assert_int_eq(X509_check_ip_asc(x, "::1", 0), 1);
	X509_free(x);
}
END_TEST

START_TEST(self_signed_second_call_keeps_files)
{
	struct stat c1, k1, c2, k2;
	char *cert1, *key1, *cert2, *key2;

	ck_assert_int_eq(
		tls_ensure_self_signed(a.cert, a.key, HOST, err, sizeof(err)),
		0);
	ck_assert_int_eq(stat(a.cert, &c1), 0);
	ck_assert_int_eq(stat(a.key, &k1), 0);
	cert1 = slurp(a.cert);
	key1 = slurp(a.key);
	ck_assert_int_eq(tls_ensure_self_signed(a.cert, a.key, "other.test",
						err, sizeof(err)),
			 0);
	ck_assert_int_eq(stat(a.cert, &c2), 0);
	ck_assert_int_eq(stat(a.key, &k2), 0);
	cert2 = slurp(a.cert);
	key2 = slurp(a.key);
	ck_assert_str_eq(cert1, cert2);
	ck_assert_str_eq(key1, key2);
	ck_assert_uint_eq(c1.st_ino, c2.st_ino);
	ck_assert_uint_eq(k1.st_ino, k2.st_ino);
	ck_assert_int_eq(c1.st_mtim.tv_sec, c2.st_mtim.tv_sec);
	ck_assert_int_eq(c1.st_mtim.tv_nsec, c2.st_mtim.tv_nsec);
	ck_assert_int_eq(k1.st_mtim.tv_sec, k2.st_mtim.tv_sec);
	ck_assert_int_eq(k1.st_mtim.tv_nsec, k2.st_mtim.tv_nsec);
	free(cert1);
	free(key1);
	free(cert2);
	free(key2);
}
END_TEST

/* Remove one of the pair: the other alone must be refused, not replaced. */
static void check_half_pair(const char *gone, const char *kept)
{
	ck_assert_int_eq(
		tls_ensure_self_signed(a.cert, a.key, HOST, err, sizeof(err)),
		0);
	ck_assert_int_eq(unlink(gone), 0);
	err[0] = '\0';
	ck_assert_int_eq(
		tls_ensure_self_signed(a.cert, a.key, HOST, err, sizeof(err)),
		-1);
	ck_assert_ptr_nonnull(strstr(err, "found"));
	ck_assert_ptr_nonnull(strstr(err, kept));
	ck_assert_ptr_nonnull(strstr(err, gone));
	ck_assert_ptr_nonnull(strstr(err, "provide both"));
	ck_assert(strstr(err, kept) < strstr(err, gone));
	ck_assert(!exists(gone));
	ck_assert_int_eq(count_entries(a.dir), 1);
}

START_TEST(self_signed_key_only_is_error)
{
	check_half_pair(a.cert, a.key);
}
END_TEST

START_TEST(self_signed_cert_only_is_error)
{
	check_half_pair(a.key, a.cert);
}
END_TEST

START_TEST(self_signed_makes_parent_dir)
{
	char sub[PATH_MAX], cert[PATH_MAX], key[PATH_MAX], deep[PATH_MAX];
	struct stat st;

	path_join(sub, a.dir, "tls");
	path_join(cert, sub, "cert.pem");
	path_join(key, sub, "key.pem");
	ck_assert_int_eq(
		tls_ensure_self_signed(cert, key, HOST, err, sizeof(err)), 0);
	ck_assert_int_eq(stat(sub, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert(exists(cert) && exists(key));
	/* Only the immediate parent is created. */
	path_join(deep, a.dir, "x/y/cert.pem");
	ck_assert_int_eq(
		tls_ensure_self_signed(deep, key, HOST, err, sizeof(err)), -1);
	path_join(deep, a.dir, "x/y/key.pem");
	ck_assert_int_eq(
		tls_ensure_self_signed(cert, deep, HOST, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "found"));
	path_join(cert, a.dir, "x/y/cert.pem");
	ck_assert_int_eq(
		tls_ensure_self_signed(cert, deep, HOST, err, sizeof(err)), -1);
	ck_assert_ptr_nonnull(strstr(err, "cannot create directory"));
	ck_assert(!exists(cert));
}
END_TEST

START_TEST(self_signed_bad_hostname)
{
	static const char *const bad[] = {
		"",    "bad,host",	    "a b", "-lead", ".lead",
		"x/y", "\xc3\xa9t\xc3\xa9",
	};
	char too_long[66];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_int_eq(tls_ensure_self_signed(a.cert, a.key, bad[i],
							err, sizeof(err)),
				 -1);
		ck_assert_ptr_nonnull(strstr(err, "host name"));
	}
	memset(too_long, 'a', sizeof(too_long) - 1); /* 65 > ub-common-name */
	too_long[sizeof(too_long) - 1] = '\0';
	ck_assert_int_eq(tls_ensure_self_signed(a.cert, a.key, too_long, err,
						sizeof(err)),
			 -1);
	too_long[64] = '\0';
	ck_assert_int_eq(tls_ensure_self_signed(a.cert, a.key, too_long, err,
						sizeof(err)),
			 0);
	ck_assert_int_eq(unlink(a.cert), 0);
	ck_assert_int_eq(unlink(a.key), 0);
	ck_assert_int_eq(
		tls_ensure_self_signed(a.cert, a.key, NULL, err, sizeof(err)),
		-1);
	ck_assert_int_eq(
		tls_ensure_self_signed(NULL, a.key, HOST, err, sizeof(err)),
		-1);
	ck_assert_int_eq(count_entries(a.dir), 0);
}
END_TEST

/* ---- the server context -------------------------------------------------- */

static struct tls_settings settings(const struct pair *p)
{
	struct tls_settings s = {.cert_file = p->cert, .key_file = p->key};

	return s;
}

static void make_pair(struct pair *p)
{
	if (p->dir[0] == '\0')
		pair_init(p);
	ck_assert_int_eq(
		tls_ensure_self_signed(p->cert, p->key, HOST, err, sizeof(err)),
		0);
}

/* Every TLS 1.2 cipher on offer is forward-secret ECDHE with an AEAD. */
static void check_default_ciphers(SSL_CTX *ctx)
{
	STACK_OF(SSL_CIPHER) *list = SSL_CTX_get_ciphers(ctx);
	int i, tls12 = 0;

	ck_assert_ptr_nonnull(list);
	for (i = 0; i < sk_SSL_CIPHER_num(list); i++) {
		const SSL_CIPHER *c = sk_SSL_CIPHER_value(list, i);

		if (SSL_CIPHER_get_kx_nid(c) == NID_kx_any)
			continue; /* a TLS 1.3 suite */
		tls12++;
		ck_assert_msg(SSL_CIPHER_get_kx_nid(c) == NID_kx_ecdhe, "%s",
			      SSL_CIPHER_get_name(c));
		ck_assert_msg(SSL_CIPHER_is_aead(c), "%s",
			      SSL_CIPHER_get_name(c));
	}
	ck_assert_int_gt(tls12, 0);
}

START_TEST(ctx_loads_pair)
{
	struct tls_settings s;
	SSL_CTX *ctx;
	uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			SSL_OP_CIPHER_SERVER_PREFERENCE;

	make_pair(&a);
	s = settings(&a);
	ctx = tls_server_ctx_new(&s, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	ck_assert_int_eq(SSL_CTX_get_min_proto_version(ctx), TLS1_2_VERSION);
	ck_assert_int_eq(SSL_CTX_get_max_proto_version(ctx), TLS1_3_VERSION);
	ck_assert((SSL_CTX_get_options(ctx) & opts) == opts);
	check_default_ciphers(ctx);
	ck_assert_int_eq(ERR_peek_error(), 0);
	SSL_CTX_free(ctx);

	/* A chain file is appended after the leaf. */
	s.chain_file = a.cert;
	s.ciphers12 = "ECDHE+AESGCM";
	s.ciphersuites13 = "TLS_AES_128_GCM_SHA256";
	ctx = tls_server_ctx_new(&s, err, sizeof(err));
	ck_assert_msg(ctx != NULL, "%s", err);
	SSL_CTX_free(ctx);
}
END_TEST

START_TEST(ctx_mismatched_key)
{
	struct tls_settings s;

	make_pair(&a);
	make_pair(&b);
	s = settings(&a);
	s.key_file = b.key;
	ck_assert_ptr_null(tls_server_ctx_new(&s, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, b.key));
	ck_assert_ptr_nonnull(strstr(err, "error:"));
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

/* Settings that must fail, with a message containing want. */
static void check_ctx_fails(const struct tls_settings *s, const char *want)
{
	err[0] = '\0';
	ck_assert_ptr_null(tls_server_ctx_new(s, err, sizeof(err)));
	ck_assert_msg(strstr(err, want) != NULL, "\"%s\" lacks \"%s\"", err,
		      want);
	ck_assert_int_eq(ERR_peek_error(), 0);
}

START_TEST(ctx_missing_and_bad_files)
{
	char missing[PATH_MAX], empty[PATH_MAX];
	struct tls_settings s;
	FILE *fp;

	make_pair(&a);
	path_join(missing, a.dir, "missing.pem");
	path_join(empty, a.dir, "empty.pem");
	fp = fopen(empty, "w");
	ck_assert_ptr_nonnull(fp);
	ck_assert_int_eq(fclose(fp), 0);

	s = settings(&a);
	s.cert_file = missing;
	check_ctx_fails(&s, missing);
	s = settings(&a);
	s.key_file = missing;
	check_ctx_fails(&s, missing);
	s.key_file = empty;
	check_ctx_fails(&s, empty);
	s = settings(&a);
	s.cert_file = a.key;
	check_ctx_fails(&s, a.key);
	s = settings(&a);
	s.chain_file = missing;
	check_ctx_fails(&s, missing);
	s.chain_file = empty;
	check_ctx_fails(&s, empty);
	s.chain_file = a.key;
	check_ctx_fails(&s, a.key);
}
END_TEST

START_TEST(ctx_bad_settings)
{
	struct tls_settings s;
	char tiny[8];

	make_pair(&a);
	s = settings(&a);
	s.ciphers12 = "NO-SUCH-CIPHER";
	check_ctx_fails(&s, "NO-SUCH-CIPHER");
	s = settings(&a);
	s.ciphersuites13 = "NO_SUCH_SUITE";
	check_ctx_fails(&s, "NO_SUCH_SUITE");
	check_ctx_fails(NULL, "certificate");
	s.key_file = NULL;
	check_ctx_fails(&s, "certificate");

	/* Messages are truncated to the buffer, never overrun it. */
	s = settings(&a);
	s.cert_file = "/nonexistent/cert.pem";
	memset(tiny, 'x', sizeof(tiny));
	ck_assert_ptr_null(tls_server_ctx_new(&s, tiny, sizeof(tiny)));
	ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
	ck_assert_ptr_null(tls_server_ctx_new(&s, NULL, 0));
	ck_assert_int_eq(ERR_peek_error(), 0);
}
END_TEST

START_TEST(error_string_drains_queue)
{
	char out[512];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(SSL_CTX_use_certificate_file(ctx, "/nonexistent/x",
						      SSL_FILETYPE_PEM),
			 0);
	ck_assert_int_ne(ERR_peek_error(), 0);
	tls_error_string(out, sizeof(out));
	ck_assert_ptr_nonnull(strstr(out, "error:"));
	ck_assert_ptr_nonnull(strstr(out, "/nonexistent/x"));
	ck_assert_int_eq(ERR_peek_error(), 0);
	tls_error_string(out, sizeof(out));
	ck_assert_str_eq(out, "no OpenSSL error reported");
	ck_assert_int_eq(SSL_CTX_use_certificate_file(ctx, "/nonexistent/x",
						      SSL_FILETYPE_PEM),
			 0);
	tls_error_string(out, 6);
	ck_assert_str_eq(out, "error");
	ck_assert_int_eq(ERR_peek_error(), 0);
	tls_describe(NULL, out, sizeof(out));
	ck_assert_str_eq(out, "no TLS");
	SSL_CTX_free(ctx);
}
END_TEST

/* ---- handshakes over a BIO pair ----------------------------------------- */

struct conn {
	SSL_CTX *sctx, *cctx;
	SSL *s, *c;
	unsigned long server_err; /* first queued error when the server fails */
};

enum { HS_OK, HS_CLIENT_FAILED, HS_SERVER_FAILED, HS_STUCK };

static struct conn conn;

static void conn_setup(void)
{
	struct tls_settings s;

	setup();
	memset(&conn, 0, sizeof(conn));
	make_pair(&a);
	s = settings(&a);
	conn.sctx = tls_server_ctx_new(&s, err, sizeof(err));
	ck_assert_msg(conn.sctx != NULL, "%s", err);
	conn.cctx = SSL_CTX_new(TLS_client_method());
	ck_assert_ptr_nonnull(conn.cctx);
	SSL_CTX_set_verify(conn.cctx, SSL_VERIFY_PEER, NULL);
	ck_assert_int_eq(SSL_CTX_load_verify_locations(conn.cctx, a.cert, NULL),
			 1);
}

static void conn_teardown(void)
{
	SSL_free(conn.c);
	SSL_free(conn.s);
	SSL_CTX_free(conn.cctx);
	SSL_CTX_free(conn.sctx);
	memset(&conn, 0, sizeof(conn));
	ERR_clear_error(); /* failed handshakes leave errors behind */
	teardown();
}

/* Make the two ends, joined by a BIO pair, the client expecting host. */
static void conn_open(const char *host)
{
	char sni[256]; /* SSL_set_tlsext_host_name() takes a non-const name */
	BIO *cb, *sb;

	conn.c = SSL_new(conn.cctx);
	conn.s = SSL_new(conn.sctx);
	ck_assert(conn.c != NULL && conn.s != NULL);
	ck_assert_int_eq(BIO_new_bio_pair(&cb, 0, &sb, 0), 1);
	SSL_set_bio(conn.c, cb, cb);
	SSL_set_bio(conn.s, sb, sb);
	ck_assert_int_eq(SSL_set1_host(conn.c, host), 1);
	ck_assert_int_lt(snprintf(sni, sizeof(sni), "%s", host),
			 (int)sizeof(sni));
	ck_assert_int_eq(SSL_set_tlsext_host_name(conn.c, sni), 1);
	SSL_set_connect_state(conn.c);
	SSL_set_accept_state(conn.s);
}

/* One handshake step; 1 done, 0 wants I/O, -1 failed. */
static int step(SSL *ssl, int *done)
{
	int rc, e;

	if (*done)
		return 1;
	rc = SSL_do_handshake(ssl);
	if (rc == 1) {
		*done = 1;
		return 1;
	}
	e = SSL_get_error(ssl, rc);
	return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static int handshake(void)
{
	int i, c_done = 0, s_done = 0;

	for (i = 0; i < 32 && !(c_done && s_done); i++) {
		if (step(conn.c, &c_done) < 0)
			return HS_CLIENT_FAILED;
		if (step(conn.s, &s_done) < 0) {
			conn.server_err = ERR_peek_error();
			return HS_SERVER_FAILED;
		}
	}
	return c_done && s_done ? HS_OK : HS_STUCK;
}

/* Application data flows both ways after the handshake. */
static void check_data(void)
{
	char buf[16];

	ck_assert_int_eq(SSL_write(conn.c, "EHLO x\r\n", 8), 8);
	ck_assert_int_eq(SSL_read(conn.s, buf, sizeof(buf)), 8);
	ck_assert(memcmp(buf, "EHLO x\r\n", 8) == 0);
	ck_assert_int_eq(SSL_write(conn.s, "250 ok\r\n", 8), 8);
	ck_assert_int_eq(SSL_read(conn.c, buf, sizeof(buf)), 8);
	ck_assert(memcmp(buf, "250 ok\r\n", 8) == 0);
}

START_TEST(handshake_tls13_default)
{
	char desc[128];

	conn_open("localhost");
	ck_assert_int_eq(handshake(), HS_OK);
	ck_assert_int_eq(SSL_get_verify_result(conn.c), X509_V_OK);
	ck_assert_int_eq(SSL_version(conn.s), TLS1_3_VERSION);
	ck_assert_int_eq(SSL_version(conn.c), TLS1_3_VERSION);
	check_data();
	tls_describe(conn.s, desc, sizeof(desc));
	ck_assert_msg(strncmp(desc, "TLSv1.3 TLS_", 12) == 0, "%s", desc);
	ck_assert_ptr_nonnull(strstr(desc, " bits)"));
	tls_describe(conn.s, desc, 8);
	ck_assert_str_eq(desc, "TLSv1.3");
}
END_TEST

START_TEST(handshake_tls12_ecdhe)
{
	const SSL_CIPHER *cipher;
	char desc[128];

	ck_assert_int_eq(
		SSL_CTX_set_max_proto_version(conn.cctx, TLS1_2_VERSION), 1);
	conn_open(HOST);
	ck_assert_int_eq(handshake(), HS_OK);
	ck_assert_int_eq(SSL_get_verify_result(conn.c), X509_V_OK);
	ck_assert_int_eq(SSL_version(conn.s), TLS1_2_VERSION);
	cipher = SSL_get_current_cipher(conn.s);
	ck_assert_ptr_nonnull(cipher);
	ck_assert_int_eq(SSL_CIPHER_get_kx_nid(cipher), NID_kx_ecdhe);
	ck_assert_int_eq(SSL_CIPHER_is_aead(cipher), 1);
	ck_assert_ptr_nonnull(strstr(SSL_CIPHER_get_name(cipher), "ECDHE-"));
	check_data();
	tls_describe(conn.s, desc, sizeof(desc));
	ck_assert_msg(strncmp(desc, "TLSv1.2 ECDHE-", 14) == 0, "%s", desc);
}
END_TEST

START_TEST(handshake_tls11_refused)
{
	/* Let the client really offer TLS 1.1 (OpenSSL 3 needs level 0). */
	SSL_CTX_set_security_level(conn.cctx, 0);
	ck_assert_int_eq(
		SSL_CTX_set_cipher_list(conn.cctx, "DEFAULT:@SECLEVEL=0"), 1);
	ck_assert_int_eq(SSL_CTX_set_min_proto_version(conn.cctx, TLS1_VERSION),
			 1);
	ck_assert_int_eq(
		SSL_CTX_set_max_proto_version(conn.cctx, TLS1_1_VERSION), 1);
	conn_open("localhost");
	ck_assert_int_eq(handshake(), HS_SERVER_FAILED);
	ck_assert_int_eq(ERR_GET_REASON(conn.server_err),
			 SSL_R_UNSUPPORTED_PROTOCOL);
}
END_TEST

/* With an EC key static-RSA suites are impossible anyway; the cipher list
 * itself is checked by check_default_ciphers(). */
START_TEST(handshake_no_forward_secrecy_refused)
{
	ck_assert_int_eq(
		SSL_CTX_set_max_proto_version(conn.cctx, TLS1_2_VERSION), 1);
	ck_assert_int_eq(SSL_CTX_set_cipher_list(conn.cctx, "AES128-GCM-SHA256:"
							    "AES256-SHA"),
			 1);
	conn_open("localhost");
	ck_assert_int_eq(handshake(), HS_SERVER_FAILED);
	ck_assert_int_eq(ERR_GET_REASON(conn.server_err),
			 SSL_R_NO_SHARED_CIPHER);
}
END_TEST

START_TEST(handshake_wrong_name_fails_verify)
{
	conn_open("mail.other.test");
	ck_assert_int_eq(handshake(), HS_CLIENT_FAILED);
	ck_assert_int_eq(SSL_get_verify_result(conn.c),
			 X509_V_ERR_HOSTNAME_MISMATCH);
}
END_TEST

START_TEST(handshake_no_renegotiation)
{
	char buf[16];
	int rc;

	ck_assert_int_eq(
		SSL_CTX_set_max_proto_version(conn.cctx, TLS1_2_VERSION), 1);
	conn_open("localhost");
	ck_assert_int_eq(handshake(), HS_OK);
	ck_assert_int_eq(SSL_renegotiate(conn.c), 1);
	ck_assert_int_le(SSL_do_handshake(conn.c), 0); /* sends ClientHello */
	/* The server answers with a no_renegotiation alert... */
	rc = SSL_read(conn.s, buf, sizeof(buf));
	ck_assert_int_le(rc, 0);
	ck_assert_int_eq(SSL_get_error(conn.s, rc), SSL_ERROR_WANT_READ);
	/* ...which ends the client's attempt. */
	ck_assert_int_le(SSL_do_handshake(conn.c), 0);
	ck_assert_int_eq(ERR_GET_REASON(ERR_peek_error()),
			 SSL_R_NO_RENEGOTIATION);
	ERR_clear_error();
	/* OpenSSL 3 refuses client renegotiation anyway; the option is what
	 * also stops the server from starting one. */
	ck_assert_int_eq(SSL_renegotiate(conn.s), 0);
	ck_assert_int_eq(ERR_GET_REASON(ERR_peek_error()),
			 SSL_R_NO_RENEGOTIATION);
}
END_TEST

static Suite *tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *files = tcase_create("self_signed");
	TCase *ctx = tcase_create("server_ctx");
	TCase *hs = tcase_create("handshake");

	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_test(files, self_signed_creates_pair);
	tcase_add_test(files, self_signed_localhost_once);
	tcase_add_test(files, self_signed_second_call_keeps_files);
	tcase_add_test(files, self_signed_key_only_is_error);
	tcase_add_test(files, self_signed_cert_only_is_error);
	tcase_add_test(files, self_signed_makes_parent_dir);
	tcase_add_test(files, self_signed_bad_hostname);
	suite_add_tcase(s, files);

	tcase_add_checked_fixture(ctx, setup, teardown);
	tcase_add_test(ctx, ctx_loads_pair);
	tcase_add_test(ctx, ctx_mismatched_key);
	tcase_add_test(ctx, ctx_missing_and_bad_files);
	tcase_add_test(ctx, ctx_bad_settings);
	tcase_add_test(ctx, error_string_drains_queue);
	suite_add_tcase(s, ctx);

	tcase_add_checked_fixture(hs, conn_setup, conn_teardown);
	tcase_add_test(hs, handshake_tls13_default);
	tcase_add_test(hs, handshake_tls12_ecdhe);
	tcase_add_test(hs, handshake_tls11_refused);
	tcase_add_test(hs, handshake_no_forward_secrecy_refused);
	tcase_add_test(hs, handshake_wrong_name_fails_verify);
	tcase_add_test(hs, handshake_no_renegotiation);
	suite_add_tcase(s, hs);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tls_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

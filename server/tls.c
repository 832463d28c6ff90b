/*
 * tls.c - quilld's server TLS context and --dev self-signed certificate.
 *
 * tls_server_ctx_new() builds the one SSL_CTX every listener shares:
 *   - TLS 1.2 to TLS 1.3 only: RFC 8314 section 4.1 and RFC 8996, which
 *     deprecates TLS 1.0 and 1.1;
 *   - no compression (CRIME), no renegotiation, server cipher preference;
 *   - TLS 1.2 restricted to forward-secret ECDHE with AEAD ciphers unless
 *     the configuration names others; TLS 1.3 suites are OpenSSL's;
 *   - session tickets left on; encrypted keys are refused rather than
 *     prompting on a terminal the daemon may not have.
 *
 * tls_ensure_self_signed() serves `quilld --dev`: an EC P-256 key and an
 * X.509 v3 certificate (random 128-bit serial, 825 days, SHA-256) whose
 * subjectAltName holds the names RFC 7817 / RFC 6125 clients check:
 * the host name, localhost, 127.0.0.1 and ::1. Each file is written to a
 * temporary name, fsynced, renamed into place and its directory fsynced.
 *
 * Every failure leaves a message in the caller's buffer and the OpenSSL
 * error queue empty.
 */
#include "tls.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define TLS_DEFAULT_CIPHERS12 "ECDHE+AESGCM:ECDHE+CHACHA20"
#define TLS_SESSION_ID_CTX    "quilld"
#define TLS_REASON_MAX	      256

#define DEV_CERT_DAYS	    825
#define DEV_CERT_BACKDATE   3600L /* seconds: tolerate clock skew */
#define DEV_SERIAL_BITS	    128
#define DEV_HOSTNAME_MAX    64 /* ub-common-name: the CN must hold it */
#define DEV_SAN_MAX	    (DEV_HOSTNAME_MAX + 64)
#define DEV_KEY_MODE	    0600
#define DEV_CERT_MODE	    0644
#define DEV_PARENT_DIR_MODE 0700

/* ---- message helpers ---------------------------------------------------- */

/* Append s to the NUL-terminated out, truncating to fit. */
static void str_append(char *out, size_t n, const char *s)
{
	size_t len, add;

	if (out == NULL || n == 0)
		return;
	len = strnlen(out, n - 1);
	add = strlen(s);
	if (add > n - 1 - len)
		add = n - 1 - len;
	memcpy(out + len, s, add);
	out[len + add] = '\0';
}

static void vfmt_into(char *out, size_t n, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));
static void fmt_into(char *out, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_ossl(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail_sys(char *err, size_t errlen, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void vfmt_into(char *out, size_t n, const char *fmt, va_list ap)
{
	if (out == NULL || n == 0)
		return;
	if (vsnprintf(out, n, fmt, ap) < 0)
		out[0] = '\0';
}

static void fmt_into(char *out, size_t n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfmt_into(out, n, fmt, ap);
	va_end(ap);
}

/* "<message>: <earliest OpenSSL error>"; drains the queue; returns -1. */
static int fail_ossl(char *err, size_t errlen, const char *fmt, ...)
{
	char why[TLS_REASON_MAX];
	unsigned long e = ERR_get_error();
	va_list ap;

	if (e != 0)
		ERR_error_string_n(e, why, sizeof(why));
	else
		fmt_into(why, sizeof(why), "%s", "no OpenSSL error reported");
	ERR_clear_error();
	va_start(ap, fmt);
	vfmt_into(err, errlen, fmt, ap);
	va_end(ap);
	str_append(err, errlen, ": ");
	str_append(err, errlen, why);
	return -1;
}

/* "<message>: <strerror(errnum)>"; returns -1. */
static int fail_sys(char *err, size_t errlen, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfmt_into(err, errlen, fmt, ap);
	va_end(ap);
	str_append(err, errlen, ": ");
	str_append(err, errlen, strerror(errnum));
	return -1;
}

void tls_error_string(char *out, size_t n)
{
	char one[TLS_REASON_MAX];
	const char *data;
	unsigned long e;
	int flags;

	if (out != NULL && n > 0)
		out[0] = '\0';
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		if (out != NULL && n > 0 && out[0] != '\0')
			str_append(out, n, "; ");
		str_append(out, n, one);
		if ((flags & ERR_TXT_STRING) && data != NULL && *data != '\0') {
			str_append(out, n, " (");
			str_append(out, n, data);
			str_append(out, n, ")");
		}
	}
	if (out != NULL && n > 0 && out[0] == '\0')
		str_append(out, n, "no OpenSSL error reported");
}

void tls_describe(const SSL *ssl, char *out, size_t n)
{
	const SSL_CIPHER *c = ssl != NULL ? SSL_get_current_cipher(ssl) : NULL;
	int bits, alg_bits = 0;

	if (out == NULL || n == 0)
		return;
	if (c == NULL) {
		fmt_into(out, n, "%s", "no TLS");
		return;
	}
	bits = SSL_CIPHER_get_bits(c, &alg_bits);
	fmt_into(out, n, "%s %s (%d/%d bits)", SSL_get_version(ssl),
		 SSL_CIPHER_get_name(c), bits, alg_bits);
}

/* ---- server context ----------------------------------------------------- */

/* Refuse passphrase-protected keys instead of prompting on a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int ctx_set_protocol(SSL_CTX *ctx, const struct tls_settings *s,
			    char *err, size_t errlen)
{
	static const unsigned char sid_ctx[] = TLS_SESSION_ID_CTX;
	const uint64_t opts = SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
			      SSL_OP_CIPHER_SERVER_PREFERENCE;
	const char *c12 = s->ciphers12 ? s->ciphers12 : TLS_DEFAULT_CIPHERS12;

	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION) != 1)
		return fail_ossl(err, errlen, "cannot limit TLS to 1.2-1.3");
	if ((SSL_CTX_set_options(ctx, opts) & opts) != opts)
		return fail_ossl(err, errlen, "cannot set TLS options");
	if (SSL_CTX_set_cipher_list(ctx, c12) != 1)
		return fail_ossl(err, errlen, "bad TLS 1.2 cipher list \"%s\"",
				 c12);
	if (s->ciphersuites13 != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, s->ciphersuites13) != 1)
		return fail_ossl(err, errlen, "bad TLS 1.3 ciphersuites \"%s\"",
				 s->ciphersuites13);
	if (SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1) !=
	    1)
		return fail_ossl(err, errlen, "cannot set session id context");
	SSL_CTX_set_default_passwd_cb(ctx, no_passphrase);
	return 0;
}

/* Add every PEM certificate in file to the chain sent after the leaf. */
static int ctx_add_chain(SSL_CTX *ctx, const char *file, char *err,
			 size_t errlen)
{
	BIO *in = BIO_new_file(file, "r");
	unsigned long e;
	X509 *x;
	int added = 0, rc = 0;

	if (in == NULL)
		return fail_ossl(err, errlen,
				 "cannot open certificate chain %s", file);
	while (rc == 0 && (x = PEM_read_bio_X509(in, NULL, NULL, NULL))) {
		if (SSL_CTX_add1_chain_cert(ctx, x) == 1)
			added++;
		else
			rc = -1;
		X509_free(x);
	}
	BIO_free_all(in);
	if (rc < 0)
		return fail_ossl(err, errlen,
				 "cannot add a certificate from %s", file);
	/* The loop ends at the first non-certificate: fine after one. */
	e = ERR_peek_last_error();
	if (added > 0 && ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		return 0;
	}
	return fail_ossl(err, errlen, "cannot read certificate chain %s", file);
}

static int ctx_load_files(SSL_CTX *ctx, const struct tls_settings *s, char *err,
			  size_t errlen)
{
	if (SSL_CTX_use_certificate_chain_file(ctx, s->cert_file) != 1)
		return fail_ossl(err, errlen, "cannot load certificate %s",
				 s->cert_file);
	if (s->chain_file != NULL &&
	    ctx_add_chain(ctx, s->chain_file, err, errlen) < 0)
		return -1;
	if (SSL_CTX_use_PrivateKey_file(ctx, s->key_file, SSL_FILETYPE_PEM) !=
	    1)
		return fail_ossl(
			err, errlen,
			"cannot use private key %s with certificate %s",
			s->key_file, s->cert_file);
	if (SSL_CTX_check_private_key(ctx) != 1)
		return fail_ossl(err, errlen,
				 "private key %s does not match certificate %s",
				 s->key_file, s->cert_file);
	return 0;
}

SSL_CTX *tls_server_ctx_new(const struct tls_settings *s, char *err,
			    size_t errlen)
{
	SSL_CTX *ctx;

	if (s == NULL || s->cert_file == NULL || s->key_file == NULL) {
		fmt_into(err, errlen, "%s",
			 "TLS needs a certificate and a key");
		return NULL;
	}
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		fail_ossl(err, errlen, "%s", "cannot create TLS context");
		return NULL;
	}
	if (ctx_set_protocol(ctx, s, err, errlen) < 0 ||
	    ctx_load_files(ctx, s, err, errlen) < 0) {
		SSL_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	return ctx;
}

/* ---- self-signed certificate for --dev --------------------------------- */

/* 1 if path exists, 0 if not, -1 (with message) if stat fails otherwise. */
static int file_exists(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return fail_sys(err, errlen, errno, "cannot check %s", path);
}

/* A DNS name short enough for the CN, in letters, digits, '-' and '.'. */
static int check_hostname(const char *h, char *err, size_t errlen)
{
	size_t i, len = h != NULL ? strlen(h) : 0;

	for (i = 0; i < len; i++) {
		char c = h[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '.'))
			break;
	}
	if (len == 0 || len > DEV_HOSTNAME_MAX || i < len || h[0] == '.' ||
	    h[0] == '-') {
		fmt_into(err, errlen, "bad host name for certificate: \"%s\"",
			 h != NULL ? h : "");
		return -1;
	}
	return 0;
}

/* The directory holding path (malloc'd), "." when path has no slash. */
static char *parent_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

static int make_parent(const char *path, char *err, size_t errlen)
{
	char *dir = parent_dir(path);
	int rc = 0;

	if (dir == NULL)
		return fail_sys(err, errlen, ENOMEM, "%s", "parent_dir");
	if (mkdir(dir, DEV_PARENT_DIR_MODE) != 0 && errno != EEXIST)
		rc = fail_sys(err, errlen, errno, "cannot create directory %s",
			      dir);
	free(dir);
	return rc;
}

static int sync_parent(const char *path, char *err, size_t errlen)
{
	char *dir = parent_dir(path);
	int fd, rc = 0;

	if (dir == NULL)
		return fail_sys(err, errlen, ENOMEM, "%s", "parent_dir");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd) != 0)
		rc = fail_sys(err, errlen, errno, "cannot sync directory %s",
			      dir);
	if (fd >= 0 && close(fd) != 0 && rc == 0)
		rc = fail_sys(err, errlen, errno, "cannot close directory %s",
			      dir);
	free(dir);
	return rc;
}

static int set_random_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn != NULL &&
		 BN_rand(bn, DEV_SERIAL_BITS, BN_RAND_TOP_ONE,
			 BN_RAND_BOTTOM_ANY) == 1 &&
		 BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

	BN_free(bn);
	return ok ? 0 : -1;
}

static int add_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, v3, nid, value);
	int ok;

	if (ext == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok == 1 ? 0 : -1;
}

static int add_extensions(X509 *x, const char *hostname)
{
	const char *local = ",DNS:localhost,IP:127.0.0.1,IP:::1";
	char san[DEV_SAN_MAX];
	X509V3_CTX v3;
	int len;

	if (strcasecmp(hostname, "localhost") == 0)
		local = ",IP:127.0.0.1,IP:::1";
	len = snprintf(san, sizeof(san), "DNS:%s%s", hostname, local);
	if (len < 0 || (size_t)len >= sizeof(san))
		return -1;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if (add_ext(x, &v3, NID_basic_constraints, "critical,CA:FALSE") < 0 ||
	    add_ext(x, &v3, NID_key_usage, "critical,digitalSignature") < 0 ||
	    add_ext(x, &v3, NID_ext_key_usage, "serverAuth") < 0 ||
	    add_ext(x, &v3, NID_subject_key_identifier, "hash") < 0 ||
	    add_ext(x, &v3, NID_subject_alt_name, san) < 0)
		return -1;
	return 0;
}

static X509 *make_cert(EVP_PKEY *key, const char *hostname, char *err,
		       size_t errlen)
{
	const unsigned char *cn = (const unsigned char *)hostname;
	X509 *x = X509_new();
	X509_NAME *name = x != NULL ? X509_get_subject_name(x) : NULL;
	time_t now = time(NULL); /* one clock reading for both ends */

	if (name == NULL || X509_set_version(x, X509_VERSION_3) != 1 ||
	    set_random_serial(x) < 0 ||
	    !X509_time_adj_ex(X509_getm_notBefore(x), 0, -DEV_CERT_BACKDATE,
			      &now) ||
	    !X509_time_adj_ex(X509_getm_notAfter(x), DEV_CERT_DAYS,
			      -DEV_CERT_BACKDATE, &now) ||
	    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, cn, -1, -1,
				       0) != 1 ||
	    X509_set_issuer_name(x, name) != 1 ||
	    X509_set_pubkey(x, key) != 1 || add_extensions(x, hostname) < 0 ||
	    X509_sign(x, key, EVP_sha256()) <= 0) {
		fail_ossl(err, errlen, "cannot make a certificate for %s",
			  hostname);
		X509_free(x);
		return NULL;
	}
	return x;
}

/* Write key (if not NULL) or cert as PEM to fd, then flush, fsync, close. */
static int write_pem(int fd, EVP_PKEY *key, X509 *cert, const char *tmp,
		     char *err, size_t errlen)
{
	FILE *fp = fdopen(fd, "w");
	int ok, e;

	if (fp == NULL) {
		e = errno;
		(void)close(fd); /* already failing */
		return fail_sys(err, errlen, e, "cannot write %s", tmp);
	}
	if (key != NULL)
		ok = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL);
	else
		ok = PEM_write_X509(fp, cert);
	if (ok != 1) {
		(void)fclose(fp); /* already failing */
		return fail_ossl(err, errlen, "cannot write %s", tmp);
	}
	if (fflush(fp) != 0 || fsync(fileno(fp)) != 0) {
		e = errno;
		(void)fclose(fp); /* already failing */
		return fail_sys(err, errlen, e, "cannot write %s", tmp);
	}
	if (fclose(fp) != 0)
		return fail_sys(err, errlen, errno, "cannot close %s", tmp);
	return 0;
}

/* Write to "<path>.tmpXXXXXX" with the given mode; returns its name. */
static char *write_temp(const char *path, mode_t mode, EVP_PKEY *key,
			X509 *cert, char *err, size_t errlen)
{
	size_t len = strlen(path) + sizeof(".tmpXXXXXX");
	char *tmp = malloc(len);
	int fd;

	if (tmp == NULL) {
		fail_sys(err, errlen, ENOMEM, "cannot write %s", path);
		return NULL;
	}
	fmt_into(tmp, len, "%s.tmpXXXXXX", path);
	fd = mkostemp(tmp, O_CLOEXEC); /* O_CREAT | O_EXCL, mode 0600 */
	if (fd < 0) {
		fail_sys(err, errlen, errno, "cannot create %s", tmp);
		free(tmp);
		return NULL;
	}
	if (fchmod(fd, mode) != 0) {
		fail_sys(err, errlen, errno, "cannot chmod %s", tmp);
		(void)close(fd); /* already failing */
	} else if (write_pem(fd, key, cert, tmp, err, errlen) == 0) {
		return tmp;
	}
	(void)unlink(tmp); /* best effort: the error is already reported */
	free(tmp);
	return NULL;
}

/* Temporary files, then renames: the pair appears whole or not at all. */
static int write_pair(const char *cert_file, const char *key_file, X509 *cert,
		      EVP_PKEY *key, char *err, size_t errlen)
{
	char *key_tmp, *cert_tmp = NULL;
	int rc = -1;

	key_tmp = write_temp(key_file, DEV_KEY_MODE, key, NULL, err, errlen);
	if (key_tmp == NULL)
		return -1;
	cert_tmp =
		write_temp(cert_file, DEV_CERT_MODE, NULL, cert, err, errlen);
	if (cert_tmp == NULL) {
		(void)unlink(key_tmp); /* best effort cleanup */
	} else if (rename(key_tmp, key_file) != 0) {
		fail_sys(err, errlen, errno, "cannot rename %s", key_tmp);
		(void)unlink(key_tmp);
		(void)unlink(cert_tmp);
	} else if (rename(cert_tmp, cert_file) != 0) {
		fail_sys(err, errlen, errno, "cannot rename %s", cert_tmp);
		(void)unlink(cert_tmp);
		(void)unlink(key_file); /* never leave half a pair */
	} else if (sync_parent(key_file, err, errlen) == 0 &&
		   sync_parent(cert_file, err, errlen) == 0) {
		rc = 0;
	}
	free(key_tmp);
	free(cert_tmp);
	return rc;
}

static int generate(const char *cert_file, const char *key_file,
		    const char *hostname, char *err, size_t errlen)
{
	EVP_PKEY *key;
	X509 *cert;
	int rc = -1;

	if (check_hostname(hostname, err, errlen) < 0 ||
	    make_parent(key_file, err, errlen) < 0 ||
	    make_parent(cert_file, err, errlen) < 0)
		return -1;
	key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	if (key == NULL)
		return fail_ossl(err, errlen, "%s", "cannot make a P-256 key");
	cert = make_cert(key, hostname, err, errlen);
	if (cert != NULL)
		rc = write_pair(cert_file, key_file, cert, key, err, errlen);
	X509_free(cert);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

int tls_ensure_self_signed(const char *cert_file, const char *key_file,
			   const char *hostname, char *err, size_t errlen)
{
	int have_cert, have_key;

	if (cert_file == NULL || key_file == NULL) {
		fmt_into(err, errlen, "%s",
			 "TLS needs a certificate and a key");
		return -1;
	}
	have_cert = file_exists(cert_file, err, errlen);
	if (have_cert < 0)
		return -1;
	have_key = file_exists(key_file, err, errlen);
	if (have_key < 0)
		return -1;
	if (have_cert && have_key)
		return 0;
	if (have_cert || have_key) {
		fmt_into(err, errlen,
			 "found %s but not %s; remove it or provide both",
			 have_cert ? cert_file : key_file,
			 have_cert ? key_file : cert_file);
		return -1;
	}
	return generate(cert_file, key_file, hostname, err, errlen);
}

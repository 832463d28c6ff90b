/*
 * net_tls.c - TLS for the harness's connections (see net.h): a client
 * context (TLS 1.2 and later, verification against a CA file and a host
 * name, RFC 6125 via SSL_set1_host), the handshake on an open connection
 * for implicit TLS (RFC 8314) and STARTTLS / STLS (RFC 3207, RFC 2595),
 * and reads and writes that wait as OpenSSL asks, within a deadline.
 */
#include "net_internal.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* The first OpenSSL error, or fallback. */
static void ssl_message(char *err, size_t errlen, const char *what,
			const char *fallback)
{
	unsigned long e = ERR_get_error();
	char text[256];
	if (e != 0)
		ERR_error_string_n(e, text, sizeof(text));
	else
		snprintf(text, sizeof(text), "%s", fallback);
	snprintf(err, errlen, "%s: %s", what, text);
	ERR_clear_error();
}

SSL_CTX *net_tls_ctx_new(const char *ca_file, bool verify, char *err,
			 size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL) {
		ssl_message(err, errlen, "TLS context", "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				      SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (!verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
		return ctx;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if ((ca_file != NULL &&
	     SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) ||
	    (ca_file == NULL && SSL_CTX_set_default_verify_paths(ctx) != 1)) {
		ssl_message(err, errlen, ca_file ? ca_file : "CA store",
			    "cannot load");
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

void net_tls_ctx_free(SSL_CTX **ctx)
{
	SSL_CTX_free(*ctx);
	*ctx = NULL;
}

void net_tls_free_ssl(struct net_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
}

/* After a failed SSL call: wait as asked (0 to retry) or say what ended
 * it (NET_EOF, NET_TIMEOUT, NET_ERR). */
static int after_error(struct net_conn *c, int ret, long long deadline,
		       const char *what, char *err, size_t errlen)
{
	int e = SSL_get_error(c->ssl, ret), w;
	switch (e) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		w = net_wait(c->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			     deadline);
		if (w > 0)
			return 0;
		if (w == 0)
			return NET_TIMEOUT;
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return NET_ERR;
	case SSL_ERROR_ZERO_RETURN:
		return NET_EOF;
	case SSL_ERROR_SYSCALL:
		if (ERR_peek_error() == 0 &&
		    (errno == 0 || errno == ECONNRESET || errno == EPIPE)) {
			c->reset = errno != 0;
			return NET_EOF;
		}
		ssl_message(err, errlen, what, strerror(errno));
		return NET_ERR;
	default:
		ssl_message(err, errlen, what, "protocol error");
		return NET_ERR;
	}
}

int net_tls_read(struct net_conn *c, void *data, size_t len, size_t *n_r,
		 long long deadline, char *err, size_t errlen)
{
	for (;;) {
		int ret, rc;
		ERR_clear_error();
		errno = 0;
		ret = SSL_read_ex(c->ssl, data, len, n_r);
		if (ret == 1)
			return NET_OK;
		rc = after_error(c, ret, deadline, "TLS read", err, errlen);
		if (rc != 0)
			return rc;
	}
}

int net_tls_write(struct net_conn *c, const void *data, size_t len, size_t *n_r,
		  long long deadline, char *err, size_t errlen)
{
	for (;;) {
		int ret, rc;
		ERR_clear_error();
		errno = 0;
		ret = SSL_write_ex(c->ssl, data, len, n_r);
		if (ret == 1)
			return NET_OK;
		rc = after_error(c, ret, deadline, "TLS write", err, errlen);
		if (rc == NET_EOF) {
			snprintf(err, errlen,
				 "the server closed the "
				 "connection while we sent");
			return NET_ERR;
		}
		if (rc != 0)
			return rc;
	}
}

static void handshake_failed(struct net_conn *c, char *err, size_t errlen)
{
	long v = SSL_get_verify_result(c->ssl);
	char why[256];
	if (v != X509_V_OK) {
		snprintf(why, sizeof(why), "%s",
			 X509_verify_cert_error_string(v));
		ERR_clear_error();
		snprintf(err, errlen, "TLS handshake: certificate: %s", why);
	}
}

static int handshake(struct net_conn *c, long long deadline, char *err,
		     size_t errlen)
{
	for (;;) {
		int ret, rc;
		ERR_clear_error();
		errno = 0;
		ret = SSL_connect(c->ssl);
		if (ret == 1)
			break;
		rc = after_error(c, ret, deadline, "TLS handshake", err,
				 errlen);
		if (rc == NET_ERR)
			handshake_failed(c, err, errlen);
		if (rc == NET_EOF)
			snprintf(err, errlen,
				 "TLS handshake: the server "
				 "closed the connection");
		if (rc != 0)
			return rc;
	}
	snprintf(c->tls_info, sizeof(c->tls_info), "%s %s",
		 SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	return NET_OK;
}

int net_tls_start(struct net_conn *c, SSL_CTX *ctx, const char *name,
		  long long deadline, size_t *dropped_r, char *err,
		  size_t errlen)
{
	char host[256]; /* SSL_set_tlsext_host_name() takes it non-const */

	snprintf(host, sizeof(host), "%s", name);
	if (dropped_r != NULL)
		*dropped_r = buf_len(&c->in);
	buf_clear(&c->in);
	if (c->fd < 0 || c->ssl != NULL) {
		snprintf(err, errlen,
			 c->fd < 0 ? "not connected" : "TLS is already active");
		return NET_ERR;
	}
	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->fd) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, host) != 1 ||
	    (SSL_CTX_get_verify_mode(ctx) != SSL_VERIFY_NONE &&
	     SSL_set1_host(c->ssl, name) != 1)) {
		ssl_message(err, errlen, "TLS setup", "out of memory");
		net_tls_free_ssl(c);
		return NET_ERR;
	}
	return handshake(c, deadline, err, errlen);
}

/*
 * tls.h - quilld's server TLS context (OpenSSL 3).
 *
 * One SSL_CTX serves every TLS listener and STARTTLS/STLS upgrade.
 * Versions: TLS 1.2 minimum and TLS 1.3 maximum, as RFC 8314 section 4.1
 * asks of mail services and RFC 8996 requires by deprecating TLS 1.0/1.1.
 * No compression, no renegotiation, server cipher preference, and only
 * forward-secret ECDHE AEAD suites for TLS 1.2 unless configured otherwise.
 *
 * For `quilld --dev`, tls_ensure_self_signed() makes an EC P-256 key and a
 * self-signed certificate whose subjectAltName carries the host name,
 * "localhost", 127.0.0.1 and ::1, which is where RFC 7817 (and RFC 6125)
 * clients look for the server identity.
 *
 * Errors come back as text in a caller's buffer; the OpenSSL error queue
 * is always left empty.
 */
#ifndef QUILL_SERVER_TLS_H
#define QUILL_SERVER_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tls_settings {
	/* PEM certificate, optionally followed by its chain */
	const char *cert_file;
	/* PEM private key, unencrypted */
	const char *key_file;
	/* PEM intermediate certificates sent after cert_file's, or NULL */
	const char *chain_file;
	/* TLS 1.2 cipher list; NULL = ECDHE with AES-GCM or ChaCha20 only */
	const char *ciphers12;
	/* TLS 1.3 ciphersuites; NULL = OpenSSL's default */
	const char *ciphersuites13;
};

/*
 * Make the server context. Returns NULL with a message naming the file
 * and OpenSSL's reason in err on failure.
 */
SSL_CTX *tls_server_ctx_new(const struct tls_settings *s, char *err,
			    size_t errlen);

/*
 * quilld --dev: create a self-signed certificate for hostname unless both
 * files exist already. The key is written with mode 0600, the certificate
 * 0644, each through a temporary file renamed into place; the immediate
 * parent directory is created (0700) if missing. Exactly one of the two
 * existing is an error. Returns 0 on success, -1 with a message in err.
 */
int tls_ensure_self_signed(const char *cert_file, const char *key_file,
			   const char *hostname, char *err, size_t errlen);

/*
 * Describe a connection's negotiated TLS, e.g.
 * "TLSv1.3 TLS_AES_256_GCM_SHA384 (256/256 bits)", for logs and Received.
 */
void tls_describe(const SSL *ssl, char *out, size_t n);

/* Pop every queued OpenSSL error and format them into out, "; "-joined. */
void tls_error_string(char *out, size_t n);

#endif /* QUILL_SERVER_TLS_H */

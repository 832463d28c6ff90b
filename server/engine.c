/*
 * engine.c - which engine serves which protocol (see engine.h).
 */
#include "engine.h"

const struct engine_ops *engine_for(enum config_proto proto)
{
	switch (proto) {
	case PROTO_SMTP:
	case PROTO_SUBMISSION:
	case PROTO_LMTP: /* the SMTP engine in LMTP mode (RFC 2033) */
		return &smtp_engine_ops;
	case PROTO_POP3:
		return &pop3_engine_ops;
	}
	return NULL;
}

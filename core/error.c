/* error.c: the per-thread error message behind oplog_error_last(). */
#include <stdarg.h>
#include <stdio.h>

#include "oplog/error.h"

static _Thread_local char last_msg[512];

const char *oplog_error_last(void)
{
	return last_msg;
}

int oplog_error__set(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_msg, sizeof(last_msg), fmt, ap);
	va_end(ap);
	return err;
}

const char *oplog_strerror(int err)
{
	switch (err) {
	case OPLOG_OK:        return "OK";
	case OPLOG_ENOMEM:    return "ENOMEM";
	case OPLOG_EINVAL:    return "EINVAL";
	case OPLOG_ENOTFOUND: return "ENOTFOUND";
	case OPLOG_EREJECT:   return "EREJECT";
	case OPLOG_EMAPFULL:  return "EMAPFULL";
	case OPLOG_EIO:       return "EIO";
	case OPLOG_ESCHEMA:   return "ESCHEMA";
	case OPLOG_EBUSY:     return "EBUSY";
	case OPLOG_ECONFIG:   return "ECONFIG";
	case OPLOG_EKAFKA:    return "EKAFKA";
	case OPLOG_ECORRUPT:  return "ECORRUPT";
	case OPLOG_ENOSPC:    return "ENOSPC";
	default:              return "ERROR";
	}
}

/* Control requests: rows of raw request lines and the one-line error each must get (or that
 * it parses). Runs the real dispatcher parser with the real command tables. */
#include <string.h>

#include "ctl/ctl.h"
#include "t.h"

static const struct {
	const char *name, *line, *err; /* err NULL = accepted */
} rows[] = {
	{"status, no args", "{\"cmd\":\"status\"}", NULL},
	{"status, empty args", "{\"cmd\":\"status\",\"args\":{}}", NULL},
	{"not JSON", "hello", "request: not one JSON object"},
	{"trailing garbage", "{\"cmd\":\"status\"} x", "request: not one JSON object"},
	{"array", "[1,2]", "request: not a JSON object"},
	{"unknown top-level field", "{\"cmd\":\"status\",\"x\":1}", "request: unknown field \"x\" (allowed: cmd, args)"},
	{"missing cmd", "{\"args\":{}}", "request: cmd: missing or not a string"},
	{"unknown command", "{\"cmd\":\"reboot\"}", "request: cmd: \"reboot\": unknown command"},
	{"args not an object", "{\"cmd\":\"status\",\"args\":[1]}", "request: args: not a JSON object"},
	{"unknown arg field", "{\"cmd\":\"switch.list\",\"args\":{\"name\":\"x\"}}", "switch.list: unknown field \"name\" (allowed: none)"},
	/* the longest list of fields, whole: every key of the peer decoder, none cut off */
	{"unknown bgp.peer.set field", "{\"cmd\":\"bgp.peer.set\",\"args\":{\"colour\":1}}",
	 "bgp.peer.set: unknown field \"colour\" (allowed: peerAddress, peerAsn, selfAsn, switch, "
	 "holdTime, keepaliveTime, connectTime, password, passwordFile, ebgpMultiHop, sourceAddress, "
	 "peerPort, passive, routerId, gracefulRestart, bfd, bfdMinTx, bfdMinRx, bfdMultiplier, "
	 "dynamicAsn, bfdPassive, bfdMinimumTtl, bfdAuthType, bfdAuthKeyId, bfdAuthKey, bfdEchoMode, "
	 "bfdEchoInterval, bfdAuthAcceptKeys)"},
};

int main(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *req = NULL, *args;
		const struct ctl_cmd *cmd;
		struct ctl_err e = {{0}};
		int rc = ctl_parse_request(rows[i].line, strlen(rows[i].line), &req, &cmd, &args, &e);

		T_BEGIN("ctl request: %s", rows[i].name);
		if (!rows[i].err) {
			T_EXPECT(rc == 0, "accepted (error: %s)", e.msg);
		} else {
			T_EXPECT(rc < 0, "refused");
			T_EXPECT(strstr(e.msg, rows[i].err) != NULL, "message: got \"%s\" want \"%s\"", e.msg, rows[i].err);
			T_EXPECT(req == NULL, "nothing returned on refusal");
		}
		T_END();
		json_object_put(req);
	}
	{
		size_t n = CTL_MAX_REQUEST + 10;
		char *big = malloc(n);
		struct json_object *req = NULL, *args;
		const struct ctl_cmd *cmd;
		struct ctl_err e = {{0}};

		memset(big, ' ', n);
		T_BEGIN("ctl request: oversized refused");
		T_EXPECT(ctl_parse_request(big, n, &req, &cmd, &args, &e) < 0 && strstr(e.msg, "larger than 16 MiB"),
			 "message: %s", e.msg);
		T_END();
		free(big);
	}
	return t_exit();
}

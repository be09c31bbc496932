/* Unit tests of the service JSON codec (config/service_json.c): accepted forms and their
 * decoded values, refused ones with the one-line message (field, value, allowed), round
 * trips through to_json, and backends in both spellings. */
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/alloc.h"
#include "config/config.h"
#include "t.h"

static const struct {
	const char *name, *json;
	const char *msg; /* NULL: accepted */
} rows[] = {
	{"minimal", "{\"name\":\"default/web\",\"ports\":[\"tcp/80\"]}", NULL},
	{"everything",
	 "{\"name\":\"prod/web\",\"ports\":[\"tcp/80\",\"udp/53\"],\"ips\":[\"10.0.0.5\",\"fd00::5\"],"
	 "\"pool\":\"p\",\"sharedKey\":\"k\",\"ipFamily\":\"dual\",\"backends\":[\"10.1.0.1:8080\","
	 "{\"address\":\"10.1.0.2\",\"port\":8080,\"weight\":0,\"state\":\"terminating\"}],"
	 "\"allowIcmpEcho\":true}",
	 NULL},
	{"ports as a comma string", "{\"name\":\"d/x\",\"ports\":\"tcp/80,udp/53\"}", NULL},
	{"unknown key", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"externalIPs\":[]}",
	 "externalIPs: unknown field (allowed: name, ports"},
	{"no namespace", "{\"name\":\"web\",\"ports\":[\"tcp/80\"]}",
	 "name: \"web\": not NAMESPACE/NAME"},
	{"no name", "{\"ports\":[\"tcp/80\"]}", "name: missing"},
	{"no ports", "{\"name\":\"d/x\"}", "ports: missing or empty"},
	{"invalid protocol", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\",\"sctp/9\"]}",
	 "ports: \"sctp/9\": unknown protocol \"sctp\" (allowed: tcp, udp)"},
	{"duplicate port", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\",\"TCP/80\"]}",
	 "ports: \"TCP/80\": listed twice"},
	{"bad ip", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.256\"]}",
	 "ips: \"10.0.0.256\": not a unicast IP address"},
	{"two ips of one family", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"10.0.0.1\","
				 "\"10.0.0.2\"]}",
	 "one address per family"},
	{"ip of the wrong family", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"fd00::1\"],"
				  "\"ipFamily\":\"ipv4\"}",
	 "ips: \"fd00::1\": not of ipFamily ipv4"},
	{"family", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ipFamily\":\"ipv5\"}",
	 "ipFamily: \"ipv5\": unknown family (allowed: ipv4, ipv6, dual)"},
	{"backend string", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"backends\":[\"10.1.0.1\"]}",
	 "backends: \"10.1.0.1\": not an address and port"},
	{"backend state", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"backends\":[{\"address\":"
			  "\"10.1.0.1\",\"port\":80,\"state\":\"sleepy\"}]}",
	 "backends.state: \"sleepy\": unknown state (allowed: ready, terminating, notReady)"},
	{"backend key", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"backends\":[{\"address\":"
			"\"10.1.0.1\",\"port\":80,\"zone\":\"a\"}]}",
	 "backends.zone: unknown field"},
	{"backend port", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"backends\":[{\"address\":"
			 "\"10.1.0.1\"}]}",
	 "missing port"},
	{"duplicate backend", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"backends\":[\"10.1.0.1:80\","
			      "\"10.1.0.1:80\"]}",
	 "listed twice"},
	{"allowIcmpEcho type", "{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"allowIcmpEcho\":[]}",
	 "allowIcmpEcho: []: wrong type"},
};

static void test_rows(void)
{
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct json_object *j = json_tokener_parse(rows[i].json), *back, *back2;
		struct cfg_service s, s2;
		char msg[512] = "";
		int rc = cfg_service_from_json(j, &s, msg, sizeof(msg));

		T_BEGIN("service json: %s", rows[i].name);
		if (!rows[i].msg) {
			T_EXPECT(rc == 0, "accepted (msg \"%s\")", msg);
			back = cfg_service_to_json(&s);
			T_EXPECT(cfg_service_from_json(back, &s2, msg, sizeof(msg)) == 0,
				 "to_json decodes again (msg \"%s\")", msg);
			back2 = cfg_service_to_json(&s2);
			T_EXPECT(json_object_equal(back, back2), "round trip is stable: %s",
				 json_object_to_json_string(back));
			json_object_put(back);
			json_object_put(back2);
			cfg_service_clear(&s);
			cfg_service_clear(&s2);
		} else {
			T_EXPECT(rc < 0 && strstr(msg, rows[i].msg) && !strchr(msg, '\n'),
				 "refused with one line containing \"%s\" (got \"%s\")", rows[i].msg,
				 msg);
		}
		json_object_put(j);
		T_END();
	}
}

static void test_values(void)
{
	struct json_object *j = json_tokener_parse(rows[1].json);
	struct cfg_service s;
	char msg[512], a[IP_STRLEN];

	T_BEGIN("service json: decoded values of every field");
	T_EXPECT(cfg_service_from_json(j, &s, msg, sizeof(msg)) == 0, "accepted");
	T_EXPECT(!strcmp(s.name, "prod/web") && s.n_ports == 2 && s.ports[1].proto == IPPROTO_UDP &&
			 s.ports[1].port == 53,
		 "name and ports");
	T_EXPECT(s.n_req_ips == 2 && !strcmp(ip_str(&s.req_ips[1], a), "fd00::5") &&
			 s.family == CFG_FAM_DUAL && !strcmp(s.pool, "p") &&
			 !strcmp(s.shared_key, "k") && s.allow_icmp_echo,
		 "ips, family, pool, key, icmp");
	T_EXPECT(s.n_backends == 2 && s.backends[0].weight == 1 &&
			 s.backends[0].state == CFG_BE_READY && s.backends[1].weight == 0 &&
			 s.backends[1].state == CFG_BE_TERMINATING && s.backends[1].port == 8080,
		 "backends in both spellings");
	cfg_service_clear(&s);
	json_object_put(j);
	T_END();

	T_BEGIN("service json: family follows the requested addresses when not given");
	j = json_tokener_parse("{\"name\":\"d/x\",\"ports\":[\"tcp/80\"],\"ips\":[\"fd00::1\"]}");
	T_EXPECT(cfg_service_from_json(j, &s, msg, sizeof(msg)) == 0 && s.family == CFG_FAM_IPV6,
		 "one IPv6 address: ipv6");
	cfg_service_clear(&s);
	json_object_put(j);
	j = json_tokener_parse("{\"name\":\"d/x\",\"ports\":[\"tcp/80\"]}");
	T_EXPECT(cfg_service_from_json(j, &s, msg, sizeof(msg)) == 0 && s.family == CFG_FAM_IPV4,
		 "nothing: ipv4");
	cfg_service_clear(&s);
	json_object_put(j);
	T_END();
}

int main(void)
{
	test_rows();
	test_values();
	return t_exit();
}

/* apply -f of Kubernetes EndpointSlice manifests (discovery.k8s.io/v1): the endpoints of a
 * slice become the backends of its service (label kubernetes.io/service-name, same namespace),
 * one backend per address and port. Conditions (KEP-1672): ready → ready; not ready but
 * serving and terminating → terminating (no new flows, existing ones kept); otherwise
 * notReady (no new flows). A slice replaces the service's backends of its addressType; several
 * slices of one service in one apply are merged. A row of manifest_kinds (alloc/manifest.c). */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/manifest.h"
#include "config/config.h"
#include "lib/ip.h"

/* Services whose backends this apply already replaced (slices after the first one append). */
static const struct manifest *es_apply;
static int es_last_doc;
static char es_seen[64][2 * CFG_NAME_MAX + 2];
static char es_seen_fam[64];
static int es_n;

static bool es_first(const struct manifest *m, const char *key, char fam)
{
	if (m != es_apply || m->doc <= es_last_doc - 1000 || m->doc < es_last_doc) {
		es_apply = m;
		es_n = 0;
	}
	es_last_doc = m->doc;
	for (int i = 0; i < es_n; i++)
		if (!strcmp(es_seen[i], key) && es_seen_fam[i] == fam)
			return false;
	if (es_n < 64) {
		snprintf(es_seen[es_n], sizeof(es_seen[es_n]), "%s", key);
		es_seen_fam[es_n++] = fam;
	}
	return true;
}

static bool cond(struct json_object *ep, const char *name, bool dflt)
{
	struct json_object *v = manifest_get(ep, name);

	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

static int backend_family(struct json_object *b)
{
	const char *s = NULL;
	struct json_object *v;
	struct ip ip;
	char host[IP_STRLEN + 2];

	if (json_object_is_type(b, json_type_object) && json_object_object_get_ex(b, "address", &v))
		s = json_object_get_string(v);
	else if (json_object_is_type(b, json_type_string)) {
		const char *str = json_object_get_string(b), *end;

		if (*str == '[') {
			end = strchr(str, ']');
			if (!end || (size_t)(end - str - 1) >= sizeof(host))
				return 0;
			memcpy(host, str + 1, (size_t)(end - str - 1));
			host[end - str - 1] = '\0';
		} else {
			end = strrchr(str, ':');
			if (!end || (size_t)(end - str) >= sizeof(host))
				return 0;
			memcpy(host, str, (size_t)(end - str));
			host[end - str] = '\0';
		}
		s = host;
	}
	return s && ip_parse(s, &ip) == 0 ? ip.family : 0;
}

int dp_manifest_endpointslice(struct manifest *m, struct json_object *doc, const char *what,
			      char *msg, size_t len);

int dp_manifest_endpointslice(struct manifest *m, struct json_object *doc, const char *what,
			      char *msg, size_t len)
{
	static const char *const known[] = {"apiVersion", "kind", "metadata", "addressType",
					    "ports", "endpoints", NULL};
	static const char *const ep_known[] = {"addresses", "conditions", "nodeName", "zone",
					       "targetRef", "hostname", "hints", NULL};
	const char *ns = manifest_str(doc, "metadata.namespace");
	const char *svc = NULL;
	const char *at = manifest_str(doc, "addressType");
	struct json_object *labels = manifest_get(doc, "metadata.labels");
	struct json_object *ports = manifest_get(doc, "ports");
	struct json_object *eps = manifest_get(doc, "endpoints");
	struct json_object *obj, *old, *nb;
	char key[2 * CFG_NAME_MAX + 2];
	int fam;

	if (labels && json_object_is_type(labels, json_type_object)) {
		struct json_object *v;

		if (json_object_object_get_ex(labels, "kubernetes.io/service-name", &v))
			svc = json_object_get_string(v);
	}
	if (!svc) {
		snprintf(msg, len, "%s: metadata.labels.kubernetes.io/service-name: missing "
			 "(allowed: the name of the slice's Service)", what);
		return -1;
	}
	if (!at || (strcmp(at, "IPv4") && strcmp(at, "IPv6"))) {
		snprintf(msg, len, "%s: addressType: \"%s\": not supported (allowed: IPv4, IPv6)",
			 what, at ? at : "");
		return -1;
	}
	fam = !strcmp(at, "IPv4") ? AF_INET : AF_INET6;
	manifest_unsupported(m, what, "", doc, known);
	snprintf(key, sizeof(key), "%s/%s", ns ? ns : "default", svc);
	obj = manifest_obj(m, CFG_KIND_SERVICE, key);
	if (!obj) {
		snprintf(msg, len, "%s: service %s: not found (allowed: a slice of an existing "
			 "Service, or of one applied in the same file)", what, key);
		return -1;
	}
	nb = json_object_new_array();
	/* keep the other family's backends, and this family's from earlier slices of this apply */
	if (json_object_object_get_ex(obj, "backends", &old) &&
	    json_object_is_type(old, json_type_array)) {
		bool first = es_first(m, key, (char)fam);

		for (size_t i = 0; i < json_object_array_length(old); i++) {
			struct json_object *b = json_object_array_get_idx(old, i);

			if (!first || backend_family(b) != fam)
				json_object_array_add(nb, json_object_get(b));
		}
	} else {
		es_first(m, key, (char)fam);
	}
	for (size_t e = 0; eps && json_object_is_type(eps, json_type_array) &&
			   e < json_object_array_length(eps);
	     e++) {
		struct json_object *ep = json_object_array_get_idx(eps, e);
		struct json_object *addrs = manifest_get(ep, "addresses");
		struct json_object *conds = manifest_get(ep, "conditions");
		/* KEP-1672: a nil ready means ready; serving defaults to ready */
		bool ready = cond(conds, "ready", true);
		bool serving = cond(conds, "serving", ready);
		bool term = cond(conds, "terminating", false);
		const char *state = ready && !term ? "ready" : serving && term ? "terminating"
									   : "notReady";

		manifest_unsupported(m, what, "endpoints[]", ep, ep_known);

		for (size_t a = 0; addrs && json_object_is_type(addrs, json_type_array) &&
				   a < json_object_array_length(addrs);
		     a++) {
			const char *addr = json_object_get_string(json_object_array_get_idx(addrs, a));
			struct ip ip;

			if (!addr || ip_parse(addr, &ip) || ip.family != fam) {
				snprintf(msg, len, "%s: endpoints[%zu].addresses[%zu]: \"%s\": not an %s "
					 "address (allowed: the slice's addressType)", what, e, a,
					 addr ? addr : "", at);
				json_object_put(nb);
				return -1;
			}
			for (size_t p = 0; ports && json_object_is_type(ports, json_type_array) &&
					   p < json_object_array_length(ports);
			     p++) {
				struct json_object *port = manifest_get(
					json_object_array_get_idx(ports, p), "port");
				struct json_object *b;

				if (!port || !json_object_is_type(port, json_type_int)) {
					snprintf(msg, len, "%s: ports[%zu].port: missing or not a number "
						 "(allowed: 1-65535)", what, p);
					json_object_put(nb);
					return -1;
				}
				b = json_object_new_object();
				json_object_object_add(b, "address", json_object_new_string(addr));
				json_object_object_add(b, "port", json_object_get(port));
				json_object_object_add(b, "state", json_object_new_string(state));
				json_object_array_add(nb, b);
			}
		}
	}
	json_object_object_add(obj, "backends", nb);
	return 0;
}

/* apply -f: the objects a MetalLB BGPPeer names instead of carrying the values itself —
 * spec.bfdProfile a BFDProfile (metallb.io/v1beta1), spec.passwordSecret a Secret of type
 * kubernetes.io/basic-auth (core v1). edgelb stores neither: each must be a document of the
 * same file, and its values are copied into the peer once every document is read (a profile
 * or secret may come after the peer). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "alloc/manifest.h"
#include "bgp/manifest_bgp.h"
#include "config/config.h"
#include "lib/base64.h"

/* The manifest_later key of the references read so far ({peer, kind, name, field, what});
 * the referenced objects wait under their kind ("BFDProfile", "Secret"), by name. */
#define REFS_KEY "peerRefs"

/* "namespace/name" of a document (namespace "default" when none). */
static void ns_name(struct json_object *doc, const char *name, char *out, size_t len)
{
	const char *ns = manifest_str(doc, "metadata.namespace");

	snprintf(out, len, "%s/%s", ns && *ns ? ns : "default", name);
}

/* Remembers that the peer (store key) takes the values of the kind's object named name. */
static void add_ref(struct manifest *m, const char *peer, const char *kind, const char *name,
		    const char *field, const char *what)
{
	struct json_object *e = json_object_new_object();

	json_object_object_add(e, "peer", json_object_new_string(peer));
	json_object_object_add(e, "kind", json_object_new_string(kind));
	json_object_object_add(e, "name", json_object_new_string(name));
	json_object_object_add(e, "field", json_object_new_string(field));
	json_object_object_add(e, "what", json_object_new_string(what));
	json_object_array_add(manifest_later(m, REFS_KEY, true), e);
}

int bgp_manifest_peer_refs(struct manifest *m, struct json_object *doc, const char *peer,
			   const char *what, char *msg, size_t len)
{
	struct json_object *spec = manifest_get(doc, "spec"), *v;
	char key[256];

	if (json_object_object_get_ex(spec, "bfdProfile", &v)) {
		if (!json_object_is_type(v, json_type_string)) {
			snprintf(msg, len,
				 "%s: spec.bfdProfile: %s: wrong type (allowed: a BFDProfile name)",
				 what, manifest_text(v));
			return -1;
		}
		if (*json_object_get_string(v)) /* MetalLB: empty is no profile */
			add_ref(m, peer, "BFDProfile", json_object_get_string(v), "spec.bfdProfile",
				what);
	}
	if (json_object_object_get_ex(spec, "passwordSecret", &v)) {
		const char *name = manifest_str(v, "name"), *ns = manifest_str(v, "namespace");

		if (!json_object_is_type(v, json_type_object) || !name || !*name) {
			snprintf(msg, len,
				 "%s: spec.passwordSecret: %s: not a Secret reference (allowed: "
				 "{name, namespace})",
				 what, manifest_text(v));
			return -1;
		}
		if (json_object_object_get_ex(spec, "password", NULL)) {
			snprintf(msg, len,
				 "%s: spec.passwordSecret: set together with spec.password (allowed: "
				 "one of them)",
				 what);
			return -1;
		}
		if (ns && *ns)
			snprintf(key, sizeof(key), "%s/%s", ns, name);
		else /* the BGPPeer's own namespace */
			ns_name(doc, name, key, sizeof(key));
		add_ref(m, peer, "Secret", key, "spec.passwordSecret", what);
	}
	return 0;
}

/* Adds the object a kind's document declares under name, refusing a second one. */
static int put_target(struct manifest *m, const char *kind, const char *name,
		      struct json_object *vals, const char *what, char *msg, size_t len)
{
	struct json_object *all = manifest_later(m, kind, false);

	if (json_object_object_get_ex(all, name, NULL)) {
		snprintf(msg, len,
			 "%s: metadata.name: \"%s\": a second %s of that name (allowed: each %s "
			 "name once per apply)",
			 what, name, kind, kind);
		json_object_put(vals);
		return -1;
	}
	json_object_object_add(all, name, vals);
	return 0;
}

/* --- BFDProfile -------------------------------------------------------------------------- */

/* MetalLB's BFDProfile field → the peer's BFD key, with the check the peer decoder makes;
 * echo_only fields are read only with echoMode true (otherwise accepted, of no effect). */
static const struct {
	const char *metallb, *edgelb, *allowed;
	int (*check)(const char *field, uint64_t v, char *msg, size_t len);
	bool echo_only;
} bfd_fields[] = {
    {"receiveInterval", "bfdMinRx", "10-60000 milliseconds", cfg_check_bfd_interval},
    {"transmitInterval", "bfdMinTx", "10-60000 milliseconds", cfg_check_bfd_interval},
    {"detectMultiplier", "bfdMultiplier", "1-255", cfg_check_bfd_mult},
    {"minimumTtl", "bfdMinimumTtl", "1-255", cfg_check_bfd_ttl},
    {"echoInterval", "bfdEchoInterval", "10-60000 milliseconds", cfg_check_bfd_interval, true},
};

/* A BFDProfile: bfd on, its timers, role, echo function and multihop TTL for the peers naming
 * it. echoMode true turns on the echo function (RFC 5880 6.4), which the peer decoder allows
 * for IPv4 single-hop peers only, at echoInterval (unset: CFG_BFD_ECHO_DEF_MS, as MetalLB's
 * default); without echoMode true, echoInterval is accepted and has no effect. minimumTtl
 * applies to multihop sessions (a single-hop one takes TTL 255 only, RFC 5881 5), as in
 * MetalLB. */
int bgp_manifest_bfdprofile(struct manifest *m, struct json_object *doc, const char *what,
			    char *msg, size_t len)
{
	static const char *const spec_known[] = {"receiveInterval", "transmitInterval",
						 "detectMultiplier", "minimumTtl",
						 "echoInterval",    "echoMode",
						 "passiveMode",     NULL};
	const char *name = manifest_str(doc, "metadata.name");
	struct json_object *spec = manifest_get(doc, "spec"), *t, *v;
	char field[64], err[256];
	bool echo = false;

	if (!name || !*name) {
		snprintf(msg, len, "%s: metadata.name: missing (allowed: a BFDProfile name)", what);
		return -1;
	}
	if (spec && !json_object_is_type(spec, json_type_object)) {
		snprintf(msg, len, "%s: spec: %s: not a mapping (allowed: a mapping)", what,
			 manifest_text(spec));
		return -1;
	}
	manifest_unsupported(m, what, "spec", spec, spec_known);
	if (spec && json_object_object_get_ex(spec, "echoMode", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			snprintf(msg, len,
				 "%s: spec.echoMode: %s: not a boolean (allowed: true, false)",
				 what, manifest_text(v));
			return -1;
		}
		echo = json_object_get_boolean(v);
	}
	if (spec && json_object_object_get_ex(spec, "passiveMode", &v) &&
	    !json_object_is_type(v, json_type_boolean)) {
		snprintf(msg, len, "%s: spec.passiveMode: %s: not a boolean (allowed: true, false)",
			 what, manifest_text(v));
		return -1;
	}
	t = json_object_new_object();
	json_object_object_add(t, "bfd", json_object_new_boolean(1));
	if (spec && json_object_object_get_ex(spec, "passiveMode", &v) &&
	    json_object_get_boolean(v))
		json_object_object_add(t, "bfdPassive", json_object_new_boolean(1));
	if (echo)
		json_object_object_add(t, "bfdEchoMode", json_object_new_boolean(1));
	for (size_t i = 0; spec && i < sizeof(bfd_fields) / sizeof(bfd_fields[0]); i++) {
		int64_t n;

		if (!json_object_object_get_ex(spec, bfd_fields[i].metallb, &v) ||
		    (bfd_fields[i].echo_only && !echo))
			continue;
		snprintf(field, sizeof(field), "spec.%s", bfd_fields[i].metallb);
		if (!json_object_is_type(v, json_type_int) || (n = json_object_get_int64(v)) < 0) {
			snprintf(msg, len, "%s: %s: %s: not a whole number (allowed: %s)", what,
				 field, manifest_text(v), bfd_fields[i].allowed);
			json_object_put(t);
			return -1;
		}
		if (bfd_fields[i].check(field, (uint64_t)n, err, sizeof(err)) < 0) {
			snprintf(msg, len, "%s: %s", what, err);
			json_object_put(t);
			return -1;
		}
		json_object_object_add(t, bfd_fields[i].edgelb, json_object_new_int64(n));
	}
	return put_target(m, "BFDProfile", name, t, what, msg, len);
}

/* --- Secret (kubernetes.io/basic-auth) --------------------------------------------------- */

/* A basic-auth Secret: the TCP MD5 password (RFC 2385) of the peers naming it. Other types
 * are not edgelb's: warned about and ignored. stringData wins over data, as in Kubernetes. */
int bgp_manifest_secret(struct manifest *m, struct json_object *doc, const char *what, char *msg,
			size_t len)
{
	const char *name = manifest_str(doc, "metadata.name"), *type = manifest_str(doc, "type");
	const char *plain = manifest_str(doc, "stringData.password");
	const char *b64 = manifest_str(doc, "data.password");
	unsigned char pw[CFG_PASSWORD_MAX + 1];
	struct json_object *t;
	char key[256];
	int n;

	if (!type || strcmp(type, "kubernetes.io/basic-auth") != 0) {
		manifest_warn(m,
			      "%s: type \"%s\": not used by edgelb (only kubernetes.io/basic-auth "
			      "Secrets named by a BGPPeer's passwordSecret), ignored",
			      what, type ? type : "Opaque");
		return 0;
	}
	if (!name || !*name) {
		snprintf(msg, len, "%s: metadata.name: missing (allowed: a Secret name)", what);
		return -1;
	}
	if (plain) {
		n = (int)strlen(plain);
		if (n > CFG_PASSWORD_MAX) {
			snprintf(msg, len,
				 "%s: stringData.password: %d bytes: too long (allowed: 1-%d bytes, "
				 "the TCP MD5 key limit)",
				 what, n, CFG_PASSWORD_MAX);
			return -1;
		}
		memcpy(pw, plain, (size_t)n);
	} else if (b64) {
		n = base64_decode(b64, pw, CFG_PASSWORD_MAX);
		if (n < 0 || memchr(pw, '\0', (size_t)n)) {
			snprintf(msg, len,
				 "%s: data.password: not base64 of 1-%d bytes without NUL (allowed: "
				 "standard base64 with padding, RFC 4648)",
				 what, CFG_PASSWORD_MAX);
			return -1;
		}
	} else {
		snprintf(msg, len,
			 "%s: data.password: missing (allowed: the password, base64, in data or "
			 "as text in stringData)",
			 what);
		return -1;
	}
	if (n == 0) {
		snprintf(msg, len, "%s: password: empty (allowed: 1-%d bytes)", what,
			 CFG_PASSWORD_MAX);
		return -1;
	}
	t = json_object_new_object();
	json_object_object_add(t, "password", json_object_new_string_len((const char *)pw, n));
	ns_name(doc, name, key, sizeof(key));
	return put_target(m, "Secret", key, t, what, msg, len);
}

/* --- resolution --------------------------------------------------------------------------- */

int bgp_manifest_resolve_refs(struct manifest *m, char *msg, size_t len)
{
	struct json_object *refs = manifest_later(m, REFS_KEY, true);

	for (size_t i = 0; i < json_object_array_length(refs); i++) {
		struct json_object *e = json_object_array_get_idx(refs, i), *vals, *peer;
		const char *kind = manifest_str(e, "kind"), *name = manifest_str(e, "name");

		if (!json_object_object_get_ex(manifest_later(m, kind, false), name, &vals)) {
			snprintf(msg, len,
				 "%s: %s: \"%s\": no %s of that name (allowed: a %s%s of this "
				 "apply)",
				 manifest_str(e, "what"), manifest_str(e, "field"), name, kind,
				 !strcmp(kind, "Secret") ? "kubernetes.io/basic-auth " : "", kind);
			return -1;
		}
		peer = manifest_obj(m, CFG_KIND_PEER, manifest_str(e, "peer"));
		if (!peer)
			continue;
		json_object_object_foreach(vals, k, v)
			json_object_object_add(peer, k, json_object_get(v));
	}
	return 0;
}

/* apply -f: Kubernetes-style manifests (several YAML documents) translated into edgelb's
 * runtime objects (store kind, key, JSON form), validated as a set, diffed against the store
 * and committed (or only reported with dryRun). One row per manifest kind in manifest_kinds[]
 * (manifest.c); other modules add their kinds (BGPPeer, BGPAdvertisement, Community,
 * L2Advertisement, EndpointSlice) as rows whose function fills the set with manifest_add()
 * or edits objects fetched with manifest_obj(). */
#ifndef EDGELB_ALLOC_MANIFEST_H
#define EDGELB_ALLOC_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>

struct agent;
struct json_object;

struct hmap;

struct manifest_obj {
	char kind[32];		 /* store kind: CFG_KIND_POOL, CFG_KIND_SERVICE, ... */
	char *key;		 /* store key: pool name, "ns/name", ... (owned) */
	struct json_object *val; /* edgelb JSON form (owned) */
	char *what;		 /* "IPAddressPool default (doc 2)" for messages (owned) */
	bool implicit;		 /* fetched by manifest_obj, not declared by a document */
};

struct manifest {
	struct agent *a;
	const char *file;
	struct manifest_obj *v;
	int n, cap;
	struct json_object *warnings; /* array of strings */
	int doc;		      /* 1-based index of the document being translated */
	struct hmap *idx;	      /* hash of (kind, key) → index in v (manifest.c) */
	struct json_object *later;    /* rows' state resolved after the last document (owned) */
};

/* Translates one document. what: "Kind name (file doc N)". 0, or -1 with msg. */
typedef int (*manifest_fn)(struct manifest *m, struct json_object *doc, const char *what, char *msg,
			   size_t len);

struct manifest_kind {
	const char *group; /* API group: "metallb.io", "" for core v1, "discovery.k8s.io" */
	const char *kind;
	manifest_fn fn;
};
extern const struct manifest_kind manifest_kinds[];

/* Adds (kind, key) → val (consumed). A second declaration of one object is refused; an
 * implicit one (from manifest_obj) is replaced, keeping the fields in keep[] (NULL-ended). */
int manifest_add(struct manifest *m, const char *kind, const char *key, struct json_object *val,
		 const char *what, const char *const *keep, char *msg, size_t len);
/* The object being applied, else a copy of the current one (store, then config), added to
 * the set as implicit so a row can edit it; NULL when it exists nowhere. Borrowed. */
struct json_object *manifest_obj(struct manifest *m, const char *kind, const char *key);
void manifest_warn(struct manifest *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Warns about each key of obj not in known[] (NULL-ended): "what: path.key: not supported,
 * ignored". */
void manifest_unsupported(struct manifest *m, const char *what, const char *path,
			  struct json_object *obj, const char *const *known);
/* String at a dotted path ("metadata.name"), or NULL. */
const char *manifest_str(struct json_object *doc, const char *path);
struct json_object *manifest_get(struct json_object *doc, const char *path);
/* A value as plain JSON text for messages ("null" for none). */
const char *manifest_text(struct json_object *v);
/* m->later[key], what the rows defer until every document is read: created on first use as
 * an array (is_array) or an object. Borrowed. */
struct json_object *manifest_later(struct manifest *m, const char *key, bool is_array);

/* Runs a whole apply: parse, translate, validate, diff, commit unless dry. 0 with *res
 * {dryRun, changes:[{kind, name, action}], warnings:[...]}, or -1 with msg (nothing changed). */
int manifest_apply(struct agent *a, const char *file, const char *yaml, bool dry,
		   struct json_object **res, char *msg, size_t len);

/* alloc/ctl.c: a service checked against the running state (pool exists, requested IPs in a
 * pool, free or shareable). 0, or -1 with msg. */
struct cfg_service;
int alloc_check_service(struct agent *a, const struct cfg_service *s, char *msg, size_t len);

#endif

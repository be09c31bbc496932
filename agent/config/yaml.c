/* The YAML config file: libyaml events are turned into json-c trees (each node remembers its
 * line) and the top-level sections decoded — switches and node here, pools, bgpPeers and
 * services through the same cfg_*_from_json decoders the control socket and the store use. A
 * list section is converted and decoded one item at a time (never the whole file as JSON).
 * Every error of a file is collected, each as "file:line: section[i]: field: value: allowed". */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>
#include <yaml.h>

#include "config/config.h"
#include "lib/log.h"

#define MAX_DEPTH 64

/* json-c lets us hang a pointer on every object: the YAML line number lives there. */
static void set_line(struct json_object *o, size_t line)
{
	if (o)
		json_object_set_userdata(o, (void *)(uintptr_t)(line + 1), NULL);
}

static int line_of(struct json_object *o)
{
	return o ? (int)(uintptr_t)json_object_get_userdata(o) : 0;
}

/* The line of a key: its value's line when the value sits on it, else the mapping's. */
static int key_line(struct json_object *map, struct json_object *val)
{
	int l = line_of(val);

	return l && !json_object_is_type(val, json_type_object) && !json_object_is_type(val, json_type_array) ? l
													      : line_of(map);
}

/* A plain scalar becomes a typed JSON value (YAML 1.1 core schema, the subset configs use);
 * a quoted one is always a string. */
static struct json_object *scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	char *end;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_object_new_string_len(v, (int)ev->data.scalar.length);
	if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		return json_object_new_boolean(1);
	if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
		return json_object_new_boolean(0);
	if (!*v || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null"))
		return NULL;
	if ((*v >= '0' && *v <= '9') || ((*v == '-' || *v == '+') && v[1] >= '0' && v[1] <= '9')) {
		errno = 0;
		long long n = strtoll(v, &end, 10);
		if (!*end && !errno)
			return json_object_new_int64(n);
	}
	return json_object_new_string_len(v, (int)ev->data.scalar.length);
}

struct yparse {
	yaml_parser_t p;
	const char *name;
	struct cfg_errs *errs;
};

static int parse_node(struct yparse *y, yaml_event_t *ev, struct json_object **out, int depth);

static int next(struct yparse *y, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&y->p, ev)) {
		cfg_errs_add(y->errs, "%s:%zu: YAML syntax: %s", y->name, y->p.problem_mark.line + 1,
			     y->p.problem ? y->p.problem : "invalid document");
		return -1;
	}
	return 0;
}

static int parse_children(struct yparse *y, struct json_object *o, bool mapping, int depth)
{
	yaml_event_t ev;

	for (;;) {
		struct json_object *val = NULL;

		if (next(y, &ev) < 0)
			return -1;
		if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (mapping) {
			size_t line = ev.start_mark.line;
			if (ev.type != YAML_SCALAR_EVENT) {
				cfg_errs_add(y->errs, "%s:%zu: a mapping key must be a plain string", y->name, line + 1);
				yaml_event_delete(&ev);
				return -1;
			}
			char *k = strdup((const char *)ev.data.scalar.value);
			yaml_event_delete(&ev);
			if (!k || next(y, &ev) < 0) {
				free(k);
				return -1;
			}
			if (parse_node(y, &ev, &val, depth + 1) < 0) {
				free(k);
				return -1;
			}
			if (json_object_object_get_ex(o, k, NULL))
				cfg_errs_add(y->errs, "%s:%zu: %s: key given twice", y->name, line + 1, k);
			json_object_object_add(o, k, val);
			free(k);
		} else {
			if (parse_node(y, &ev, &val, depth + 1) < 0)
				return -1;
			json_object_array_add(o, val);
		}
	}
}

/* Consumes ev (and the events of its children). */
static int parse_node(struct yparse *y, yaml_event_t *ev, struct json_object **out, int depth)
{
	size_t line = ev->start_mark.line;
	int rc = 0;

	*out = NULL;
	if (depth > MAX_DEPTH) {
		cfg_errs_add(y->errs, "%s:%zu: nested deeper than %d levels", y->name, line + 1, MAX_DEPTH);
		yaml_event_delete(ev);
		return -1;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		*out = scalar(ev);
		break;
	case YAML_ALIAS_EVENT:
		cfg_errs_add(y->errs, "%s:%zu: YAML aliases are not supported", y->name, line + 1);
		rc = -1;
		break;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT: {
		bool mapping = ev->type == YAML_MAPPING_START_EVENT;
		*out = mapping ? json_object_new_object() : cfg_json_array(1);
		yaml_event_delete(ev);
		set_line(*out, line);
		if (parse_children(y, *out, mapping, depth) < 0) {
			json_object_put(*out);
			*out = NULL;
			return -1;
		}
		return 0;
	}
	default:
		cfg_errs_add(y->errs, "%s:%zu: unexpected YAML event", y->name, line + 1);
		rc = -1;
	}
	set_line(*out, line);
	yaml_event_delete(ev);
	return rc;
}

/* Runs fn on each document of a YAML stream: ev is the document's first node event (fn
 * consumes it), line where the document starts. 0, or -1 on a YAML error (reported) or when fn
 * fails. */
typedef int (*doc_fn)(struct yparse *y, yaml_event_t *ev, size_t line, void *arg);
static int each_doc(struct yparse *y, const char *buf, size_t len, doc_fn fn, void *arg)
{
	yaml_event_t ev;
	int rc = 0;

	yaml_parser_initialize(&y->p);
	yaml_parser_set_input_string(&y->p, (const unsigned char *)buf, len);
	for (;;) {
		if (next(y, &ev) < 0) {
			rc = -1;
			break;
		}
		if (ev.type == YAML_STREAM_END_EVENT) {
			yaml_event_delete(&ev);
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			size_t line = ev.start_mark.line;

			yaml_event_delete(&ev);
			if (next(y, &ev) < 0 || fn(y, &ev, line, arg) < 0) {
				rc = -1;
				break;
			}
			continue;
		}
		yaml_event_delete(&ev); /* stream start, document end */
	}
	yaml_parser_delete(&y->p);
	return rc;
}

struct doc_fn {
	int (*fn)(struct json_object *doc, void *arg);
	void *arg;
};

static int json_doc(struct yparse *y, yaml_event_t *ev, size_t line, void *arg)
{
	const struct doc_fn *d = arg;
	struct json_object *root;
	int rc;

	if (parse_node(y, ev, &root, 0) < 0)
		return -1;
	if (!root) {
		root = json_object_new_object();
		set_line(root, line);
	}
	rc = d->fn(root, d->arg);
	json_object_put(root);
	return rc;
}

int yaml_each_json(const char *name, const char *buf, size_t len, struct cfg_errs *errs,
		   int (*fn)(struct json_object *doc, void *arg), void *arg)
{
	struct yparse y = {.name = name, .errs = errs};
	struct doc_fn d = {fn, arg};

	return each_doc(&y, buf, len, json_doc, &d);
}

/* --- sections -------------------------------------------------------------- */

struct ctx {
	const char *name;
	struct cfg_errs *errs;
};

static const char *type_name(struct json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "boolean";
	case json_type_int:
	case json_type_double:
		return "number";
	case json_type_string:
		return "string";
	case json_type_array:
		return "list";
	default:
		return "mapping";
	}
}

static int want_string(struct ctx *c, struct json_object *v, const char *where, const char *field,
		       char *dst, size_t cap)
{
	if (!json_object_is_type(v, json_type_string)) {
		cfg_errs_add(c->errs, "%s:%d: %s%s: %s given (allowed: a string)", c->name, line_of(v), where, field, type_name(v));
		return -1;
	}
	if (strlen(json_object_get_string(v)) >= cap || !*json_object_get_string(v)) {
		cfg_errs_add(c->errs, "%s:%d: %s%s: \"%s\": length (allowed: 1 to %zu characters)", c->name, line_of(v), where, field,
			     json_object_get_string(v), cap - 1);
		return -1;
	}
	strcpy(dst, json_object_get_string(v));
	return 0;
}

static void parse_node_section(struct ctx *c, struct json_object *v, struct cfg *cfg)
{
	if (!json_object_is_type(v, json_type_object)) {
		cfg_errs_add(c->errs, "%s:%d: node: %s given (allowed: a mapping)", c->name, line_of(v), type_name(v));
		return;
	}
	json_object_object_foreach(v, k, x)
	{
		if (!strcmp(k, "name")) {
			want_string(c, x, "node.", k, cfg->node.name, sizeof(cfg->node.name));
		} else if (!strcmp(k, "garpRefreshSeconds")) {
			int64_t n = json_object_get_int64(x);
			if (!json_object_is_type(x, json_type_int) || n < 0 || n > 3600)
				cfg_errs_add(c->errs, "%s:%d: node.garpRefreshSeconds: %s: out of range (allowed: 0 = off, or 1..3600)",
					     c->name, line_of(x), json_object_get_string(x));
			else
				cfg->node.garp_refresh_s = (uint16_t)n;
		} else if (!strcmp(k, "heartbeatTimeoutMs")) {
			int64_t n = json_object_get_int64(x);
			if (!json_object_is_type(x, json_type_int) || n < 0 || n > 600000)
				cfg_errs_add(c->errs, "%s:%d: node.heartbeatTimeoutMs: %s: out of range (allowed: 0 = gate off, or 1..600000)",
					     c->name, line_of(x), json_object_get_string(x));
			else
				cfg->node.heartbeat_max_ms = (uint32_t)n;
		} else if (!strcmp(k, "hairpinCgroup")) {
			const char *p = json_object_get_string(x);
			if (!json_object_is_type(x, json_type_string))
				cfg_errs_add(c->errs, "%s:%d: node.hairpinCgroup: %s given (allowed: a string)", c->name, line_of(x), type_name(x));
			else if (*p && (*p != '/' || strlen(p) >= sizeof(cfg->node.hairpin_cgroup)))
				cfg_errs_add(c->errs, "%s:%d: node.hairpinCgroup: \"%s\": not an absolute path of at most %zu characters (allowed: the path of a cgroup v2 directory, or \"\" = off)",
					     c->name, line_of(x), p, sizeof(cfg->node.hairpin_cgroup) - 1);
			else
				strcpy(cfg->node.hairpin_cgroup, p);
		} else {
			cfg_errs_add(c->errs, "%s:%d: node.%s: unknown key (allowed: name, garpRefreshSeconds, heartbeatTimeoutMs, hairpinCgroup)",
				     c->name, key_line(v, x), k);
		}
	}
}

static void parse_switch(struct ctx *c, struct json_object *v, int idx, struct cfg *cfg)
{
	struct cfg_switch *s;
	char where[32];
	bool named = false;

	snprintf(where, sizeof(where), "switches[%d].", idx);
	if (!json_object_is_type(v, json_type_object)) {
		cfg_errs_add(c->errs, "%s:%d: switches[%d]: %s given (allowed: a mapping)", c->name, line_of(v), idx, type_name(v));
		return;
	}
	s = cfg_array_push((void **)&cfg->switches, &cfg->n_switches, sizeof(*s));
	json_object_object_foreach(v, k, x)
	{
		if (!strcmp(k, "name")) {
			named = want_string(c, x, where, k, s->name, sizeof(s->name)) == 0;
		} else if (!strcmp(k, "compute")) {
			if (!json_object_is_type(x, json_type_boolean))
				cfg_errs_add(c->errs, "%s:%d: %scompute: %s given (allowed: true or false)", c->name, line_of(x), where,
					     type_name(x));
			else
				s->compute = json_object_get_boolean(x);
		} else if (!strcmp(k, "interfaces")) {
			if (!json_object_is_type(x, json_type_array) || json_object_array_length(x) == 0 ||
			    json_object_array_length(x) > CFG_MAX_SW_IFACES) {
				cfg_errs_add(c->errs, "%s:%d: %sinterfaces: (allowed: a list of 1 to %d interface names)", c->name,
					     line_of(x), where, CFG_MAX_SW_IFACES);
				continue;
			}
			for (size_t i = 0; i < json_object_array_length(x); i++) {
				struct json_object *n = json_object_array_get_idx(x, i);
				if (want_string(c, n, where, "interfaces", s->ifaces[s->n_ifaces], CFG_IFNAME_MAX) == 0)
					s->n_ifaces++;
			}
		} else {
			cfg_errs_add(c->errs, "%s:%d: %s%s: unknown key (allowed: name, interfaces, compute)", c->name, key_line(v, x),
				     where, k);
		}
	}
	if (!named)
		cfg_errs_add(c->errs, "%s:%d: %sname: missing (required)", c->name, line_of(v), where);
	if (!s->n_ifaces && !json_object_object_get_ex(v, "interfaces", NULL))
		cfg_errs_add(c->errs, "%s:%d: %sinterfaces: missing (required: a list of interface names)", c->name, line_of(v),
			     where);
}

/* One item of a list section, decoded with one of the shared JSON decoders. */
static void parse_item(struct ctx *c, struct json_object *x, const char *section, size_t i,
		       struct cfg *cfg)
{
	char msg[512] = "";
	int rc;

	if (!strcmp(section, "switches")) {
		parse_switch(c, x, (int)i, cfg);
		return;
	} else if (!strcmp(section, "pools")) {
		struct cfg_pool *p =
		    cfg_array_push((void **)&cfg->pools, &cfg->n_pools, sizeof(*p));
		rc = cfg_pool_from_json(x, p, msg, sizeof(msg));
		p->src = CFG_SRC_FILE;
		if (rc < 0)
			cfg->n_pools--;
	} else if (!strcmp(section, "bgpPeers")) {
		struct cfg_peer *p =
		    cfg_array_push((void **)&cfg->peers, &cfg->n_peers, sizeof(*p));
		rc = cfg_peer_from_json(x, p, msg, sizeof(msg));
		p->src = CFG_SRC_FILE;
		if (rc < 0)
			cfg->n_peers--;
	} else {
		struct cfg_service *s =
		    cfg_array_push((void **)&cfg->services, &cfg->n_services, sizeof(*s));
		rc = cfg_service_from_json(x, s, msg, sizeof(msg));
		s->src = CFG_SRC_FILE;
		if (rc < 0) {
			cfg_service_clear(s);
			cfg->n_services--;
		}
	}
	if (rc < 0)
		cfg_errs_add(c->errs, "%s:%d: %s[%zu]: %s", c->name, line_of(x), section, i, msg);
}

static bool is_list_section(const char *k)
{
	return !strcmp(k, "switches") || !strcmp(k, "pools") || !strcmp(k, "bgpPeers") ||
	       !strcmp(k, "services");
}

/* A top-level value given whole (anything but a list section written as a list). */
static void parse_section(struct ctx *c, const char *k, struct json_object *v, int map_line,
			  struct cfg *cfg)
{
	if (!strcmp(k, "node")) {
		parse_node_section(c, v, cfg);
	} else if (is_list_section(k)) {
		if (!json_object_is_type(v, json_type_array)) {
			cfg_errs_add(c->errs, "%s:%d: %s: %s given (allowed: a list)", c->name,
				     line_of(v), k, type_name(v));
			return;
		}
		for (size_t i = 0; i < json_object_array_length(v); i++)
			parse_item(c, json_object_array_get_idx(v, i), k, i, cfg);
	} else {
		int l = line_of(v);

		/* the key's line, as key_line: its value's when the value sits on it */
		if (!l || json_object_is_type(v, json_type_object) ||
		    json_object_is_type(v, json_type_array))
			l = map_line;
		cfg_errs_add(
		    c->errs,
		    "%s:%d: %s: unknown key (allowed: node, switches, pools, bgpPeers, services)",
		    c->name, l, k);
	}
}

/* The errors of one top-level key, kept apart so that a key given twice (a refused file)
 * reports its last value's errors at its first place, as decoding a JSON object did. */
struct section {
	char *key;
	struct cfg_errs errs;
};

struct sections {
	struct section *v;
	int n;
};

static struct cfg_errs *section_errs(struct sections *ss, const char *k, bool *twice)
{
	for (int i = 0; i < ss->n; i++) {
		if (!strcmp(ss->v[i].key, k)) {
			cfg_errs_free(&ss->v[i].errs);
			*twice = true;
			return &ss->v[i].errs;
		}
	}
	ss->v = realloc(ss->v, sizeof(*ss->v) * (size_t)(ss->n + 1));
	if (!ss->v || !(ss->v[ss->n].key = strdup(k)))
		log_fatal("config: out of memory");
	ss->v[ss->n].errs = (struct cfg_errs){0};
	*twice = false;
	return &ss->v[ss->n++].errs;
}

static void sections_free(struct sections *ss)
{
	for (int i = 0; i < ss->n; i++) {
		free(ss->v[i].key);
		cfg_errs_free(&ss->v[i].errs);
	}
	free(ss->v);
}

/* The value of top-level key k (ev: its first event). A list section written as a list is
 * converted and decoded one item at a time. 0, or -1 on a YAML error that ends the parse. */
static int parse_value(struct yparse *y, yaml_event_t *ev, struct ctx *c, const char *k,
		       int map_line, struct cfg *cfg)
{
	struct json_object *v;

	if (!is_list_section(k) || ev->type != YAML_SEQUENCE_START_EVENT) {
		if (parse_node(y, ev, &v, 1) < 0)
			return -1;
		parse_section(c, k, v, map_line, cfg);
		json_object_put(v);
		return 0;
	}
	yaml_event_delete(ev);
	for (size_t i = 0;; i++) {
		if (next(y, ev) < 0)
			return -1;
		if (ev->type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(ev);
			return 0;
		}
		if (parse_node(y, ev, &v, 2) < 0)
			return -1;
		parse_item(c, v, k, i, cfg);
		json_object_put(v);
	}
}

/* Decodes the root node of the document (ev: its first event) as it is parsed, so a file of
 * 100,000 services never exists as one JSON tree. Errors of the YAML itself go to y->errs,
 * those of the content to ss. -1 on a YAML error that ends the parse (as in yaml_to_json). */
static int parse_root(struct yparse *y, yaml_event_t *ev, struct ctx *c, struct sections *ss,
		      struct cfg *cfg)
{
	int map_line = (int)ev->start_mark.line + 1;
	bool twice;

	if (ev->type != YAML_MAPPING_START_EVENT) {
		struct json_object *root;

		if (parse_node(y, ev, &root, 0) < 0)
			return -1;
		if (root) { /* an empty document is an empty mapping */
			c->errs = section_errs(ss, "", &twice);
			cfg_errs_add(c->errs, "%s:%d: top level: %s given (allowed: a mapping)",
				     c->name, line_of(root), type_name(root));
		}
		json_object_put(root);
		return 0;
	}
	yaml_event_delete(ev);
	for (;;) {
		size_t line;
		char *k;
		int rc;

		if (next(y, ev) < 0)
			return -1;
		if (ev->type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(ev);
			return 0;
		}
		line = ev->start_mark.line;
		if (ev->type != YAML_SCALAR_EVENT) {
			cfg_errs_add(y->errs, "%s:%zu: a mapping key must be a plain string",
				     y->name, line + 1);
			yaml_event_delete(ev);
			return -1;
		}
		k = strdup((const char *)ev->data.scalar.value);
		yaml_event_delete(ev);
		if (!k || next(y, ev) < 0) {
			free(k);
			return -1;
		}
		c->errs = section_errs(ss, k, &twice);
		rc = parse_value(y, ev, c, k, map_line, cfg);
		if (!rc && twice) /* after the value's own errors, as parse_children reports it */
			cfg_errs_add(y->errs, "%s:%zu: %s: key given twice", y->name, line + 1, k);
		free(k);
		if (rc < 0)
			return -1;
	}
}

/* As yaml_to_json followed by decoding its one document, in one pass (parse_root). Errors
 * come in the same order: the YAML's own, then the content's by top-level key. */
struct load {
	struct ctx c;
	struct sections ss;
	struct cfg *cfg;
	size_t docs;
};

static int load_doc(struct yparse *y, yaml_event_t *ev, size_t line, void *arg)
{
	struct load *l = arg;
	struct json_object *extra;

	(void)line;
	if (l->docs++ == 0)
		return parse_root(y, ev, &l->c, &l->ss, l->cfg);
	/* a second document only needs counting (and its YAML errors) */
	if (parse_node(y, ev, &extra, 0) < 0)
		return -1;
	json_object_put(extra);
	return 0;
}

struct cfg *cfg_load_buf(const char *name, const char *buf, size_t len, struct cfg_errs *errs)
{
	struct yparse y = {.name = name, .errs = errs};
	struct load l = {.c = {.name = name}, .cfg = cfg_new()};
	int before = errs->n, rc = each_doc(&y, buf, len, load_doc, &l);

	if (rc == 0 && l.docs > 1)
		cfg_errs_add(errs, "%s: %zu YAML documents (allowed: exactly one)", name, l.docs);
	if (rc == 0 && l.docs == 1)
		for (int i = 0; i < l.ss.n; i++)
			for (int k = 0; k < l.ss.v[i].errs.n; k++)
				cfg_errs_add(errs, "%s", l.ss.v[i].errs.msgs[k]);
	sections_free(&l.ss);
	if (rc == 0 && l.docs == 0) /* an empty file is an empty config */
		return l.cfg;
	if (rc < 0) {
		cfg_free(l.cfg);
		return NULL;
	}
	if (errs->n == before)
		cfg_validate(l.cfg, errs);
	if (errs->n > before) {
		cfg_free(l.cfg);
		return NULL;
	}
	cfg_shrink(l.cfg);
	return l.cfg;
}

struct cfg *cfg_load_file(const char *path, struct cfg_errs *errs)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	struct cfg *cfg;

	if (!f) {
		cfg_errs_add(errs, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (16u << 20)) {
				cfg_errs_add(errs, "%s: larger than 16 MiB", path);
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = realloc(buf, cap);
			if (!buf)
				log_fatal("config: out of memory");
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	cfg = cfg_load_buf(path, buf, len, errs);
	free(buf);
	return cfg;
}

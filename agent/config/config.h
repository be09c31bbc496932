/* The desired state of one node: switches, pools, BGP peers, services (with backends).
 * Parsed from the YAML config (config/yaml.c), merged with objects created at run time through
 * the control socket (persisted by store/), validated as a whole before it replaces the running
 * one. Pure data: no module state (allocations, sessions, maps) lives here. */
#ifndef EDGELB_CONFIG_H
#define EDGELB_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/ip.h"

#define CFG_NAME_MAX	  64
#define CFG_PATH_MAX	  256
#define CFG_IFNAME_MAX	  16
#define CFG_MAX_SW_IFACES 8
#define CFG_MAX_RANGES	  64
#define CFG_MAX_PORTS	  64
#define CFG_MAX_BACKENDS  256
#define CFG_MAX_COMMUNITIES 16
#define CFG_MAX_NAMESPACES 16
#define CFG_PASSWORD_MAX   80 /* TCP MD5 key bytes (TCP_MD5SIG_MAXKEYLEN) */
#define CFG_BFD_KEY_MAX	   20 /* BFD keyed SHA1; 16 for simple and MD5 (RFC 5880 4.2-4.4) */
#define CFG_BFD_ACCEPT_MAX 4  /* bfdAuthAcceptKeys: BFD keys taken besides bfdAuthKey */
#define CFG_BFD_ECHO_DEF_MS 50 /* echo transmit interval when bfdEchoInterval is unset */

enum cfg_src { CFG_SRC_FILE, CFG_SRC_RUNTIME };

/* A BFD key by its Auth Key ID (RFC 5880 4.2-4.4): one of bfdAuthAcceptKeys, "ID:KEY". */
struct cfg_bfd_key {
	uint8_t id;
	char key[CFG_BFD_KEY_MAX + 1];
};

struct cfg_switch {
	char name[CFG_NAME_MAX];
	char ifaces[CFG_MAX_SW_IFACES][CFG_IFNAME_MAX];
	int n_ifaces;
	bool compute;
};

/* One pool entry: a CIDR or an inclusive range, kept as first..last. */
struct cfg_range {
	struct ip first, last;
};

struct cfg_large_community {
	uint32_t global, local1, local2;
};

/* Per-pool BGP advertisement (MetalLB BGPAdvertisement). */
struct cfg_bgp_adv {
	uint32_t communities[CFG_MAX_COMMUNITIES]; /* RFC 1997, asn<<16|value */
	int n_communities;
	struct cfg_large_community large[CFG_MAX_COMMUNITIES]; /* RFC 8092 */
	int n_large;
	uint32_t local_pref; /* iBGP only; 0 = default 100 */
	bool has_local_pref;
	uint8_t agg_len4, agg_len6; /* 32 / 128 = per-IP routes */
	char peers[CFG_MAX_COMMUNITIES][IP_STRLEN]; /* empty = all peers */
	int n_peers;
};

struct cfg_pool {
	char name[CFG_NAME_MAX];
	char sw[CFG_NAME_MAX]; /* switch it is announced on; "" = the first compute switch */
	struct cfg_range ranges[CFG_MAX_RANGES];
	int n_ranges;
	bool auto_assign;
	bool avoid_buggy_ips;
	int priority; /* lower first */
	char namespaces[CFG_MAX_NAMESPACES][CFG_NAME_MAX]; /* empty = any */
	int n_namespaces;
	struct cfg_bgp_adv adv;
	enum cfg_src src;
};

/* A peer's AS fixed by the config, or taken from its OPEN (MetalLB's dynamicASN). */
enum cfg_asn_mode {
	CFG_ASN_FIXED,	  /* peer_asn */
	CFG_ASN_INTERNAL, /* iBGP: peer_asn is self_asn */
	CFG_ASN_EXTERNAL, /* eBGP: any AS but ours, learned from the OPEN; peer_asn 0 */
};

struct cfg_peer {
	struct ip addr;
	uint32_t peer_asn, self_asn;
	uint8_t asn_mode; /* enum cfg_asn_mode */
	char sw[CFG_NAME_MAX];
	uint16_t hold_time; /* 0 or 3..65535 */
	uint16_t keepalive_time; /* 0 = hold/3 */
	uint16_t connect_time; /* connect-retry seconds */
	bool has_hold_time;
	char password[CFG_PASSWORD_MAX + 1]; /* TCP MD5 key, RFC 2385 */
	char password_file[256];
	uint8_t ebgp_multihop; /* TTL; 0 = directly connected */
	struct ip source_addr; /* family 0 = unset */
	uint16_t peer_port; /* 0 = 179 */
	bool passive;
	struct ip router_id; /* family 0 = derived */
	bool graceful_restart;
	/* BFD (RFC 5880/5881) for this session; 0 = default (300 ms, 300 ms, 3) */
	bool bfd;
	uint16_t bfd_min_tx_ms, bfd_min_rx_ms;
	uint8_t bfd_mult;
	bool bfd_passive;    /* RFC 5880 6.1 passive role */
	uint8_t bfd_min_ttl; /* multihop: lowest TTL taken (RFC 5883 5); 0 = any */
	bool bfd_echo;                 /* RFC 5880 6.4 echo function (IPv4 single hop) */
	uint16_t bfd_echo_interval_ms; /* echo transmit interval; 0 = default (50 ms) */
	/* BFD authentication (RFC 5880 6.7): enum bfd_auth_type (0 = none), key ID, key; the
	 * keys also taken on receipt (a key rollover), of the same type, other IDs */
	uint8_t bfd_auth_type;
	uint8_t bfd_auth_key_id;
	char bfd_auth_key[CFG_BFD_KEY_MAX + 1];
	uint8_t n_bfd_auth_accept;
	struct cfg_bfd_key bfd_auth_accept[CFG_BFD_ACCEPT_MAX];
	enum cfg_src src;
};

enum cfg_family { CFG_FAM_IPV4, CFG_FAM_IPV6, CFG_FAM_DUAL };

struct cfg_port {
	uint16_t port;
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
};

enum cfg_backend_state { CFG_BE_READY, CFG_BE_TERMINATING, CFG_BE_NOT_READY };

struct cfg_backend {
	struct ip addr;
	uint16_t port;
	uint16_t weight; /* 0 drains */
	enum cfg_backend_state state;
};

/* 100,000 of these are common: the fields are ordered to leave no padding, the short optional
 * strings are on the heap. */
struct cfg_service {
	char *name; /* heap, namespace/name (at most 2 * CFG_NAME_MAX); set in every parsed service */
	struct ip req_ips[2];		 /* requested addresses (loadBalancerIP / --ip) */
	bool allow_icmp_echo;
	int n_req_ips;
	int n_ports;
	int n_backends;
	enum cfg_family family;
	enum cfg_src src;
	struct cfg_port *ports; /* n_ports (at most CFG_MAX_PORTS), heap like backends */
	struct cfg_backend *backends;
	/* heap, at most CFG_NAME_MAX - 1 characters; NULL is "": read them through
	 * cfg_service_pool and cfg_service_key */
	char *pool;
	char *shared_key;
};

static inline const char *cfg_service_pool(const struct cfg_service *s)
{
	return s->pool ? s->pool : "";
}

static inline const char *cfg_service_key(const struct cfg_service *s)
{
	return s->shared_key ? s->shared_key : "";
}

struct cfg_node {
	char name[CFG_NAME_MAX];
	uint16_t garp_refresh_s; /* periodic gratuitous ARP/NA; 0 = off */
	uint32_t heartbeat_max_ms; /* XDP answers stop when the agent is quiet this long */
	/* hairpin: the cgroup v2 directory whose sockets reach VIPs through sock_lb; "" = off */
	char hairpin_cgroup[CFG_PATH_MAX];
};

struct cfg_index;

struct cfg {
	struct cfg_node node;
	struct cfg_switch *switches;
	int n_switches;
	struct cfg_pool *pools;
	int n_pools;
	struct cfg_peer *peers;
	int n_peers;
	struct cfg_service *services;
	int n_services;
	/* Set on the agent's file config once its services moved into the effective config
	 * (agent.c: one copy of 100,000 services, not two): services[] then holds only the file's
	 * versions of services that runtime objects override. */
	bool services_lent;
	/* name → services[] index, built on the first lookup and rebuilt when the array moved or
	 * changed length; code that removes and adds services on one cfg calls cfg_index_reset. */
	struct cfg_index *svc_index;
};

/* One error message per problem; a parse collects all of a file's errors. */
struct cfg_errs {
	char **msgs;
	int n;
};
void cfg_errs_add(struct cfg_errs *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cfg_errs_free(struct cfg_errs *e);

struct cfg *cfg_new(void);
void cfg_free(struct cfg *c);
struct cfg *cfg_dup(const struct cfg *c);
/* Cuts every array to its exact size (after a load; pushing again still works). */
void cfg_shrink(struct cfg *c);

/* Parse a YAML file (path used in messages). Returns NULL and fills errs on any error. */
struct cfg *cfg_load_file(const char *path, struct cfg_errs *errs);
struct cfg *cfg_load_buf(const char *name, const char *buf, size_t len, struct cfg_errs *errs);
/* Cross-object checks (names unique, switches exist, ...). 0 ok, -1 with errs filled. */
int cfg_validate(const struct cfg *c, struct cfg_errs *errs);
/* The effective config as YAML (for --check-config). */
void cfg_print(const struct cfg *c, FILE *out);

struct cfg_switch *cfg_find_switch(const struct cfg *c, const char *name);
struct cfg_pool *cfg_find_pool(const struct cfg *c, const char *name);
struct cfg_peer *cfg_find_peer(const struct cfg *c, const struct ip *addr, const char *sw);
struct cfg_service *cfg_find_service(const struct cfg *c, const char *name);
void cfg_index_reset(struct cfg *c);
/* The switch a pool is announced on (its sw, or the first compute switch). */
const struct cfg_switch *cfg_pool_switch(const struct cfg *c, const struct cfg_pool *p);

/* The documents of a YAML stream one at a time, each as a JSON value (manifests), each node's
 * line kept as json-c userdata: fn gets a document, which is freed when fn returns, so a big
 * stream is never held whole. -1 on a syntax error (errs filled) or when fn returns < 0 (the
 * walk stops there). */
struct json_object;
int yaml_each_json(const char *name, const char *buf, size_t len, struct cfg_errs *errs,
		   int (*fn)(struct json_object *doc, void *arg), void *arg);
/* The whole config as JSON (status, --check-config). */
struct json_object *cfg_to_json(const struct cfg *c);
/* A JSON array with room for n items (at least 1): json-c's default is 32 slots, 256 bytes per
 * array, which 100,000 services' ports, IPs and backends would hold empty. */
struct json_object *cfg_json_array(int n);
/* True when two pools share an address. */
bool cfg_pools_overlap(const struct cfg_pool *a, const struct cfg_pool *b);

/* Array helpers: append a zeroed element, or remove index i (order kept). */
void *cfg_array_push(void **arr, int *n, size_t elem);
void cfg_array_remove(void *arr, int *n, size_t elem, int i);

/* JSON forms: the one decoder for control requests, the store, the YAML config (converted to
 * JSON first) and manifests. from_json refuses unknown keys and bad values: 0, or -1 with a one
 * line message in msg naming the field, the value and what is allowed. */
struct json_object;
int cfg_pool_from_json(struct json_object *j, struct cfg_pool *out, char *msg, size_t len);
struct json_object *cfg_pool_to_json(const struct cfg_pool *p);
int cfg_service_from_json(struct json_object *j, struct cfg_service *out, char *msg, size_t len);
struct json_object *cfg_service_to_json(const struct cfg_service *s);
void cfg_service_clear(struct cfg_service *s); /* frees its heap parts */
void cfg_service_set_name(struct cfg_service *s, const char *name); /* a heap copy */
int cfg_peer_from_json(struct json_object *j, struct cfg_peer *out, char *msg, size_t len);
/* The keys cfg_peer_from_json takes, NULL-terminated (the fields of `bgp peer set`). */
extern const char *const cfg_peer_keys[];
struct json_object *cfg_peer_to_json(const struct cfg_peer *p);
/* bfdAuthType's names by enum bfd_auth_type ("none" for 0), NULL past the last */
const char *cfg_bfd_auth_name(uint8_t type);
/* "internal" or "external" for a dynamicAsn peer, "" for a fixed peerAsn. */
const char *cfg_asn_mode_name(const struct cfg_peer *p);
/* Store kinds of runtime objects. */
#define CFG_KIND_POOL	 "pool"
#define CFG_KIND_PEER	 "peer"
#define CFG_KIND_SERVICE "service"

/* Field validators shared by the YAML parser, the control socket and manifests.
 * Each returns 0, or -1 after writing "field: value: allowed ..." into msg. */
int cfg_check_asn(const char *field, uint64_t v, char *msg, size_t len);
int cfg_check_hold_time(const char *field, uint64_t v, char *msg, size_t len);
int cfg_check_bfd_interval(const char *field, uint64_t v, char *msg, size_t len);
int cfg_check_bfd_mult(const char *field, uint64_t v, char *msg, size_t len);
int cfg_check_bfd_ttl(const char *field, uint64_t v, char *msg, size_t len);
int cfg_parse_range(const char *field, const char *s, struct cfg_range *out, char *msg, size_t len);
int cfg_parse_port(const char *field, const char *s, struct cfg_port *out, char *msg, size_t len);
int cfg_parse_backend(const char *field, const char *s, struct cfg_backend *out, char *msg,
		      size_t len);

#endif

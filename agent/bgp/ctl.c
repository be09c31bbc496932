/* Control commands of the BGP speaker: bgp.peer.set (upsert), bgp.peer.list, bgp.peer.remove,
 * bgp.peer.show. Runtime peers are validated fully, then stored (kind "peer", key
 * "<switch>/<address>") and the desired state rebuilt; a refused request changes nothing.
 * Session state comes from the speaker process through bgp.h/ipc.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bfd/bfd.h"
#include "bgp/bgp.h"
#include "bgp/ipc.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "daemon/agent.h"
#include "lib/ev.h"
#include "store/store.h"

#define DEF_HOLD_S 90

static const char *const key_fields[] = {"peerAddress", "switch", NULL};
static const char *const list_fields[] = {"switch", NULL};

static void peer_store_key(const struct cfg_peer *p, char *buf, size_t len)
{
	char a[IP_STRLEN];
	snprintf(buf, len, "%s/%s", p->sw, ip_str(&p->addr, a));
}

static int check_switch(struct agent *a, const char *sw, struct ctl_err *err)
{
	const struct cfg_switch *s = cfg_find_switch(a->cfg, sw);

	if (!s)
		return ctl_fail(err, "switch: \"%s\": no such switch (allowed: a switch from `edgelb "
				     "switch list`)", sw);
	if (!s->compute)
		return ctl_fail(err, "switch: \"%s\": not enabled for compute (allowed: a switch "
				     "with EnabledForCompute true)", sw);
	return 0;
}

/* Validates the whole desired state with the change, then stores it (agent_commit): a refused
 * request leaves the store and the running state as they were. */
static int commit(struct agent *a, const char *key, struct json_object *val, struct ctl_err *err)
{
	char msg[512] = "";

	if (agent_commit(a, CFG_KIND_PEER, key, val, msg, sizeof(msg)) < 0)
		return ctl_fail(err, "%s", msg[0] ? msg : "the configuration was refused");
	return 0;
}

static int peer_set(struct agent *a, struct json_object *args, struct json_object **result,
		    struct ctl_err *err)
{
	struct cfg_peer p;
	char msg[512], key[CFG_NAME_MAX + IP_STRLEN + 2];
	struct json_object *j;
	int rc;

	if (cfg_peer_from_json(args, &p, msg, sizeof(msg)) < 0)
		return ctl_fail(err, "%s", msg);
	if (check_switch(a, p.sw, err) < 0)
		return -1;
	if (p.password_file[0] && access(p.password_file, R_OK) < 0)
		return ctl_fail(err, "passwordFile: \"%s\": cannot be read (allowed: a readable "
				     "file whose first line is the key)", p.password_file);
	peer_store_key(&p, key, sizeof(key));
	j = cfg_peer_to_json(&p);
	rc = commit(a, key, j, err);
	json_object_put(j);
	if (rc < 0)
		return rc;
	/* the answer is a fresh object (the store holds j) and never shows the key */
	*result = cfg_peer_to_json(&p);
	if (p.password[0])
		json_object_object_add(*result, "password", json_object_new_string("********"));
	if (p.bfd_auth_key[0])
		json_object_object_add(*result, "bfdAuthKey", json_object_new_string("********"));
	if (p.n_bfd_auth_accept) {
		struct json_object *ids = json_object_new_array();
		char k[16];

		for (int i = 0; i < p.n_bfd_auth_accept; i++) {
			snprintf(k, sizeof(k), "%u:********", p.bfd_auth_accept[i].id);
			json_object_array_add(ids, json_object_new_string(k));
		}
		json_object_object_add(*result, "bfdAuthAcceptKeys", ids);
	}
	return 0;
}

static int parse_key(struct json_object *args, bool need_sw, struct ip *ip, const char **sw,
		     struct ctl_err *err)
{
	const char *addr = NULL;

	*sw = NULL;
	if (ctl_arg_str(args, "peerAddress", true, &addr, err) < 0 ||
	    ctl_arg_str(args, "switch", need_sw, sw, err) < 0)
		return -1;
	if (ip_parse(addr, ip) < 0)
		return ctl_fail(err, "peerAddress: \"%s\": not an IP address (allowed: IPv4 like "
				     "10.0.0.1 or IPv6 like fd00::1)", addr);
	return 0;
}

static int peer_remove(struct agent *a, struct json_object *args, struct json_object **result,
		       struct ctl_err *err)
{
	struct ip ip;
	const char *sw;
	struct cfg_peer *p;
	char key[CFG_NAME_MAX + IP_STRLEN + 2], s[IP_STRLEN];

	if (parse_key(args, true, &ip, &sw, err) < 0)
		return -1;
	p = cfg_find_peer(a->cfg, &ip, sw);
	if (!p)
		return ctl_fail(err, "peerAddress: \"%s\": no such peer on switch \"%s\" (allowed: "
				     "a peer from `edgelb bgp peer list`)", ip_str(&ip, s), sw);
	peer_store_key(p, key, sizeof(key));
	if (!store_get(a->store, CFG_KIND_PEER, key))
		return ctl_fail(err, "peerAddress: \"%s\": defined in the config file (allowed: "
				     "peers created at run time; edit the file for this one)",
				ip_str(&ip, s));
	return commit(a, key, NULL, err);
}

static struct json_object *peer_row(struct agent *a, const struct cfg_peer *c)
{
	struct json_object *o = json_object_new_object();
	struct bgp_peer_view *p = bgp_find_peer(a->bgp, &c->addr, c->sw);
	char s[IP_STRLEN];

	json_object_object_add(o, "peerAddress", json_object_new_string(ip_str(&c->addr, s)));
	/* dynamicAsn external: the AS of the peer's last OPEN, 0 before one */
	json_object_object_add(o, "peerAsn",
			       json_object_new_int64(c->asn_mode != CFG_ASN_EXTERNAL ? c->peer_asn
						     : p				 ? p->peer_asn
											 : 0));
	json_object_object_add(o, "selfAsn", json_object_new_int64(c->self_asn));
	if (c->asn_mode != CFG_ASN_FIXED)
		json_object_object_add(o, "dynamicAsn",
				       json_object_new_string(cfg_asn_mode_name(c)));
	json_object_object_add(o, "holdTime",
			       json_object_new_int(c->has_hold_time ? c->hold_time : DEF_HOLD_S));
	json_object_object_add(o, "switch", json_object_new_string(c->sw));
	json_object_object_add(o, "state",
			       json_object_new_string(p ? bgp_state_name(p->state) : "Idle"));
	return o;
}

static int peer_list(struct agent *a, struct json_object *args, struct json_object **result,
		     struct ctl_err *err)
{
	const char *sw = NULL;
	struct json_object *rows;

	if (ctl_arg_str(args, "switch", false, &sw, err) < 0)
		return -1;
	rows = json_object_new_array();
	bgp_sync(a->bgp);
	for (int i = 0; i < a->cfg->n_peers; i++)
		if (!sw || !strcmp(sw, a->cfg->peers[i].sw))
			json_object_array_add(rows, peer_row(a, &a->cfg->peers[i]));
	*result = rows;
	return 0;
}

static void add_u64(struct json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

/* The BFD session of the peer (RFC 5880 6.8.1 variables), flat keys bfd*; "Off" when the
 * peer has no BFD. Intervals in milliseconds. */
static void bfd_show(struct json_object *o, const struct cfg_peer *c, struct bfd_sess *b)
{
	json_object_object_add(o, "bfd", json_object_new_boolean(c->bfd));
	if (!b) {
		json_object_object_add(o, "bfdState", json_object_new_string("Off"));
		return;
	}
	json_object_object_add(o, "bfdState", json_object_new_string(bfd_state_name(b->state)));
	json_object_object_add(o, "bfdRemoteState",
			       json_object_new_string(bfd_state_name(b->remote_state)));
	json_object_object_add(o, "bfdDiagnostic",
			       json_object_new_string(bfd_diag_name(b->local_diag)));
	add_u64(o, "bfdMinTx", b->cfg.min_tx_us / 1000);
	add_u64(o, "bfdMinRx", b->cfg.min_rx_us / 1000);
	add_u64(o, "bfdMultiplier", b->cfg.mult);
	json_object_object_add(o, "bfdPassive", json_object_new_boolean(b->cfg.passive));
	/* the lowest TTL taken: 255 single hop (GTSM), the configured one multihop (0: any) */
	add_u64(o, "bfdMinimumTtl", b->cfg.multihop ? b->cfg.min_ttl : 255);
	/* the type and key IDs, never a key: the one we send with, those we also accept, and
	 * the one of the last packet that passed (the peer's, during a rollover) */
	json_object_object_add(o, "bfdAuthType",
			       json_object_new_string(bfd_auth_name(b->cfg.auth.type)));
	if (b->cfg.auth.type) {
		struct json_object *ids = json_object_new_array();

		add_u64(o, "bfdAuthKeyId", b->cfg.auth.key_id);
		for (int i = 0; i < b->cfg.n_accept; i++)
			json_object_array_add(ids, json_object_new_int(b->cfg.accept[i].key_id));
		json_object_object_add(o, "bfdAuthAcceptKeyIds", ids);
		if (b->rcv_key_seen)
			add_u64(o, "bfdAuthReceivedKeyId", b->rcv_key_id);
	}
	add_u64(o, "bfdTxInterval", bfd_sess_tx_interval(b) / 1000);
	add_u64(o, "bfdDetectTime", bfd_sess_detect_time(b) / 1000);
	add_u64(o, "bfdLocalDiscriminator", b->local_disc);
	add_u64(o, "bfdRemoteDiscriminator", b->remote_disc);
	add_u64(o, "bfdUpCount", b->st.up);
	add_u64(o, "bfdDownCount", b->st.down);
	add_u64(o, "bfdPacketsSent", b->st.tx);
	add_u64(o, "bfdPacketsReceived", b->st.rx);
	add_u64(o, "bfdPacketsDropped", b->st.rx_drop);
	/* echo function: configured interval, what we advertise (the peer's echoes we loop back),
	 * what the peer advertises, and ours in flight (the interval in force, 0 while off) */
	json_object_object_add(o, "bfdEchoMode", json_object_new_boolean(b->cfg.echo_us != 0));
	if (b->cfg.echo_us)
		add_u64(o, "bfdEchoInterval", b->cfg.echo_us / 1000);
	add_u64(o, "bfdEchoReceiveInterval", bfd_echo_rx_advert(b) / 1000);
	add_u64(o, "bfdRemoteEchoReceiveInterval", b->remote_echo_rx / 1000);
	json_object_object_add(o, "bfdEchoActive", json_object_new_boolean(b->echo_on));
	add_u64(o, "bfdEchoTxInterval", b->echo_on ? bfd_echo_interval(b) / 1000 : 0);
	add_u64(o, "bfdEchoPacketsSent", b->st.echo_tx);
	add_u64(o, "bfdEchoPacketsReceived", b->st.echo_rx);
}

static int peer_show(struct agent *a, struct json_object *args, struct json_object **result,
		     struct ctl_err *err)
{
	struct ip ip;
	const char *sw;
	struct cfg_peer *c;
	struct bgp_peer_view *p;
	struct json_object *o;
	char s[IP_STRLEN], caps[128];
	struct ip id = {.family = AF_INET};

	if (parse_key(args, false, &ip, &sw, err) < 0)
		return -1;
	c = cfg_find_peer(a->cfg, &ip, sw);
	if (!c)
		return ctl_fail(err, "peerAddress: \"%s\": no such peer (allowed: a peer from "
				     "`edgelb bgp peer list`)", ip_str(&ip, s));
	bgp_sync(a->bgp);
	o = peer_row(a, c);
	p = bgp_find_peer(a->bgp, &c->addr, c->sw);
	if (p) {
		bool up = p->state == BGP_ESTABLISHED;

		id.a[0] = p->router_id >> 24;
		id.a[1] = p->router_id >> 16 & 0xff;
		id.a[2] = p->router_id >> 8 & 0xff;
		id.a[3] = p->router_id & 0xff;
		json_object_object_add(o, "routerId", json_object_new_string(ip_str(&id, s)));
		if (p->peer_id) {
			id.a[0] = p->peer_id >> 24;
			id.a[1] = p->peer_id >> 16 & 0xff;
			id.a[2] = p->peer_id >> 8 & 0xff;
			id.a[3] = p->peer_id & 0xff;
			json_object_object_add(o, "peerRouterId",
					       json_object_new_string(ip_str(&id, s)));
		}
		bgp_caps_str(&p->neg, caps, sizeof(caps));
		json_object_object_add(o, "capabilities", json_object_new_string(up ? caps : ""));
		add_u64(o, "negotiatedHoldTime", up ? p->hold : 0);
		add_u64(o, "keepaliveTime", up ? p->keepalive : 0);
		add_u64(o, "uptimeSeconds", up ? (ev_now_ms() - p->up_since_ms) / 1000 : 0);
		add_u64(o, "prefixesSent", p->announced);
		add_u64(o, "prefixesReceived", p->st.prefixes_rx);
		add_u64(o, "updatesSent", p->st.upd_tx);
		add_u64(o, "updatesReceived", p->st.upd_rx);
		add_u64(o, "updatesTreatedAsWithdraw", p->st.treat_as_withdraw);
		add_u64(o, "attributesDiscarded", p->st.attr_discarded);
		add_u64(o, "established", p->st.established);
		json_object_object_add(o, "lastError", json_object_new_string(p->last_error));
		bfd_show(o, c, bgp_peer_bfd(p));
	}
	*result = o;
	return 0;
}

const struct ctl_cmd bgp_ctl_cmds[] = {
	{"bgp.peer.set", peer_set, cfg_peer_keys},
	{"bgp.peer.list", peer_list, list_fields},
	{"bgp.peer.remove", peer_remove, key_fields},
	{"bgp.peer.show", peer_show, key_fields},
	{NULL},
};

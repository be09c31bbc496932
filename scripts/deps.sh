#!/usr/bin/env bash
# Installs every build, run, test and benchmark dependency of edgelb from Debian packages.
# Idempotent: when everything is present it only checks (dpkg-query) and exits;
# `apt-get update` runs only when something is missing.
set -euo pipefail

pkgs=(
	# build
	make gcc clang llvm pkg-config libbpf-dev bpftool libelf-dev zlib1g-dev
	libnl-3-dev libnl-route-3-dev libyaml-dev libjson-c-dev libmicrohttpd-dev libcurl4-openssl-dev
	libclang-rt-14-dev
	# run and test
	iproute2 bats iputils-ping arping ndisc6 tcpdump ethtool curl jq socat
	nftables iptables procps psmisc
	# real BGP peers
	bird2 frr gobgpd exabgp
	# a real etcd v3 for the cluster back end, and openssl for its test PKI
	etcd-server etcd-client openssl
)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ "$st" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages (run as root to install): ${missing[*]}" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
# The packaged daemons must not run on the host: tests start their own inside namespaces.
for svc in bird frr etcd; do
	if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
		systemctl stop "$svc" || true
		systemctl disable "$svc" >/dev/null 2>&1 || true
	fi
done
echo "deps: done"

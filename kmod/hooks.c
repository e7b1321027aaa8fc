// SPDX-License-Identifier: GPL-2.0
/*
 * knat: the packet path.
 *
 * Inbound translation (external address back to internal) runs at
 * PREROUTING after defragmentation and before conntrack, so that conntrack
 * and an nftables firewall on the same router only ever see internal
 * addresses.  Outbound translation runs at FORWARD once routing has decided
 * the packet leaves, after the filter chains.  Both rewrite in place and
 * return NF_ACCEPT: the packet goes on through every later hook.
 *
 * Hairpinning (inside to an external address and a mapping) is translated
 * as nf_nat does it: the destination at PREROUTING, where the packet is
 * routed from its real source, the source at FORWARD (knat_hairpin_split()
 * says how, and when both are done at PREROUTING instead).  Host loopback
 * (the router itself to an external address and a mapped port) is
 * translated at LOCAL_OUT and routed anew; its replies come back through
 * the hairpin path.
 */
#include <linux/icmp.h>
#include <linux/ip.h>
#include <linux/netfilter.h>
#include <linux/netfilter_ipv4.h>
#include <linux/skbuff.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/ip_fib.h>
#include <net/l3mdev.h>
#include <net/route.h>
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
#include <net/netfilter/nf_conntrack.h>
#endif
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
#include <linux/netfilter_bridge.h>
#endif

#include "knat.h"

/* Between defrag (-400) and conntrack (-200). */
#define KNAT_PRI_PREROUTING	(NF_IP_PRI_CONNTRACK_DEFRAG + 100)
/* After the filter chains, before security marking (FORWARD, OUTPUT). */
#define KNAT_PRI_FORWARD	(NF_IP_PRI_SECURITY - 1)

/* What the translation needs of a packet's transport header. */
struct knat_l4 {
	u8 proto;
	unsigned int off;	/* transport header offset */
	unsigned int len;	/* bytes of it to make writable */
	__be16 sport, dport;	/* ICMP echo: the identifier on the inside
				 * end, 0 on the remote end
				 */
};

/* An ICMP error's embedded packet: the header of what it is about. */
struct knat_inner {
	unsigned int off;	/* inner IP header offset */
	unsigned int l4off;	/* inner transport header offset */
	u8 proto;
	__be32 saddr, daddr;
	__be16 sport, dport;	/* ICMP echo as for knat_l4 */
};

enum knat_pkt {
	KNAT_PKT_BAD = -1,	/* malformed: drop */
	KNAT_PKT_OTHER,		/* no flow of knat's: from outside, the
				 * host's own; from inside, untranslatable
				 */
	KNAT_PKT_FLOW,		/* TCP, UDP or an ICMP query: translate */
	KNAT_PKT_GENERIC,	/* another protocol: its address only */
	KNAT_PKT_ICMP_ERROR,	/* about a flow: translate the inside too */
};

/*
 * Protocols translated by address alone (nf_nat's "generic"): a session
 * per protocol, internal and remote address, ports 0.  UDP-Lite and DCCP
 * keep their checksum (of a pseudo-header, at the same place as UDP's)
 * right; the others have none over the addresses, or cannot be NATed
 * anyway (AH).
 */
static bool knat_generic_csum(u8 proto)
{
	return proto == IPPROTO_UDPLITE || proto == IPPROTO_DCCP;
}

static bool knat_icmp_is_error(u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type == ICMP_SOURCE_QUENCH;
}

/*
 * ICMP queries with an identifier (RFC 792, RFC 950): echo, timestamp,
 * information and address mask requests (@request) or their replies.
 * They are translated alike, the identifier as the port.
 */
static bool knat_icmp_query(u8 type, bool request)
{
	switch (type) {
	case ICMP_ECHO:
	case ICMP_TIMESTAMP:
	case ICMP_INFO_REQUEST:
	case ICMP_ADDRESS:
		return request;
	case ICMP_ECHOREPLY:
	case ICMP_TIMESTAMPREPLY:
	case ICMP_INFO_REPLY:
	case ICMP_ADDRESSREPLY:
		return !request;
	default:
		return false;
	}
}

/*
 * Ports of a TCP or UDP header at @off, the identifier of an ICMP query
 * (@request) or reply, none for a generic protocol.  @out: the packet
 * leaves the inside.
 */
static enum knat_pkt knat_parse_ports(const void *h, u8 proto, bool out,
				      bool request, __be16 *sport,
				      __be16 *dport)
{
	const struct icmphdr *ih = h;
	const __be16 *ports = h;

	switch (proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		*sport = ports[0];
		*dport = ports[1];
		return KNAT_PKT_FLOW;
	case IPPROTO_ICMP:
		if (!knat_icmp_query(ih->type, request))
			return KNAT_PKT_OTHER;
		*sport = out ? ih->un.echo.id : 0;
		*dport = out ? 0 : ih->un.echo.id;
		return KNAT_PKT_FLOW;
	default:
		*sport = 0;
		*dport = 0;
		return KNAT_PKT_GENERIC;
	}
}

/* Does an embedded packet of @proto need its first 8 bytes? */
static bool knat_inner_needs_l4(u8 proto)
{
	return proto == IPPROTO_TCP || proto == IPPROTO_UDP ||
	       proto == IPPROTO_ICMP || knat_generic_csum(proto);
}

/*
 * The packet embedded in an ICMP error at @off (the ICMP header).  It
 * travelled the other way: an error going out is about a packet that came
 * in, and the other way round.  RFC 792 promises 8 bytes of its payload,
 * enough for the ports; a generic protocol's packet may have had fewer
 * (its address is all knat needs).
 */
static enum knat_pkt knat_parse_inner(struct sk_buff *skb, unsigned int off,
				      bool out, struct knat_inner *in)
{
	const struct iphdr *iph;
	enum knat_pkt ret;

	in->off = off + sizeof(struct icmphdr);
	if (!pskb_may_pull(skb, in->off + sizeof(*iph)))
		return KNAT_PKT_BAD;
	iph = (const struct iphdr *)(skb->data + in->off);
	if (iph->version != 4 || iph->ihl < 5)
		return KNAT_PKT_BAD;
	/* Only a first fragment has ports. */
	if (iph->frag_off & htons(IP_OFFSET))
		return KNAT_PKT_OTHER;
	in->l4off = in->off + iph->ihl * 4;
	if (!pskb_may_pull(skb, in->l4off +
			   (knat_inner_needs_l4(iph->protocol) ? 8 : 0)))
		return KNAT_PKT_BAD;
	iph = (const struct iphdr *)(skb->data + in->off);

	in->proto = iph->protocol;
	in->saddr = iph->saddr;
	in->daddr = iph->daddr;
	ret = knat_parse_ports(skb->data + in->l4off, in->proto, !out, !out,
			       &in->sport, &in->dport);
	if (ret == KNAT_PKT_OTHER)
		return ret;
	/* RFC 5508 REQ-3: drop errors whose own checksum is wrong. */
	if (skb->ip_summed != CHECKSUM_UNNECESSARY &&
	    csum_fold(skb_checksum(skb, off, skb->len - off, 0)))
		return KNAT_PKT_BAD;
	return KNAT_PKT_ICMP_ERROR;
}

/*
 * Parse a packet's transport header.  For ICMP errors, @in gets the
 * embedded packet.
 */
static enum knat_pkt knat_parse(struct sk_buff *skb, bool out,
				struct knat_l4 *l4, struct knat_inner *in)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct icmphdr *ih;

	l4->proto = iph->protocol;
	l4->off = skb_network_offset(skb) + ip_hdrlen(skb);

	switch (l4->proto) {
	case IPPROTO_TCP:
		l4->len = sizeof(struct tcphdr);
		break;
	case IPPROTO_UDP:
		l4->len = sizeof(struct udphdr);
		break;
	case IPPROTO_ICMP:
		l4->len = sizeof(struct icmphdr);
		break;
	default:
		/* Up to the checksum of those that have one over addresses. */
		l4->len = knat_generic_csum(l4->proto) ? 8 : 0;
		break;
	}
	if (!pskb_may_pull(skb, l4->off + l4->len))
		return KNAT_PKT_BAD;

	ih = (const struct icmphdr *)(skb->data + l4->off);
	if (l4->proto == IPPROTO_ICMP && knat_icmp_is_error(ih->type))
		return knat_parse_inner(skb, l4->off, out, in);

	/* Queries go out, their replies come in. */
	return knat_parse_ports(skb->data + l4->off, l4->proto, out, out,
				&l4->sport, &l4->dport);
}

/*
 * Rewrite the source (@src) or destination address and port of a parsed
 * packet, keeping every checksum right, with and without offload.
 */
static int knat_rewrite(struct sk_buff *skb, const struct knat_l4 *l4,
			bool src, __be32 addr, __be16 port)
{
	struct iphdr *iph;
	__be32 *paddr;
	__be16 *pport;
	void *l4h;

	if (skb_ensure_writable(skb, l4->off + l4->len))
		return -ENOMEM;
	iph = ip_hdr(skb);
	l4h = skb->data + l4->off;
	paddr = src ? &iph->saddr : &iph->daddr;

	switch (l4->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4h;

		pport = src ? &th->source : &th->dest;
		inet_proto_csum_replace4(&th->check, skb, *paddr, addr, true);
		inet_proto_csum_replace2(&th->check, skb, *pport, port, false);
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4h;

		pport = src ? &uh->source : &uh->dest;
		/* A zero checksum means none, and stays so. */
		if (uh->check || skb->ip_summed == CHECKSUM_PARTIAL) {
			inet_proto_csum_replace4(&uh->check, skb, *paddr, addr,
						 true);
			inet_proto_csum_replace2(&uh->check, skb, *pport, port,
						 false);
			if (!uh->check)
				uh->check = CSUM_MANGLED_0;
		}
		break;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *ih = l4h;

		/* ICMP has no pseudo-header: only the identifier counts. */
		pport = &ih->un.echo.id;
		inet_proto_csum_replace2(&ih->checksum, skb, *pport, port,
					 false);
		break;
	}
	default:
		/* Generic: the address alone, and a checksum over it. */
		pport = NULL;
		if (knat_generic_csum(l4->proto))
			inet_proto_csum_replace4((__sum16 *)(l4h + 6), skb,
						 *paddr, addr, true);
		break;
	}

	if (pport)
		*pport = port;
	csum_replace4(&iph->check, *paddr, addr);
	*paddr = addr;
	return 0;
}

/*
 * Translate an ICMP error about session @s: the embedded packet's inside
 * endpoint and, if @outer, the outer address on the inside end.  @out: the
 * error leaves the inside (its embedded packet came in).
 */
static int knat_rewrite_embedded(struct sk_buff *skb,
				 const struct knat_l4 *l4,
				 const struct knat_inner *in, bool out,
				 bool outer, __be32 addr, __be16 port);

static int knat_rewrite_error(struct sk_buff *skb, const struct knat_l4 *l4,
			      const struct knat_inner *in,
			      const struct knat_session *s, bool out,
			      bool outer)
{
	return knat_rewrite_embedded(skb, l4, in, out, outer,
				     out ? s->ext_addr : s->int_addr,
				     out ? s->ext_port : s->int_port);
}

/*
 * The work of knat_rewrite_error(): the embedded packet's destination
 * (@out) or source becomes @addr:@port (an ICMP query's identifier: @port
 * whichever end), and so does, if @outer, the error's source (@out) or
 * destination.
 */
static int knat_rewrite_embedded(struct sk_buff *skb,
				 const struct knat_l4 *l4,
				 const struct knat_inner *in, bool out,
				 bool outer, __be32 addr, __be16 port)
{
	struct iphdr *iph, *inner;
	struct icmphdr *ih;
	__be32 *iaddr;
	__be16 *iport;
	void *il4;

	if (skb_ensure_writable(skb, skb->len))
		return -ENOMEM;
	iph = ip_hdr(skb);
	inner = (struct iphdr *)(skb->data + in->off);
	il4 = skb->data + in->l4off;

	/* The embedded packet's inside end: its destination if it came in. */
	iaddr = out ? &inner->daddr : &inner->saddr;
	switch (in->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = il4;

		iport = out ? &th->dest : &th->source;
		/* Only the first 8 bytes are promised: fix the rest if there. */
		if (skb->len >= in->l4off + offsetofend(struct tcphdr, check)) {
			csum_replace4(&th->check, *iaddr, addr);
			csum_replace2(&th->check, *iport, port);
		}
		break;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = il4;

		iport = out ? &uh->dest : &uh->source;
		if (uh->check) {
			csum_replace4(&uh->check, *iaddr, addr);
			csum_replace2(&uh->check, *iport, port);
		}
		break;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *eh = il4;

		iport = &eh->un.echo.id;
		csum_replace2(&eh->checksum, *iport, port);
		break;
	}
	default:
		/* Generic: 8 bytes are there, the checksum among them. */
		iport = NULL;
		if (knat_generic_csum(in->proto))
			csum_replace4((__sum16 *)(il4 + 6), *iaddr, addr);
		break;
	}
	csum_replace4(&inner->check, *iaddr, addr);
	*iaddr = addr;
	if (iport)
		*iport = port;

	/* The outer end: whoever sent the error, or whom it is for. */
	if (!outer) {
		/* The router's own error: its address is already outside. */
	} else if (out) {
		csum_replace4(&iph->check, iph->saddr, addr);
		iph->saddr = addr;
	} else {
		csum_replace4(&iph->check, iph->daddr, addr);
		iph->daddr = addr;
	}

	/* The ICMP checksum covers the whole error: compute it anew. */
	ih = (struct icmphdr *)(skb->data + l4->off);
	ih->checksum = 0;
	ih->checksum = csum_fold(skb_checksum(skb, l4->off,
					      skb->len - l4->off, 0));
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/* May this segment open a session from outside?  A SYN, nothing else. */
static bool knat_tcp_opens(const struct sk_buff *skb, const struct knat_l4 *l4)
{
	const struct tcphdr *th = (const void *)(skb->data + l4->off);

	return th->syn && !th->ack && !th->rst && !th->fin;
}

/*
 * May this segment from inside make a session?  Not an answer to a SYN
 * (a SYN/ACK: the session of the SYN it answers is gone, evicted or
 * expired) nor an RST: a session would only hold a port for nothing.
 * Anything else may: a connection opening, or one picked up mid-stream.
 */
static bool knat_tcp_opens_out(const struct sk_buff *skb,
			       const struct knat_l4 *l4)
{
	const struct tcphdr *th = (const void *)(skb->data + l4->off);

	return !th->rst && !(th->syn && th->ack);
}

/*
 * Is an inbound segment of session @s (state @st) one the session's
 * handshake or window allows?  knat_session.tcp_seq holds, after a SYN
 * from inside, the number its answer must acknowledge; after the internal
 * host's SYN/ACK to a connection opened from outside, the number the
 * outside's ACK must acknowledge; once established (or picked up from
 * inside), the last acknowledgment the internal host sent (or, right after
 * the handshake from outside, the sequence number its ACK carried), from
 * which an RST's sequence number must not be far.  *@done: take the segment, but
 * let it change nothing.
 */
static bool knat_tcp_in_ok(struct knat_session *s, unsigned int st,
			   const struct tcphdr *th, unsigned int *set,
			   bool *done)
{
	u32 ref = READ_ONCE(s->tcp_seq);

	if (st & KNAT_TCP_EST)
		return !th->rst || knat_tcp_near(ntohl(th->seq), ref);

	if (st & KNAT_TCP_INBOUND) {
		/* Embryonic: only the SYN again, or the handshake's ACK. */
		if (th->syn)
			return !th->ack;
		if (th->rst) {
			/* No window known yet: the host judges it. */
			*done = true;
			return true;
		}
		if (!(st & KNAT_TCP_SYN_OUT) || !th->ack ||
		    !knat_tcp_near(ntohl(th->ack_seq), ref))
			return false;
		/* Established: what the internal host expects next. */
		WRITE_ONCE(s->tcp_seq, ntohl(th->seq));
		*set |= KNAT_TCP_EST;
		return true;
	}

	if (!(st & KNAT_TCP_SYN_OUT))
		/* Picked up from inside, not seen both ways yet. */
		return !th->rst || knat_tcp_near(ntohl(th->seq), ref);

	if (st & KNAT_TCP_SYN_IN)
		return true;	/* the inside's ACK is still to come */
	/* A SYN went out: its answer acknowledges it, or is a SYN. */
	if (th->syn && !th->ack)
		return true;	/* simultaneous open */
	return (th->syn || th->rst) && th->ack &&
	       knat_tcp_near(ntohl(th->ack_seq), ref);
}

/*
 * Follow a TCP connection through session @s: the flags seen each way,
 * when it is established, and the numbers knat_tcp_in_ok() needs.
 * Packets from inside are trusted; those from outside are checked.
 * Returns false for an inbound segment to drop.
 */
static bool knat_tcp_track(struct knat_session *s, const struct sk_buff *skb,
			   const struct knat_l4 *l4, bool out)
{
	const struct tcphdr *th = (const void *)(skb->data + l4->off);
	unsigned int st = atomic_read(&s->state);
	unsigned int set = out ? KNAT_TCP_SEEN_OUT : KNAT_TCP_SEEN_IN;
	bool done = false;

	/* A new connection on the tuple of one that ended. */
	if (th->syn && !th->ack &&
	    (st & (KNAT_TCP_RST | KNAT_TCP_FIN_OUT | KNAT_TCP_FIN_IN))) {
		set |= out ? KNAT_TCP_SYN_OUT :
			     (KNAT_TCP_SYN_IN | KNAT_TCP_INBOUND);
		if (out)
			WRITE_ONCE(s->tcp_seq, ntohl(th->seq) + 1);
		/* What the session is (a mapping's, made from outside) stays. */
		atomic_set(&s->state, (st & KNAT_SESS_KEEP) | set);
		return true;
	}

	if (out) {
		if (th->syn) {
			/* Not a retransmission once established. */
			if (!(st & KNAT_TCP_EST))
				WRITE_ONCE(s->tcp_seq, ntohl(th->seq) + 1);
		} else if (th->ack && (!(st & KNAT_TCP_INBOUND) ||
				       (st & KNAT_TCP_EST))) {
			if (READ_ONCE(s->tcp_seq) != ntohl(th->ack_seq))
				WRITE_ONCE(s->tcp_seq, ntohl(th->ack_seq));
			/* The third leg of a handshake from inside. */
			if ((st & (KNAT_TCP_SYN_IN | KNAT_TCP_INBOUND)) ==
			    KNAT_TCP_SYN_IN)
				set |= KNAT_TCP_EST;
		}
	} else {
		if (!knat_tcp_in_ok(s, st, th, &set, &done))
			return false;
		if (done)
			return true;
	}

	if (th->syn)
		set |= out ? KNAT_TCP_SYN_OUT : KNAT_TCP_SYN_IN;
	if (th->fin)
		set |= out ? KNAT_TCP_FIN_OUT : KNAT_TCP_FIN_IN;
	if (th->rst)
		set |= KNAT_TCP_RST;
	/* Picked up mid-stream: established once both ways were seen. */
	if (!((st | set) & (KNAT_TCP_SYN_OUT | KNAT_TCP_SYN_IN)) &&
	    ((st | set) & (KNAT_TCP_SEEN_OUT | KNAT_TCP_SEEN_IN)) ==
	    (KNAT_TCP_SEEN_OUT | KNAT_TCP_SEEN_IN))
		set |= KNAT_TCP_EST;
	if ((st & set) != set)
		atomic_or(set, &s->state);
	return true;
}

/* A packet through a port mapping's session: count it on the mapping. */
static void knat_count_static(const struct knat_config *cfg,
			      const struct knat_session *s)
{
	const struct knat_cmap *cm;

	if (!(atomic_read(&s->state) & KNAT_SESS_STATIC))
		return;
	cm = knat_cmap_port(cfg, s->proto, s->ext_addr, ntohs(s->ext_port));
	if (cm)
		this_cpu_inc(cm->m->stats->packets);
}

static void knat_touch(struct knat_session *s)
{
	u32 now = (u32)jiffies;

	/* Dirty the cache line at most once a tick. */
	if (READ_ONCE(s->last_seen) != now)
		WRITE_ONCE(s->last_seen, now);
}

static unsigned int knat_drop(struct knat_stats __percpu *stats,
			      enum knat_counter c)
{
	knat_count(stats, c);
	return NF_DROP;
}

/*
 * Did a packet with internal source @saddr come in on @in, an interface
 * the route to @saddr leaves by (a strict reverse-path check, as
 * fib_validate_source() does for rp_filter 1, any next hop of a multipath
 * route)?  A packet from outside that claims an internal source must never
 * make a session, whatever rp_filter says.  One FIB lookup: only new
 * flows and hairpinned packets pay it.
 */
static bool knat_from_inside(struct net *net, const struct net_device *in,
			     __be32 saddr)
{
	struct flowi4 fl4 = {
		.daddr = saddr,
		.flowi4_iif = LOOPBACK_IFINDEX,
	};
	struct fib_result res;

	if (!in)
		return true;
	fl4.flowi4_l3mdev = l3mdev_master_ifindex_rcu(in);
	if (fib_lookup(net, &fl4, &res, FIB_LOOKUP_NOREF))
		return false;
	return res.type == RTN_UNICAST && fib_info_nh_uses_dev(res.fi, in);
}

/*
 * The same, remembered per internal host until the routes change: a
 * host's flows after its first pay a hash lookup, not a FIB lookup.
 */
static bool knat_from_inside_cached(struct knat_net *kn,
				    const struct net_device *in,
				    __be32 saddr)
{
	u64 seen;

	if (!in)
		return true;
	seen = (u64)in->ifindex << 32 | (u32)rt_genid_ipv4(kn->net);
	if (knat_host_rp_cached(kn, saddr, seen))
		return true;
	if (!knat_from_inside(kn->net, in, saddr))
		return false;
	knat_host_rp_cache(kn, saddr, seen);
	return true;
}

/*
 * An inbound packet's destination was rewritten at PREROUTING: a route
 * attached to it (looped back, or by an earlier hook) is for the old
 * destination.  Routing after the hook looks the new one up, as it does
 * after nf_nat's DNAT.
 */
static void knat_in_rerouted(struct sk_buff *skb)
{
	if (skb_dst(skb))
		skb_dst_drop(skb);
}

/*
 * A flow knat translates must never be offloaded to an nftables flowtable
 * (`flow add @ft` in a forward chain): the flowtable's fast path, at the
 * devices' ingress, forwards a flow's packets without any FORWARD hook,
 * so they would leave untranslated, with the internal address.  It takes
 * no flow whose conntrack entry is marked IPS_NAT_CLASH (as for nf_nat's
 * clash-resolved entries), so knat marks the entries of the flows it
 * translates, on their first packet through FORWARD either way: before
 * any packet of theirs can be established, so before any `flow add`.  The
 * mark also keeps a UDP entry from being assured, which only lets
 * conntrack evict it early under pressure.  Without conntrack, nothing to
 * do.
 */
#if IS_ENABLED(CONFIG_NF_CONNTRACK)
static struct nf_conn *knat_ct_unmarked(const struct sk_buff *skb)
{
	enum ip_conntrack_info ctinfo;
	struct nf_conn *ct = nf_ct_get(skb, &ctinfo);

	if (!ct || ctinfo == IP_CT_UNTRACKED ||
	    test_bit(IPS_NAT_CLASH_BIT, &ct->status))
		return NULL;
	return ct;
}

static void knat_ct_no_offload(const struct sk_buff *skb)
{
	struct nf_conn *ct = knat_ct_unmarked(skb);

	if (ct)
		set_bit(IPS_NAT_CLASH_BIT, &ct->status);
}
#else
static void *knat_ct_unmarked(const struct sk_buff *skb)
{
	return NULL;
}

static void knat_ct_no_offload(const struct sk_buff *skb)
{
}
#endif

/* Rewrite an address of any IP packet, the IP header alone. */
static int knat_rewrite_addr(struct sk_buff *skb, bool src, __be32 addr)
{
	struct iphdr *iph;
	__be32 *paddr;

	if (skb_ensure_writable(skb, skb_network_offset(skb) + ip_hdrlen(skb)))
		return -ENOMEM;
	iph = ip_hdr(skb);
	paddr = src ? &iph->saddr : &iph->daddr;
	csum_replace4(&iph->check, *paddr, addr);
	*paddr = addr;
	return 0;
}

/*
 * A packet of 1:1 mapping @cm, whatever its protocol: its internal
 * address becomes the external one going out (@out), and back coming in.
 * Ports stay.  ICMP errors have their embedded packet translated too.
 * Other protocols' own checksums that cover the addresses (DCCP,
 * UDP-Lite) are not fixed.
 */
static unsigned int knat_ip_map(struct sk_buff *skb,
				const struct knat_cmap *cm, bool out)
{
	__be32 to = out ? cm->ext_addr : cm->m->int_addr;
	struct knat_session tmp = {};
	struct knat_inner in;
	struct knat_l4 l4;
	int err;

	switch (knat_parse(skb, out, &l4, &in)) {
	case KNAT_PKT_FLOW:
	case KNAT_PKT_GENERIC:
		err = knat_rewrite(skb, &l4, out, to,
				   out ? l4.sport : l4.dport);
		break;
	case KNAT_PKT_ICMP_ERROR:
		/* The embedded packet's inside end is the mapped host. */
		if ((out ? in.daddr : in.saddr) !=
		    (out ? cm->m->int_addr : cm->ext_addr)) {
			err = knat_rewrite_addr(skb, out, to);
			break;
		}
		tmp.int_addr = cm->m->int_addr;
		tmp.ext_addr = cm->ext_addr;
		tmp.int_port = out ? in.dport : in.sport;
		tmp.ext_port = tmp.int_port;
		tmp.proto = in.proto;
		err = knat_rewrite_error(skb, &l4, &in, &tmp, out, true);
		if (!err)
			knat_count(cm->n->stats,
				   KNAT_CNT_ICMP_ERRORS_TRANSLATED);
		break;
	case KNAT_PKT_OTHER:
		err = knat_rewrite_addr(skb, out, to);
		break;
	default:
		return knat_drop(cm->n->stats, KNAT_CNT_DROP_MALFORMED);
	}
	if (err)
		return knat_drop(cm->n->stats, KNAT_CNT_DROP_NOMEM);
	if (!out)
		knat_in_rerouted(skb);
	else
		knat_ct_no_offload(skb);
	this_cpu_inc(cm->m->stats->packets);
	knat_count(cm->n->stats, out ? KNAT_CNT_TRANSLATED_OUT :
				       KNAT_CNT_TRANSLATED_IN);
	return NF_ACCEPT;
}

/* May a packet from @addr use port mapping @m? */
static bool knat_remote_ok(const struct knat_smap *m, __be32 addr)
{
	return (addr & m->rem_mask) == m->rem_prefix;
}

/*
 * An ICMP error in either direction about a translated flow: translate it
 * with the flow's session.  Errors neither create nor refresh sessions
 * (RFC 5508 REQ-6); one about no session is dropped going out, so that no
 * internal address leaks, and left alone coming in.
 */
static unsigned int knat_error(struct knat_net *kn, struct sk_buff *skb,
			       const struct knat_l4 *l4,
			       const struct knat_inner *in,
			       struct knat_network *n, bool out)
{
	struct knat_session *s;

	if (out)
		s = knat_session_out(kn, in->proto, in->daddr, in->dport,
				     in->saddr, in->sport);
	else
		s = knat_session_in(kn, in->proto, in->saddr, in->sport,
				    in->daddr, in->dport);
	if (!s || READ_ONCE(s->dead))
		return out ? knat_drop(n->stats, KNAT_CNT_DROP_FILTERED) :
			     NF_ACCEPT;

	if (knat_rewrite_error(skb, l4, in, s, out, true))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	if (!out)
		knat_in_rerouted(skb);
	knat_count(s->network->stats, KNAT_CNT_ICMP_ERRORS_TRANSLATED);
	knat_count(s->network->stats, out ? KNAT_CNT_TRANSLATED_OUT :
					    KNAT_CNT_TRANSLATED_IN);
	return NF_ACCEPT;
}

/*
 * Does hairpinned session @s's flow still lead to @daddr:@dport, its
 * index entry's peer?  Its remote end, an external one, is still the
 * peer's: a live session of it (whose remote end is @s's external one),
 * or its 1:1 mapping.  Not once the peer's mapping is gone or moved: the
 * entry is stale, and a direct flow between the two hosts is none of
 * knat's business.
 */
static bool knat_hairpin_peer_ok(struct knat_net *kn,
				 const struct knat_config *cfg,
				 const struct knat_session *s, __be32 daddr,
				 __be16 dport)
{
	const struct knat_session *p;
	const struct knat_cmap *cm;

	p = knat_session_in(kn, s->proto, s->rem_addr, s->rem_port,
			    s->ext_addr, s->ext_port);
	if (p && !READ_ONCE(p->dead))
		return p->int_addr == daddr && p->int_port == dport;
	if (!cfg->n_ipmaps)
		return false;
	cm = knat_cmap_ip_ext(cfg, s->rem_addr);
	return cm && cm->m->int_addr == daddr && s->rem_port == dport;
}

/* The hairpinned session of packets from @saddr:@sport to @daddr:@dport. */
static struct knat_session *knat_hairpin_lookup(struct knat_net *kn,
						const struct knat_config *cfg,
						u8 proto, __be32 saddr,
						__be16 sport, __be32 daddr,
						__be16 dport)
{
	struct knat_session *s;

	s = knat_hairpin_find(kn, proto, saddr, sport, daddr, dport);
	if (!s || !knat_hairpin_peer_ok(kn, cfg, s, daddr, dport))
		return NULL;
	return s;
}

/*
 * From a 1:1-mapped host (@saddr) to a host whose hairpinned flow with it
 * has session @s: @s's remote end is the mapping's address and the port
 * the packet comes from (@sport, 0 for an echo reply).
 */
static const struct knat_cmap *knat_hairpin_cmap(const struct knat_config *cfg,
						 const struct knat_session *s,
						 __be32 saddr, __be16 sport)
{
	const struct knat_cmap *cm;

	if (!s)
		return NULL;
	cm = knat_cmap_ip_int(cfg, saddr);
	if (!cm || s->rem_addr != cm->ext_addr || s->rem_port != sport)
		return NULL;
	return cm;
}

/*
 * The source of a hairpinned TCP, UDP or ICMP query packet (@l4 parsed)
 * between two internal hosts: its session's external end, or its 1:1
 * mapping's address, found through the peer's entry.  -ENOENT: not
 * hairpinned.
 */
static int knat_hairpin_src(struct knat_net *kn,
			    const struct knat_config *cfg,
			    struct sk_buff *skb, const struct knat_l4 *l4)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct knat_cmap *cm;
	struct knat_session *s;

	s = knat_hairpin_lookup(kn, cfg, l4->proto, iph->saddr, l4->sport,
				iph->daddr, l4->dport);
	if (s)
		return knat_rewrite(skb, l4, true, s->ext_addr, s->ext_port);
	if (!cfg->n_ipmaps ||
	    (l4->proto != IPPROTO_TCP && l4->proto != IPPROTO_UDP))
		return -ENOENT;
	s = knat_hairpin_lookup(kn, cfg, l4->proto, iph->daddr, l4->dport,
				iph->saddr, l4->sport);
	cm = knat_hairpin_cmap(cfg, s, iph->saddr, l4->sport);
	if (!cm)
		return -ENOENT;
	return knat_rewrite(skb, l4, true, cm->ext_addr, l4->sport);
}

/*
 * Inside to inside at FORWARD, from network @n: the second half of a
 * hairpinned packet (knat_hairpin_split()), whose destination PREROUTING
 * translated.  Its source becomes the external end of its session, or of
 * its 1:1 mapping; an ICMP error's embedded destination too.  Anything
 * else between internal hosts is none of knat's business.
 */
static unsigned int knat_hairpin_forward(struct knat_net *kn,
					 const struct knat_config *cfg,
					 struct knat_network *n,
					 struct sk_buff *skb)
{
	const struct knat_cmap *cm;
	const struct icmphdr *ih;
	struct knat_session *s;
	const struct iphdr *iph;
	struct knat_inner in;
	struct knat_l4 l4;
	int err;

	if (!atomic_read(&kn->hairpins.nelems) || ip_is_fragment(ip_hdr(skb)))
		return NF_ACCEPT;
	switch (knat_parse(skb, true, &l4, &in)) {
	case KNAT_PKT_FLOW:
		err = knat_hairpin_src(kn, cfg, skb, &l4);
		if (err == -ENOENT)
			return NF_ACCEPT;
		break;
	case KNAT_PKT_ICMP_ERROR:
		s = knat_hairpin_lookup(kn, cfg, in.proto, in.daddr, in.dport,
					in.saddr, in.sport);
		if (!s)
			return NF_ACCEPT;
		err = knat_rewrite_error(skb, &l4, &in, s, true, true);
		break;
	case KNAT_PKT_OTHER:
		/* An echo reply from a 1:1-mapped host. */
		if (l4.proto != IPPROTO_ICMP || !cfg->n_ipmaps)
			return NF_ACCEPT;
		ih = (const struct icmphdr *)(skb->data + l4.off);
		if (ih->type != ICMP_ECHOREPLY)
			return NF_ACCEPT;
		iph = ip_hdr(skb);
		s = knat_hairpin_lookup(kn, cfg, IPPROTO_ICMP, iph->daddr,
					ih->un.echo.id, iph->saddr, 0);
		cm = knat_hairpin_cmap(cfg, s, iph->saddr, 0);
		if (!cm)
			return NF_ACCEPT;
		err = knat_rewrite_addr(skb, true, cm->ext_addr);
		break;
	default:
		return NF_ACCEPT;
	}
	if (err)
		return knat_drop(n->stats, KNAT_CNT_DROP_NOMEM);
	knat_ct_no_offload(skb);
	return NF_ACCEPT;
}

/* Outbound: from an internal prefix to anywhere outside every one. */
static unsigned int knat_forward(void *priv, struct sk_buff *skb,
				 const struct nf_hook_state *state)
{
	struct knat_net *kn = knat_pernet(state->net);
	const struct knat_config *cfg = rcu_dereference(kn->config);
	const struct knat_params *p;
	struct knat_network *n;
	struct knat_session *s;
	const struct iphdr *iph;
	struct knat_inner in;
	enum knat_pkt kind;
	struct knat_l4 l4;

	if (!cfg)
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	n = knat_network_of(cfg, iph->saddr);
	if (!n) {
		/* Inbound, translated at PREROUTING: never offloaded either. */
		if (knat_ct_unmarked(skb) && knat_network_of(cfg, iph->daddr))
			knat_ct_no_offload(skb);
		return NF_ACCEPT;
	}
	if (knat_network_of(cfg, iph->daddr))
		return knat_hairpin_forward(kn, cfg, n, skb);
	/* Defragmentation runs before us: a fragment here cannot be NATed. */
	if (ip_is_fragment(iph))
		return knat_drop(n->stats, KNAT_CNT_DROP_MALFORMED);
	if (cfg->n_ipmaps) {
		const struct knat_cmap *cm = knat_cmap_ip_int(cfg, iph->saddr);

		if (cm)
			return knat_ip_map(skb, cm, true);
	}

	/* Nothing leaves with an internal address: translated, or dropped. */
	kind = knat_parse(skb, true, &l4, &in);
	switch (kind) {
	case KNAT_PKT_FLOW:
	case KNAT_PKT_GENERIC:
		break;
	case KNAT_PKT_ICMP_ERROR:
		return knat_error(kn, skb, &l4, &in, n, true);
	case KNAT_PKT_OTHER:
		return knat_drop(n->stats, KNAT_CNT_DROP_UNTRANSLATABLE);
	default:
		return knat_drop(n->stats, KNAT_CNT_DROP_MALFORMED);
	}
	iph = ip_hdr(skb);

	s = knat_session_out(kn, l4.proto, iph->saddr, l4.sport, iph->daddr,
			     l4.dport);
	if (!s || READ_ONCE(s->dead)) {
		if (l4.proto == IPPROTO_TCP && !knat_tcp_opens_out(skb, &l4))
			return knat_drop(n->stats, KNAT_CNT_DROP_TCP_INVALID);
		if (!knat_from_inside_cached(kn, state->in, iph->saddr))
			return knat_drop(n->stats, KNAT_CNT_DROP_SPOOFED);
		p = rcu_dereference(n->params);
		if (kind == KNAT_PKT_GENERIC)
			s = knat_session_create_generic(kn, n, p, l4.proto,
							iph->saddr, iph->daddr);
		else
			s = knat_session_create_out(kn, n, p, l4.proto,
						    iph->saddr, l4.sport,
						    iph->daddr, l4.dport);
		if (IS_ERR(s))
			return NF_DROP;
	}

	if (l4.proto == IPPROTO_TCP)
		knat_tcp_track(s, skb, &l4, true);
	knat_touch(s);

	if (knat_rewrite(skb, &l4, true, s->ext_addr, s->ext_port))
		return knat_drop(n->stats, KNAT_CNT_DROP_NOMEM);
	knat_ct_no_offload(skb);
	knat_count(n->stats, KNAT_CNT_TRANSLATED_OUT);
	knat_count_static(cfg, s);
	return NF_ACCEPT;
}

/*
 * An inbound packet with no session of its own, to the external endpoint
 * of mapping @m: let it in (with a new session) if the network's filtering
 * allows.  Returns the session, NULL to drop.
 */
static struct knat_session *knat_in_new(struct knat_net *kn,
					const struct knat_config *cfg,
					struct knat_mapping *m, __be32 saddr,
					__be16 sport, bool opens)
{
	const struct knat_params *p;
	struct knat_network *n;
	struct knat_session *s;

	n = knat_network_of(cfg, m->int_addr);
	if (!n)
		return NULL;
	p = rcu_dereference(n->params);

	switch (p->filtering) {
	case KNAT_FILTER_ENDPOINT_INDEPENDENT:
		break;
	case KNAT_FILTER_ADDRESS_DEPENDENT:
		if (knat_mapping_knows(kn, m, saddr))
			break;
		fallthrough;
	default:
		knat_count(n->stats, KNAT_CNT_DROP_FILTERED);
		return NULL;
	}
	if (!opens) {
		knat_count(n->stats, KNAT_CNT_DROP_TCP_NO_SYN);
		return NULL;
	}

	s = knat_session_create_in(kn, n, p, m, saddr, sport);
	return IS_ERR(s) ? NULL : s;
}

/*
 * The inside end for a new flow from @saddr:@sport to @daddr:@dport, an
 * external endpoint, with no session of its own: a new session through
 * a dynamic mapping (if the filtering allows) or a port mapping.  From
 * outside only a SYN opens a TCP session (@opens).  Returns the session,
 * NULL when the endpoint is no mapping's, or an ERR_PTR to drop.
 */
static struct knat_session *knat_in_mapped(struct knat_net *kn,
					   const struct knat_config *cfg,
					   u8 proto, __be32 daddr,
					   __be16 dport, __be32 saddr,
					   __be16 sport, bool opens)
{
	const struct knat_cmap *cm;
	struct knat_mapping *m;
	struct knat_session *s;

	m = knat_mapping_ext(kn, proto, daddr, dport);
	if (m && !READ_ONCE(m->dead)) {
		s = knat_in_new(kn, cfg, m, saddr, sport, opens);
		return s ?: ERR_PTR(-EPERM);
	}
	if (proto == IPPROTO_ICMP)
		return NULL;
	cm = knat_cmap_port(cfg, proto, daddr, ntohs(dport));
	if (!cm)
		return NULL;
	if (!knat_remote_ok(cm->m, saddr)) {
		knat_count(cm->n->stats, KNAT_CNT_DROP_FILTERED);
		return ERR_PTR(-EPERM);
	}
	if (!opens) {
		knat_count(cm->n->stats, KNAT_CNT_DROP_TCP_NO_SYN);
		return ERR_PTR(-EPERM);
	}
	return knat_session_create_static(kn, cm, daddr, ntohs(dport), saddr,
					  sport);
}

/*
 * Hairpinned flows are translated in two halves, as nf_nat translates
 * them: the destination at PREROUTING, routed from the packet's real
 * source, and the source at FORWARD (knat_hairpin_forward()).  Conntrack
 * and a firewall on the router then see one flow between two internal
 * endpoints, both ways, and br_netfilter routes the packet as bridged
 * (its source is still a host's, not the router's own address).  FORWARD
 * finds the source's translation in an index of the flow's sessions
 * (knat_hairpin_link()): that of the side the packet comes from, or for a
 * 1:1-mapped host, which has none, its peer's.  Where no entry can be had
 * (out of memory, two flows that would look alike at FORWARD, a flow
 * between two 1:1-mapped hosts, which has no session) the packet is
 * translated both ways at PREROUTING instead, as knat did before: it
 * arrives, but conntrack sees each direction as a flow of its own.
 */
/*
 * Index session @s's flow with its peer @daddr:@dport (see
 * knat_hairpin_link()): nothing to do once it is (one lookup), and a key
 * held by a flow that is over is taken over.  0 when indexed.
 */
static int knat_hairpin_index(struct knat_net *kn,
			      const struct knat_config *cfg,
			      struct knat_session *s, __be32 daddr,
			      __be16 dport)
{
	struct knat_session *o;

	o = knat_hairpin_find(kn, s->proto, s->int_addr, s->int_port, daddr,
			      dport);
	if (o == s)
		return 0;
	if (o && knat_hairpin_peer_ok(kn, cfg, o, daddr, dport))
		return -EEXIST;
	return knat_hairpin_link(kn, s, daddr, dport, o);
}

static bool knat_hairpin_split(struct knat_net *kn,
			       const struct knat_config *cfg,
			       struct knat_session *cs,
			       struct knat_session *ts, __be32 saddr,
			       __be16 sport, __be32 daddr, __be16 dport)
{
	if (cs) {
		if (knat_hairpin_index(kn, cfg, cs, daddr, dport))
			return false;
		/* For the packets coming back; they index it themselves. */
		if (ts)
			knat_hairpin_index(kn, cfg, ts, saddr, sport);
		return true;
	}
	return ts && !knat_hairpin_index(kn, cfg, ts, saddr, sport);
}

/* Inside a bridge, br_netfilter routes the packet after PREROUTING. */
static bool knat_in_bridge(const struct sk_buff *skb)
{
#if IS_ENABLED(CONFIG_BRIDGE_NETFILTER)
	const struct nf_bridge_info *nb = nf_bridge_info_get(skb);

	return nb && nb->in_prerouting;
#else
	return false;
#endif
}

/*
 * Route a hairpinned packet whose destination becomes @daddr from where it
 * really comes from (@saddr); not a redirect, the client never knew the
 * target's address.  Inside a bridge br_netfilter does it.
 */
static int knat_hairpin_route(struct sk_buff *skb, __be32 daddr,
			      __be32 saddr)
{
	skb_dst_drop(skb);
	if (knat_in_bridge(skb))
		return 0;
	if (ip_route_input_noref(skb, daddr, saddr, ip_hdr(skb)->tos,
				 skb->dev))
		return -EHOSTUNREACH;
	IPCB(skb)->flags &= ~IPSKB_DOREDIRECT;
	return 0;
}

/*
 * A packet to hairpin that crosses the IPv4 hooks from inside a bridge:
 * br_netfilter's PREROUTING pass (bridge-nf-call-iptables=1, Docker's
 * setting), where one internal host talks to another over the bridge the
 * router is on, and which knat must translate both ways at PREROUTING
 * (knat_hairpin_split() says when).  br_netfilter routes the packet again
 * once the hooks are done, from its new source, which is then the
 * router's own external address: a martian, dropped in silence.  knat
 * drops it itself, counts it and says why.
 */
static bool knat_bridged_hairpin(struct knat_network *cn,
				 const struct sk_buff *skb)
{
	if (!knat_in_bridge(skb))
		return false;
	net_warn_ratelimited("knat: %s: this flow cannot be hairpinned across a bridge with bridge-nf-call-iptables=1: dropped (drop_bridged_hairpin)\n",
			     cn->name);
	knat_count(cn->stats, KNAT_CNT_DROP_BRIDGED_HAIRPIN);
	return true;
}

/*
 * An ICMP echo reply from a 1:1-mapped internal host to an external
 * address (@l4 parsed): the answer to a hairpinned ping (RFC 5508 REQ-7).
 * Its source becomes the mapping's external address, its destination
 * the pinging host's session's inside end.
 */
static unsigned int knat_hairpin_echo_reply(struct knat_net *kn,
					    const struct knat_config *cfg,
					    struct knat_network *cn,
					    struct sk_buff *skb,
					    const struct knat_l4 *l4)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct knat_cmap *cm;
	const struct icmphdr *ih;
	struct knat_session *s;
	bool split;

	if (l4->proto != IPPROTO_ICMP)
		return NF_ACCEPT;
	ih = (const struct icmphdr *)(skb->data + l4->off);
	if (ih->type != ICMP_ECHOREPLY)
		return NF_ACCEPT;
	cm = knat_cmap_ip_int(cfg, iph->saddr);
	if (!cm)
		return NF_ACCEPT;
	s = knat_session_in(kn, IPPROTO_ICMP, iph->daddr, ih->un.echo.id,
			    cm->ext_addr, 0);
	if (!s || READ_ONCE(s->dead))
		return NF_ACCEPT;
	/* FORWARD finds the pinging host's entry: the reply is to it. */
	split = !knat_hairpin_index(kn, cfg, s, iph->saddr, 0);
	if (!split && knat_bridged_hairpin(cn, skb))
		return NF_DROP;

	if (knat_hairpin_route(skb, s->int_addr, iph->saddr))
		return knat_drop(cn->stats, KNAT_CNT_DROP_FILTERED);
	knat_touch(s);
	if ((!split && knat_rewrite_addr(skb, true, cm->ext_addr)) ||
	    knat_rewrite(skb, l4, false, s->int_addr, s->int_port))
		return knat_drop(cn->stats, KNAT_CNT_DROP_NOMEM);
	this_cpu_inc(cm->m->stats->packets);
	knat_count(cn->stats, KNAT_CNT_HAIRPINNED);
	return NF_ACCEPT;
}

/*
 * An ICMP error from an internal host (of network @cn) about a packet that
 * reached it hairpinned or looped back (RFC 5508 REQ-7): it is addressed
 * to the client's external address and embeds the packet as the host got
 * it.  Translated both ways, as the packet was: the host's end (outer
 * source, embedded destination) to its external endpoint, and the
 * client's (outer destination, embedded source) to the client's internal
 * one, then routed there; for a looped-back flow the client is the router
 * itself, which gets it locally.  TCP and UDP.
 */
static unsigned int knat_hairpin_error(struct knat_net *kn,
				       const struct knat_config *cfg,
				       struct knat_network *cn,
				       struct sk_buff *skb,
				       const struct knat_l4 *l4,
				       const struct knat_inner *in)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct knat_session *ts, *cs;
	bool split;

	if (in->proto != IPPROTO_TCP && in->proto != IPPROTO_UDP)
		return NF_ACCEPT;
	/* The host's session, as it sees the flow (its "out" side). */
	ts = knat_session_out(kn, in->proto, in->daddr, in->dport, in->saddr,
			      in->sport);
	if (!ts || READ_ONCE(ts->dead))
		return NF_ACCEPT;
	if (!knat_from_inside(kn->net, skb->dev, iph->saddr))
		return knat_drop(cn->stats, KNAT_CNT_DROP_SPOOFED);
	/* The client's session, seen from the host's external end. */
	cs = knat_session_in(kn, in->proto, in->saddr, in->sport,
			     ts->ext_addr, ts->ext_port);
	if (cs && READ_ONCE(cs->dead))
		cs = NULL;
	/* Hairpinned: the host's end at FORWARD, which finds @ts's entry. */
	split = cs && !knat_hairpin_index(kn, cfg, ts, cs->int_addr,
					  cs->int_port);
	if (!split && knat_bridged_hairpin(cn, skb))
		return NF_DROP;

	/*
	 * Route first, from where the error really comes from, to the client,
	 * or to the router itself when looped back.
	 */
	if (knat_hairpin_route(skb, cs ? cs->int_addr : iph->daddr,
			       iph->saddr))
		return knat_drop(cn->stats, KNAT_CNT_DROP_FILTERED);
	if ((!split && knat_rewrite_error(skb, l4, in, ts, true, true)) ||
	    (cs && knat_rewrite_error(skb, l4, in, cs, false, true)))
		return knat_drop(cn->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(cn->stats, KNAT_CNT_ICMP_ERRORS_TRANSLATED);
	knat_count(cn->stats, cs ? KNAT_CNT_HAIRPINNED : KNAT_CNT_LOOPBACK);
	return NF_ACCEPT;
}

/*
 * From inside to an external address (@cn: the client's network).  If the
 * destination is a mapping, or the packet belongs to a hairpinned or
 * loopback flow, translate the source as going out and the destination
 * as coming in, and route the packet to where it now goes.  Anything
 * else is for the router itself and stays untouched.  TCP and UDP, and
 * ICMP echo to a 1:1 mapping's address.
 */
static unsigned int knat_hairpin(struct knat_net *kn,
				 const struct knat_config *cfg,
				 struct knat_network *cn, struct sk_buff *skb)
{
	const struct knat_params *cp = rcu_dereference(cn->params);
	const struct knat_cmap *cm_c = NULL, *cm_t = NULL;
	struct knat_session *cs = NULL, *ts = NULL;
	__be32 saddr, daddr, new_saddr, new_daddr;
	__be16 new_sport, new_dport;
	const struct iphdr *iph;
	struct knat_inner in;
	struct knat_l4 l4;
	bool split;

	switch (knat_parse(skb, true, &l4, &in)) {
	case KNAT_PKT_FLOW:
		break;
	case KNAT_PKT_BAD:
		return knat_drop(cn->stats, KNAT_CNT_DROP_MALFORMED);
	case KNAT_PKT_OTHER:
		if (!cfg->n_ipmaps)
			return NF_ACCEPT;
		return knat_hairpin_echo_reply(kn, cfg, cn, skb, &l4);
	case KNAT_PKT_ICMP_ERROR:
		return knat_hairpin_error(kn, cfg, cn, skb, &l4, &in);
	default:
		return NF_ACCEPT;
	}
	iph = ip_hdr(skb);
	/* Pings hairpin only to a 1:1 address: ICMP has no mapped ports. */
	if (l4.proto == IPPROTO_ICMP &&
	    (!cfg->n_ipmaps || !knat_cmap_ip_ext(cfg, iph->daddr)))
		return NF_ACCEPT;
	saddr = iph->saddr;
	daddr = iph->daddr;

	/* The client's end: a 1:1 mapping, or a session going out. */
	if (cfg->n_ipmaps) {
		cm_c = knat_cmap_ip_int(cfg, saddr);
		cm_t = knat_cmap_ip_ext(cfg, daddr);
	}
	if (!cm_c) {
		cs = knat_session_out(kn, l4.proto, saddr, l4.sport, daddr,
				      l4.dport);
		if (cs && READ_ONCE(cs->dead))
			cs = NULL;
	}
	if (!cs) {
		/* A new flow: only to a mapping, and only when hairpinning. */
		if (!cp->hairpin)
			return NF_ACCEPT;
		if (!cm_t) {
			struct knat_mapping *m;

			m = knat_mapping_ext(kn, l4.proto, daddr, l4.dport);
			if ((!m || READ_ONCE(m->dead)) &&
			    !knat_cmap_port(cfg, l4.proto, daddr,
					    ntohs(l4.dport)))
				return NF_ACCEPT;
		}
	}
	/*
	 * Hairpinned, so from one of our hosts: from where the route to it
	 * leaves, or spoofed.  Only now: anything else from an internal
	 * address to ours (the router's own packets from its inside address
	 * come in on lo) is the router's business, not knat's.
	 */
	if (!knat_from_inside_cached(kn, skb->dev, saddr))
		return knat_drop(cn->stats, KNAT_CNT_DROP_SPOOFED);
	/* Between two 1:1 mappings: nothing to index, see below. */
	if (cm_c && cm_t && knat_bridged_hairpin(cn, skb))
		return NF_DROP;
	if (!cs) {
		if (!cm_c) {
			cs = knat_session_create_out(kn, cn, cp, l4.proto,
						     saddr, l4.sport, daddr,
						     l4.dport);
			if (IS_ERR(cs))
				return NF_DROP;
		}
	}
	if (cs) {
		new_saddr = cs->ext_addr;
		new_sport = cs->ext_port;
	} else {
		new_saddr = cm_c->ext_addr;
		new_sport = l4.sport;
	}

	/* The target's end: a 1:1 mapping, a session, a mapping, or us. */
	new_daddr = daddr;
	new_dport = l4.dport;
	if (cm_t) {
		new_daddr = cm_t->m->int_addr;
	} else {
		ts = knat_session_in(kn, l4.proto, daddr, l4.dport, new_saddr,
				     new_sport);
		if (ts && READ_ONCE(ts->dead))
			ts = NULL;
		if (!ts)
			ts = knat_in_mapped(kn, cfg, l4.proto, daddr, l4.dport,
					    new_saddr, new_sport,
					    l4.proto != IPPROTO_TCP ||
					    knat_tcp_opens(skb, &l4));
		if (IS_ERR(ts))
			return NF_DROP;
		if (ts) {
			new_daddr = ts->int_addr;
			new_dport = ts->int_port;
		}
	}

	/*
	 * Between two hosts, the source is translated at FORWARD when it can
	 * be (knat_hairpin_split()); looped back to the router, here.  An
	 * echo's one identifier is the client's, its source end.
	 */
	split = (ts || cm_t) &&
		knat_hairpin_split(kn, cfg, cs, ts, saddr, l4.sport, new_daddr,
				   l4.proto == IPPROTO_ICMP ? 0 : new_dport);
	if (!split && knat_bridged_hairpin(cn, skb))
		return NF_DROP;
	if (l4.proto == IPPROTO_ICMP)
		new_dport = split ? l4.sport : new_sport;

	/*
	 * Route first, from where the packet really comes from: the new
	 * source may be the router's own address.
	 */
	if (knat_hairpin_route(skb, new_daddr, saddr))
		return knat_drop(cn->stats, KNAT_CNT_DROP_FILTERED);

	if (ts && l4.proto == IPPROTO_TCP &&
	    !knat_tcp_track(ts, skb, &l4, false))
		return knat_drop(cn->stats, KNAT_CNT_DROP_TCP_INVALID);
	if (cs) {
		if (l4.proto == IPPROTO_TCP)
			knat_tcp_track(cs, skb, &l4, true);
		knat_touch(cs);
		knat_count_static(cfg, cs);
	} else {
		this_cpu_inc(cm_c->m->stats->packets);
	}
	if (ts) {
		knat_touch(ts);
		knat_count_static(cfg, ts);
	} else if (cm_t) {
		this_cpu_inc(cm_t->m->stats->packets);
	}

	if ((!split && knat_rewrite(skb, &l4, true, new_saddr, new_sport)) ||
	    knat_rewrite(skb, &l4, false, new_daddr, new_dport))
		return knat_drop(cn->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(cn->stats, ts || cm_t ? KNAT_CNT_HAIRPINNED :
					   KNAT_CNT_LOOPBACK);
	return NF_ACCEPT;
}

/* Inbound: to an external address, back to the internal host. */
static unsigned int knat_prerouting(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct knat_net *kn = knat_pernet(state->net);
	const struct knat_config *cfg = rcu_dereference(kn->config);
	const struct knat_params *p;
	struct knat_network *n;
	struct knat_session *s;
	const struct iphdr *iph;
	struct knat_inner in;
	enum knat_pkt kind;
	struct knat_l4 l4;

	if (!cfg)
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	if (!knat_is_ext_addr(cfg, iph->daddr) || ip_is_fragment(iph))
		return NF_ACCEPT;
	/*
	 * The router's own packets, looped back (through lo, or a VRF
	 * device): what host loopback translates it did at LOCAL_OUT, and
	 * the rest is for the router, whose external addresses, 1:1 ones
	 * too, are its own.  (A VRF device also passes on what came in on
	 * its ports, already seen here with them as @state->in.)
	 */
	if ((state->in->flags & IFF_LOOPBACK) || netif_is_l3_master(state->in))
		return NF_ACCEPT;
	n = knat_network_of(cfg, iph->saddr);
	if (n)
		return knat_hairpin(kn, cfg, n, skb);
	if (cfg->n_ipmaps) {
		const struct knat_cmap *cm = knat_cmap_ip_ext(cfg, iph->daddr);

		if (cm)
			return knat_ip_map(skb, cm, false);
	}

	kind = knat_parse(skb, false, &l4, &in);
	switch (kind) {
	case KNAT_PKT_FLOW:
	case KNAT_PKT_GENERIC:
		break;
	case KNAT_PKT_ICMP_ERROR:
		return knat_error(kn, skb, &l4, &in, NULL, false);
	case KNAT_PKT_OTHER:
		return NF_ACCEPT;
	default:
		return knat_drop(kn->stats, KNAT_CNT_DROP_MALFORMED);
	}
	iph = ip_hdr(skb);

	s = knat_session_in(kn, l4.proto, iph->daddr, l4.dport, iph->saddr,
			    l4.sport);
	if (!s || READ_ONCE(s->dead)) {
		/* A generic protocol's sessions are only ever made inside. */
		if (kind == KNAT_PKT_GENERIC)
			return NF_ACCEPT;	/* the host's own traffic */
		s = knat_in_mapped(kn, cfg, l4.proto, iph->daddr, l4.dport,
				   iph->saddr, l4.sport,
				   l4.proto != IPPROTO_TCP ||
				   knat_tcp_opens(skb, &l4));
		if (!s)
			return NF_ACCEPT;	/* the host's own traffic */
		if (IS_ERR(s))
			return NF_DROP;
	}

	p = rcu_dereference(s->network->params);
	if (l4.proto == IPPROTO_TCP) {
		if (!knat_tcp_track(s, skb, &l4, false))
			return knat_drop(s->network->stats,
					 KNAT_CNT_DROP_TCP_INVALID);
		knat_touch(s);
	} else if (l4.proto == IPPROTO_UDP && p->udp_inbound_refresh) {
		knat_touch(s);
	}

	if (knat_rewrite(skb, &l4, false, s->int_addr, s->int_port))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	knat_in_rerouted(skb);
	knat_count(s->network->stats, KNAT_CNT_TRANSLATED_IN);
	knat_count_static(cfg, s);
	return NF_ACCEPT;
}

/*
 * An ICMP error the router itself sends to an internal host about a
 * hairpinned packet it was forwarding (time exceeded, fragmentation
 * needed): ip_forward() sends it before FORWARD, so the embedded packet
 * has its new destination, the target's internal end, and still the
 * host's own source.  The host sent it to the target's external end: put
 * that back (for a 1:1-mapped host, found through the target's entry).
 */
static unsigned int knat_local_hairpin_error(struct knat_net *kn,
					     const struct knat_config *cfg,
					     struct sk_buff *skb)
{
	struct knat_session *s;
	struct knat_inner in;
	struct knat_l4 l4;
	__be32 addr;
	__be16 port;

	if (!atomic_read(&kn->hairpins.nelems) ||
	    knat_parse(skb, false, &l4, &in) != KNAT_PKT_ICMP_ERROR)
		return NF_ACCEPT;
	s = knat_hairpin_lookup(kn, cfg, in.proto, in.saddr, in.sport,
				in.daddr, in.dport);
	if (s) {
		addr = s->rem_addr;
		port = s->rem_port;
	} else {
		if (!cfg->n_ipmaps ||
		    (in.proto != IPPROTO_TCP && in.proto != IPPROTO_UDP))
			return NF_ACCEPT;
		s = knat_hairpin_lookup(kn, cfg, in.proto, in.daddr, in.dport,
					in.saddr, in.sport);
		if (!knat_hairpin_cmap(cfg, s, in.saddr, in.sport))
			return NF_ACCEPT;
		addr = s->ext_addr;
		port = s->ext_port;
	}
	/* An echo's identifier is the host's own. */
	if (in.proto == IPPROTO_ICMP)
		port = in.sport;
	if (knat_rewrite_embedded(skb, &l4, &in, true, false, addr, port))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(s->network->stats, KNAT_CNT_ICMP_ERRORS_TRANSLATED);
	return NF_ACCEPT;
}

/*
 * An ICMP error the router itself sends about a packet it was forwarding
 * inward, after knat translated it (time exceeded, fragmentation needed
 * toward an internal host): the embedded packet carries the internal
 * destination, which the remote end never knew.  Translate it back.  Runs
 * after conntrack and the filter chains, which see the error as related
 * to the internal flow.
 */
static unsigned int knat_local_error(struct knat_net *kn,
				     const struct knat_config *cfg,
				     struct sk_buff *skb)
{
	struct knat_session *s;
	struct knat_inner in;
	struct knat_l4 l4;

	if (knat_network_of(cfg, ip_hdr(skb)->daddr))
		return knat_local_hairpin_error(kn, cfg, skb);
	if (knat_parse(skb, true, &l4, &in) != KNAT_PKT_ICMP_ERROR ||
	    !knat_network_of(cfg, in.daddr))
		return NF_ACCEPT;

	s = knat_session_out(kn, in.proto, in.daddr, in.dport, in.saddr,
			     in.sport);
	if (!s || READ_ONCE(s->dead))
		return NF_ACCEPT;
	if (knat_rewrite_error(skb, &l4, &in, s, true, false))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(s->network->stats, KNAT_CNT_ICMP_ERRORS_TRANSLATED);
	return NF_ACCEPT;
}

/*
 * Host loopback: the router itself to an external address and a mapped
 * TCP or UDP port.  Translate the destination as if the packet came in
 * from outside, from the local socket's address and port, and route it
 * anew.  The replies come back through knat_hairpin().  Not for 1:1
 * mappings: the router's socket would have the external address as its
 * own source, so the replies could not be told from hairpinning of the
 * internal host to itself.  A flow the filtering refuses stays local.
 */
static unsigned int knat_loopback(struct knat_net *kn,
				  const struct knat_config *cfg,
				  struct sk_buff *skb,
				  const struct nf_hook_state *state)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct knat_session *s;
	struct knat_inner in;
	struct knat_l4 l4;

	if (ip_is_fragment(iph) ||
	    knat_parse(skb, false, &l4, &in) != KNAT_PKT_FLOW)
		return NF_ACCEPT;
	iph = ip_hdr(skb);

	s = knat_session_in(kn, l4.proto, iph->daddr, l4.dport, iph->saddr,
			    l4.sport);
	if (s && READ_ONCE(s->dead))
		s = NULL;
	if (!s)
		s = knat_in_mapped(kn, cfg, l4.proto, iph->daddr, l4.dport,
				   iph->saddr, l4.sport,
				   l4.proto != IPPROTO_TCP ||
				   knat_tcp_opens(skb, &l4));
	if (IS_ERR_OR_NULL(s))
		return NF_ACCEPT;	/* to the router itself */
	if (l4.proto == IPPROTO_TCP && !knat_tcp_track(s, skb, &l4, false))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_TCP_INVALID);
	knat_touch(s);

	if (knat_rewrite(skb, &l4, false, s->int_addr, s->int_port))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	if (ip_route_me_harder(state->net, state->sk, skb, RTN_UNSPEC))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_FILTERED);
	knat_count_static(cfg, s);
	knat_count(s->network->stats, KNAT_CNT_LOOPBACK);
	return NF_ACCEPT;
}

/*
 * A TCP or UDP packet the router sends on an internal host's behalf: the
 * reset of a `reject with tcp reset` rule (nf_send_reset()) about a
 * segment for the host carries the host's address and port as its
 * source.  It must look like the host's own: translated out with the
 * host's session or 1:1 mapping, or, to a hairpinned client, as the
 * host's hairpinned packets are.  The router's own sockets on an internal
 * address have no session and stay as they are.
 */
static unsigned int knat_local_behalf(struct knat_net *kn,
				      const struct knat_config *cfg,
				      struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	struct knat_network *n;
	struct knat_session *s;
	struct knat_inner in;
	struct knat_l4 l4;
	int err;

	n = knat_network_of(cfg, iph->saddr);
	if (!n || ip_is_fragment(iph))
		return NF_ACCEPT;
	if (knat_network_of(cfg, iph->daddr)) {
		if (!atomic_read(&kn->hairpins.nelems) ||
		    knat_parse(skb, true, &l4, &in) != KNAT_PKT_FLOW)
			return NF_ACCEPT;
		err = knat_hairpin_src(kn, cfg, skb, &l4);
		if (err == -ENOENT)
			return NF_ACCEPT;
		return err ? knat_drop(n->stats, KNAT_CNT_DROP_NOMEM) :
			     NF_ACCEPT;
	}
	if (cfg->n_ipmaps) {
		const struct knat_cmap *cm = knat_cmap_ip_int(cfg, iph->saddr);

		if (cm)
			return knat_ip_map(skb, cm, true);
	}
	if (knat_parse(skb, true, &l4, &in) != KNAT_PKT_FLOW)
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	s = knat_session_out(kn, l4.proto, iph->saddr, l4.sport, iph->daddr,
			     l4.dport);
	if (!s || READ_ONCE(s->dead))
		return NF_ACCEPT;
	if (knat_rewrite(skb, &l4, true, s->ext_addr, s->ext_port))
		return knat_drop(n->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(n->stats, KNAT_CNT_TRANSLATED_OUT);
	return NF_ACCEPT;
}

/*
 * The router's own packets: ICMP errors about inward-translated packets,
 * TCP or UDP to an external address (host loopback), and TCP or UDP sent
 * on an internal host's behalf.  Anything else leaves at once.
 */
static unsigned int knat_local_out(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	struct knat_net *kn = knat_pernet(state->net);
	const struct knat_config *cfg = rcu_dereference(kn->config);
	const struct iphdr *iph = ip_hdr(skb);

	if (!cfg)
		return NF_ACCEPT;
	switch (iph->protocol) {
	case IPPROTO_ICMP:
		return knat_local_error(kn, cfg, skb);
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		if (knat_is_ext_addr(cfg, iph->daddr))
			return knat_loopback(kn, cfg, skb, state);
		return knat_local_behalf(kn, cfg, skb);
	default:
		return NF_ACCEPT;
	}
}

static const struct nf_hook_ops knat_hook_ops[] = {
	{
		.hook		= knat_prerouting,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_PRE_ROUTING,
		.priority	= KNAT_PRI_PREROUTING,
	},
	{
		.hook		= knat_forward,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_FORWARD,
		.priority	= KNAT_PRI_FORWARD,
	},
	{
		.hook		= knat_local_out,
		.pf		= NFPROTO_IPV4,
		.hooknum	= NF_INET_LOCAL_OUT,
		.priority	= KNAT_PRI_FORWARD,
	},
};

int knat_hooks_register(struct net *net)
{
	return nf_register_net_hooks(net, knat_hook_ops,
				     ARRAY_SIZE(knat_hook_ops));
}

void knat_hooks_unregister(struct net *net)
{
	nf_unregister_net_hooks(net, knat_hook_ops, ARRAY_SIZE(knat_hook_ops));
}

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
	KNAT_PKT_OTHER,		/* not knat's business */
	KNAT_PKT_FLOW,		/* TCP, UDP or ICMP echo: translate */
	KNAT_PKT_ICMP_ERROR,	/* about a flow: translate the inside too */
};

static bool knat_icmp_is_error(u8 type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_TIME_EXCEEDED ||
	       type == ICMP_PARAMETERPROB || type == ICMP_SOURCE_QUENCH;
}

/*
 * Ports of a TCP or UDP header at @off, or the identifier of an ICMP echo
 * of type @echo_type.  @out: the packet leaves the inside.
 */
static enum knat_pkt knat_parse_ports(const void *h, u8 proto, bool out,
				      u8 echo_type, __be16 *sport,
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
		if (ih->type != echo_type)
			return KNAT_PKT_OTHER;
		*sport = out ? ih->un.echo.id : 0;
		*dport = out ? 0 : ih->un.echo.id;
		return KNAT_PKT_FLOW;
	default:
		return KNAT_PKT_OTHER;
	}
}

/*
 * The packet embedded in an ICMP error at @off (the ICMP header).  It
 * travelled the other way: an error going out is about a packet that came
 * in, and the other way round.  RFC 792 promises 8 bytes of its payload,
 * enough for the ports.
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
	if (!pskb_may_pull(skb, in->l4off + 8))
		return KNAT_PKT_BAD;
	iph = (const struct iphdr *)(skb->data + in->off);

	in->proto = iph->protocol;
	in->saddr = iph->saddr;
	in->daddr = iph->daddr;
	ret = knat_parse_ports(skb->data + in->l4off, in->proto, !out,
			       out ? ICMP_ECHOREPLY : ICMP_ECHO,
			       &in->sport, &in->dport);
	/* RFC 5508 REQ-3: drop errors whose own checksum is wrong. */
	if (ret == KNAT_PKT_FLOW && skb->ip_summed != CHECKSUM_UNNECESSARY &&
	    csum_fold(skb_checksum(skb, off, skb->len - off, 0)))
		return KNAT_PKT_BAD;
	return ret == KNAT_PKT_FLOW ? KNAT_PKT_ICMP_ERROR : ret;
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
		return KNAT_PKT_OTHER;
	}
	if (!pskb_may_pull(skb, l4->off + l4->len))
		return KNAT_PKT_BAD;

	ih = (const struct icmphdr *)(skb->data + l4->off);
	if (l4->proto == IPPROTO_ICMP && knat_icmp_is_error(ih->type))
		return knat_parse_inner(skb, l4->off, out, in);

	/* Queries go out, their replies come in. */
	return knat_parse_ports(skb->data + l4->off, l4->proto, out,
				out ? ICMP_ECHO : ICMP_ECHOREPLY,
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
	default: {
		struct icmphdr *ih = l4h;

		/* ICMP has no pseudo-header: only the identifier counts. */
		pport = &ih->un.echo.id;
		inet_proto_csum_replace2(&ih->checksum, skb, *pport, port,
					 false);
		break;
	}
	}

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
static int knat_rewrite_error(struct sk_buff *skb, const struct knat_l4 *l4,
			      const struct knat_inner *in,
			      const struct knat_session *s, bool out,
			      bool outer)
{
	__be32 addr = out ? s->ext_addr : s->int_addr;
	__be16 port = out ? s->ext_port : s->int_port;
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
	default: {
		struct icmphdr *eh = il4;

		iport = &eh->un.echo.id;
		csum_replace2(&eh->checksum, *iport, port);
		break;
	}
	}
	csum_replace4(&inner->check, *iaddr, addr);
	*iaddr = addr;
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

static void knat_tcp_track(struct knat_session *s, const struct sk_buff *skb,
			   const struct knat_l4 *l4, bool out)
{
	const struct tcphdr *th = (const void *)(skb->data + l4->off);
	unsigned int st = atomic_read(&s->state);
	unsigned int set = out ? KNAT_TCP_SEEN_OUT : KNAT_TCP_SEEN_IN;

	if (th->syn) {
		/* A new connection on the tuple of one that ended. */
		if (!th->ack && (st & (KNAT_TCP_RST | KNAT_TCP_FIN_OUT |
				       KNAT_TCP_FIN_IN))) {
			set |= out ? KNAT_TCP_SYN_OUT :
				     (KNAT_TCP_SYN_IN | KNAT_TCP_INBOUND);
			atomic_set(&s->state, set);
			return;
		}
		set |= out ? KNAT_TCP_SYN_OUT : KNAT_TCP_SYN_IN;
	}
	if (th->fin)
		set |= out ? KNAT_TCP_FIN_OUT : KNAT_TCP_FIN_IN;
	if (th->rst)
		set |= KNAT_TCP_RST;
	if ((st & set) != set)
		atomic_or(set, &s->state);
}

static void knat_touch(struct knat_session *s)
{
	u32 now = (u32)jiffies;

	/* Dirty the cache line at most once a tick. */
	if (READ_ONCE(s->last_seen) != now)
		WRITE_ONCE(s->last_seen, now);
}

static struct knat_network *knat_network_of(const struct knat_config *cfg,
					    __be32 addr)
{
	unsigned int i;

	for (i = 0; i < cfg->n_networks; i++) {
		struct knat_network *n = cfg->networks[i];

		if ((addr & n->mask) == n->prefix)
			return n;
	}
	return NULL;
}

static bool knat_is_ext_addr(const struct knat_config *cfg, __be32 addr)
{
	unsigned int i;

	for (i = 0; i < cfg->n_addrs; i++)
		if (cfg->addrs[i] == addr)
			return true;
	return false;
}

static unsigned int knat_drop(struct knat_stats __percpu *stats,
			      enum knat_counter c)
{
	knat_count(stats, c);
	return NF_DROP;
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
	bool addr_known;

	if (out)
		s = knat_session_out(kn, in->proto, in->daddr, in->dport,
				     in->saddr, in->sport);
	else
		s = knat_session_in(kn, in->proto, in->saddr, in->sport,
				    in->daddr, in->dport, &addr_known);
	if (!s || READ_ONCE(s->dead))
		return out ? knat_drop(n->stats, KNAT_CNT_DROP_FILTERED) :
			     NF_ACCEPT;

	if (knat_rewrite_error(skb, l4, in, s, out, true))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(s->network->stats, KNAT_CNT_ICMP_ERRORS_TRANSLATED);
	knat_count(s->network->stats, out ? KNAT_CNT_TRANSLATED_OUT :
					    KNAT_CNT_TRANSLATED_IN);
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
	struct knat_l4 l4;

	if (!cfg)
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	n = knat_network_of(cfg, iph->saddr);
	if (!n || knat_network_of(cfg, iph->daddr))
		return NF_ACCEPT;
	/* Defragmentation runs before us: a fragment here cannot be NATed. */
	if (ip_is_fragment(iph))
		return knat_drop(n->stats, KNAT_CNT_DROP_MALFORMED);

	switch (knat_parse(skb, true, &l4, &in)) {
	case KNAT_PKT_FLOW:
		break;
	case KNAT_PKT_ICMP_ERROR:
		return knat_error(kn, skb, &l4, &in, n, true);
	case KNAT_PKT_OTHER:
		return NF_ACCEPT;
	default:
		return knat_drop(n->stats, KNAT_CNT_DROP_MALFORMED);
	}
	iph = ip_hdr(skb);

	s = knat_session_out(kn, l4.proto, iph->saddr, l4.sport, iph->daddr,
			     l4.dport);
	if (!s || READ_ONCE(s->dead)) {
		p = rcu_dereference(n->params);
		s = knat_session_create_out(kn, n, p, l4.proto, iph->saddr,
					    l4.sport, iph->daddr, l4.dport);
		if (IS_ERR(s))
			return NF_DROP;
	}

	if (l4.proto == IPPROTO_TCP)
		knat_tcp_track(s, skb, &l4, true);
	knat_touch(s);

	if (knat_rewrite(skb, &l4, true, s->ext_addr, s->ext_port))
		return knat_drop(n->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(n->stats, KNAT_CNT_TRANSLATED_OUT);
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
					__be16 sport, bool addr_known)
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
		if (addr_known)
			break;
		fallthrough;
	default:
		knat_count(n->stats, KNAT_CNT_DROP_FILTERED);
		return NULL;
	}

	s = knat_session_create_in(kn, n, p, m, saddr, sport);
	return IS_ERR(s) ? NULL : s;
}

/* Inbound: to an external address, back to the internal host. */
static unsigned int knat_prerouting(void *priv, struct sk_buff *skb,
				    const struct nf_hook_state *state)
{
	struct knat_net *kn = knat_pernet(state->net);
	const struct knat_config *cfg = rcu_dereference(kn->config);
	const struct knat_params *p;
	struct knat_session *s;
	struct knat_mapping *m;
	const struct iphdr *iph;
	struct knat_inner in;
	struct knat_l4 l4;
	bool addr_known;

	if (!cfg)
		return NF_ACCEPT;
	iph = ip_hdr(skb);
	if (!knat_is_ext_addr(cfg, iph->daddr) || ip_is_fragment(iph))
		return NF_ACCEPT;
	/* From inside to the outside address: not this path's business. */
	if (knat_network_of(cfg, iph->saddr))
		return NF_ACCEPT;

	switch (knat_parse(skb, false, &l4, &in)) {
	case KNAT_PKT_FLOW:
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
			    l4.sport, &addr_known);
	if (!s || READ_ONCE(s->dead)) {
		m = knat_mapping_ext(kn, l4.proto, iph->daddr, l4.dport);
		if (!m || READ_ONCE(m->dead))
			return NF_ACCEPT;	/* the host's own traffic */
		s = knat_in_new(kn, cfg, m, iph->saddr, l4.sport, addr_known);
		if (!s)
			return NF_DROP;
	}

	p = rcu_dereference(s->network->params);
	if (l4.proto == IPPROTO_TCP) {
		knat_tcp_track(s, skb, &l4, false);
		knat_touch(s);
	} else if (l4.proto == IPPROTO_UDP && p->udp_inbound_refresh) {
		knat_touch(s);
	}

	if (knat_rewrite(skb, &l4, false, s->int_addr, s->int_port))
		return knat_drop(s->network->stats, KNAT_CNT_DROP_NOMEM);
	knat_count(s->network->stats, KNAT_CNT_TRANSLATED_IN);
	return NF_ACCEPT;
}

/*
 * An ICMP error the router itself sends about a packet it was forwarding
 * inward, after knat translated it (time exceeded, fragmentation needed
 * toward an internal host): the embedded packet carries the internal
 * destination, which the remote end never knew.  Translate it back.  Runs
 * after conntrack and the filter chains, which see the error as related
 * to the internal flow.  Anything but ICMP leaves at once.
 */
static unsigned int knat_local_out(void *priv, struct sk_buff *skb,
				   const struct nf_hook_state *state)
{
	struct knat_net *kn = knat_pernet(state->net);
	const struct knat_config *cfg = rcu_dereference(kn->config);
	struct knat_session *s;
	struct knat_inner in;
	struct knat_l4 l4;

	if (!cfg || ip_hdr(skb)->protocol != IPPROTO_ICMP ||
	    knat_network_of(cfg, ip_hdr(skb)->daddr))
		return NF_ACCEPT;
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

//! Every NATS subject of the lattice protocol, built in one place (LATTICE.md §1.1, §2.1,
//! §3.1, §4.2), and the parser that maps a control subject to the request it carries.
//!
//! Control subjects take `p` = [`ctl_prefix`]`(ctl_topic_prefix, lattice)`, normally
//! `wasmbus.ctl.default`. Event and RPC prefixes are fixed by the protocol.

use std::fmt;
use std::str::FromStr;

/// Default control topic prefix (`WASMCLOUD_CTL_TOPIC_PREFIX`).
pub const DEFAULT_CTL_TOPIC_PREFIX: &str = "wasmbus.ctl";
/// Default lattice id (`WASMCLOUD_LATTICE_PREFIX`).
pub const DEFAULT_LATTICE: &str = "default";
/// Queue group every capability provider uses on its RPC subject.
pub const PROVIDER_RPC_QUEUE_GROUP: &str = "rpc";

/// `{ctl_topic_prefix}.{lattice}`, e.g. `wasmbus.ctl.default`: the `p` of every
/// control subject below.
pub fn ctl_prefix(ctl_topic_prefix: &str, lattice: &str) -> String {
    format!("{ctl_topic_prefix}.{lattice}")
}

/// `{p}.ping.hosts`: every host replies with its [`HostPing`](crate::ctl::HostPing).
pub fn ping_hosts(p: &str) -> String {
    format!("{p}.ping.hosts")
}

/// `{p}.get.{host}.inv`: inventory of one host.
pub fn host_inventory(p: &str, host: &str) -> String {
    format!("{p}.get.{host}.inv")
}

/// `{p}.get.claims`: claims of every actor and provider in the lattice.
pub fn get_claims(p: &str) -> String {
    format!("{p}.get.claims")
}

/// `{p}.get.links`: every link definition in the lattice.
pub fn get_links(p: &str) -> String {
    format!("{p}.get.links")
}

/// `{p}.get.*`: the subscription (queue group `p`) for `get.claims` and `get.links`.
/// It does not match `get.{host}.inv` (one token more), which each host subscribes to
/// without a queue group.
pub fn get_wildcard(p: &str) -> String {
    format!("{p}.get.*")
}

/// `{p}.linkdefs.put`: advertise a link.
pub fn linkdefs_put(p: &str) -> String {
    format!("{p}.linkdefs.put")
}

/// `{p}.linkdefs.del`: remove a link.
pub fn linkdefs_del(p: &str) -> String {
    format!("{p}.linkdefs.del")
}

/// `{p}.linkdefs.*`: the subscription (queue group `p`) for link puts and deletes.
pub fn linkdefs_wildcard(p: &str) -> String {
    format!("{p}.linkdefs.*")
}

/// `{p}.cmd.{host}.{verb}`: a command aimed at one host. `verb` is a [`CommandVerb`]
/// or its wire string (`"la"`, `"sa"`, ...).
pub fn host_command(p: &str, host: &str, verb: impl AsRef<str>) -> String {
    format!("{p}.cmd.{host}.{}", verb.as_ref())
}

/// `{p}.cmd.{host}.*`: the subscription for every command aimed at `host`.
pub fn host_commands_wildcard(p: &str, host: &str) -> String {
    format!("{p}.cmd.{host}.*")
}

/// `{p}.auction.actor`: hosts whose labels satisfy the constraints answer.
pub fn auction_actor(p: &str) -> String {
    format!("{p}.auction.actor")
}

/// `{p}.auction.provider`: qualifying hosts not already running the provider answer.
pub fn auction_provider(p: &str) -> String {
    format!("{p}.auction.provider")
}

/// `{p}.auction.>`: the subscription for both auctions.
pub fn auction_wildcard(p: &str) -> String {
    format!("{p}.auction.>")
}

/// `{p}.registries.put`: registry credentials, published to every host.
pub fn registries_put(p: &str) -> String {
    format!("{p}.registries.put")
}

/// `wasmbus.evt.{lattice}`: every lifecycle CloudEvent (no per-type suffix in 0.5x).
pub fn events(lattice: &str) -> String {
    format!("wasmbus.evt.{lattice}")
}

/// `wasmbus.rpcevt.{lattice}`: `invocation_succeeded` / `invocation_failed` events.
pub fn rpc_events(lattice: &str) -> String {
    format!("wasmbus.rpcevt.{lattice}")
}

/// `wasmbus.rpc.{lattice}.{actor_pk}`: invocations of an actor; hosts subscribe with the
/// subject itself as queue group.
pub fn actor_rpc(lattice: &str, actor_pk: &str) -> String {
    format!("wasmbus.rpc.{lattice}.{actor_pk}")
}

/// `wasmbus.rpc.{lattice}.{provider_pk}.{link_name}`: invocations of a provider
/// (queue group [`PROVIDER_RPC_QUEUE_GROUP`]).
pub fn provider_rpc(lattice: &str, provider_pk: &str, link_name: &str) -> String {
    format!("wasmbus.rpc.{lattice}.{provider_pk}.{link_name}")
}

/// `wasmbus.rpc.{lattice}.{provider}.{link}.linkdefs.put`: msgpack link pushed to the provider.
pub fn provider_linkdefs_put(lattice: &str, provider: &str, link: &str) -> String {
    format!("{}.linkdefs.put", provider_rpc(lattice, provider, link))
}

/// `wasmbus.rpc.{lattice}.{provider}.{link}.linkdefs.del`: msgpack link removed from the provider.
pub fn provider_linkdefs_del(lattice: &str, provider: &str, link: &str) -> String {
    format!("{}.linkdefs.del", provider_rpc(lattice, provider, link))
}

/// `wasmbus.rpc.{lattice}.{provider}.{link}.health`: health-check request.
pub fn provider_health(lattice: &str, provider: &str, link: &str) -> String {
    format!("{}.health", provider_rpc(lattice, provider, link))
}

/// `wasmbus.rpc.{lattice}.{provider}.{link}.shutdown`: shutdown request (JSON `{"host_id"}`).
pub fn provider_shutdown(lattice: &str, provider: &str, link: &str) -> String {
    format!("{}.shutdown", provider_rpc(lattice, provider, link))
}

/// `wasmbus.cfg.{lattice}.req`: the optional supplemental-configuration request (§8.4).
pub fn config_service(lattice: &str) -> String {
    format!("wasmbus.cfg.{lattice}.req")
}

/// A `cmd.{host}.{verb}` verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CommandVerb {
    /// `la`: launch (start) actor.
    La,
    /// `sa`: stop actor.
    Sa,
    /// `scale`: scale actor to a count.
    Scale,
    /// `lp`: launch provider.
    Lp,
    /// `sp`: stop provider.
    Sp,
    /// `upd`: live-update actor.
    Upd,
    /// `stop`: stop host.
    Stop,
}

impl CommandVerb {
    /// Every verb, in protocol order.
    pub const ALL: [CommandVerb; 7] = [
        CommandVerb::La,
        CommandVerb::Sa,
        CommandVerb::Scale,
        CommandVerb::Lp,
        CommandVerb::Sp,
        CommandVerb::Upd,
        CommandVerb::Stop,
    ];

    /// The wire token (`"la"`, `"sa"`, `"scale"`, `"lp"`, `"sp"`, `"upd"`, `"stop"`).
    pub fn as_str(self) -> &'static str {
        match self {
            CommandVerb::La => "la",
            CommandVerb::Sa => "sa",
            CommandVerb::Scale => "scale",
            CommandVerb::Lp => "lp",
            CommandVerb::Sp => "sp",
            CommandVerb::Upd => "upd",
            CommandVerb::Stop => "stop",
        }
    }

    /// The verb for a wire token; `None` for anything else (case-sensitive, as the host).
    pub fn parse(token: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == token)
    }
}

impl AsRef<str> for CommandVerb {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Display for CommandVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`CommandVerb::from_str`]: the token is not a known verb (quoted with
/// [`quote_input`](crate::quote_input)).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown control command verb '{0}'")]
pub struct UnknownVerb(pub String);

impl FromStr for CommandVerb {
    type Err = UnknownVerb;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s).ok_or_else(|| UnknownVerb(crate::quote_input(s)))
    }
}

/// What a control subject asks for, once its prefix is removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CtlRequestKind {
    /// `ping.hosts`
    PingHosts,
    /// `get.{host}.inv`
    Inventory {
        /// The host id named in the subject (the handler must check it is ours).
        host: String,
    },
    /// `get.claims`
    GetClaims,
    /// `get.links`
    GetLinks,
    /// `linkdefs.put`
    LinkdefsPut,
    /// `linkdefs.del`
    LinkdefsDel,
    /// `cmd.{host}.{verb}`
    Command {
        /// The host id named in the subject.
        host: String,
        /// The command.
        verb: CommandVerb,
    },
    /// `auction.actor`
    AuctionActor,
    /// `auction.provider`
    AuctionProvider,
    /// `registries.put`
    RegistriesPut,
}

/// How [`parse_ctl_subject`] recognises the control prefix of a subject.
///
/// * a `usize`: that many leading tokens are dropped without looking at them, as the
///   OTP host does (it drops exactly 3: `wasmbus`, `ctl`, lattice);
/// * a string (`&str` / `String`): the control prefix `p` itself (e.g.
///   `wasmbus.ctl.default`); the subject must start with it followed by a `.`.
pub trait CtlPrefixTokens {
    /// The rest of `subject` after the prefix, or `None` if the prefix is absent.
    fn strip<'s>(&self, subject: &'s str) -> Option<&'s str>;
}

impl CtlPrefixTokens for usize {
    fn strip<'s>(&self, subject: &'s str) -> Option<&'s str> {
        let mut rest = subject;
        for _ in 0..*self {
            let dot = rest.find('.')?;
            rest = &rest[dot + 1..];
        }
        Some(rest)
    }
}

impl CtlPrefixTokens for &str {
    fn strip<'s>(&self, subject: &'s str) -> Option<&'s str> {
        subject.strip_prefix(*self)?.strip_prefix('.')
    }
}

impl CtlPrefixTokens for String {
    fn strip<'s>(&self, subject: &'s str) -> Option<&'s str> {
        self.as_str().strip(subject)
    }
}

impl CtlPrefixTokens for &String {
    fn strip<'s>(&self, subject: &'s str) -> Option<&'s str> {
        self.as_str().strip(subject)
    }
}

/// Maps a control subject to the request it carries.
///
/// `prefix_tokens` is either the number of leading tokens to drop (3 for
/// `wasmbus.ctl.{lattice}`) or the control prefix string itself (see
/// [`CtlPrefixTokens`]). Returns `None` for subjects the 0.5x host does not handle
/// (it logs them and sends no reply), including unknown command verbs.
pub fn parse_ctl_subject(
    prefix_tokens: impl CtlPrefixTokens,
    subject: &str,
) -> Option<CtlRequestKind> {
    let rest = prefix_tokens.strip(subject)?;
    let tokens: Vec<&str> = rest.split('.').collect();
    let kind = match tokens.as_slice() {
        ["ping", "hosts"] => CtlRequestKind::PingHosts,
        ["get", "claims"] => CtlRequestKind::GetClaims,
        ["get", "links"] => CtlRequestKind::GetLinks,
        ["get", host, "inv"] if !host.is_empty() => CtlRequestKind::Inventory {
            host: (*host).to_string(),
        },
        ["linkdefs", "put"] => CtlRequestKind::LinkdefsPut,
        ["linkdefs", "del"] => CtlRequestKind::LinkdefsDel,
        ["cmd", host, verb] if !host.is_empty() => CtlRequestKind::Command {
            host: (*host).to_string(),
            verb: CommandVerb::parse(verb)?,
        },
        ["auction", "actor"] => CtlRequestKind::AuctionActor,
        ["auction", "provider"] => CtlRequestKind::AuctionProvider,
        ["registries", "put"] => CtlRequestKind::RegistriesPut,
        _ => return None,
    };
    Some(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vectors;

    const P: &str = "wasmbus.ctl.default";

    #[test]
    fn builders_match_the_documented_subjects() {
        assert_eq!(ctl_prefix(DEFAULT_CTL_TOPIC_PREFIX, DEFAULT_LATTICE), P);
        assert_eq!(ping_hosts(P), "wasmbus.ctl.default.ping.hosts");
        assert_eq!(host_inventory(P, "NX"), "wasmbus.ctl.default.get.NX.inv");
        assert_eq!(get_claims(P), "wasmbus.ctl.default.get.claims");
        assert_eq!(get_links(P), "wasmbus.ctl.default.get.links");
        assert_eq!(get_wildcard(P), "wasmbus.ctl.default.get.*");
        assert_eq!(linkdefs_put(P), "wasmbus.ctl.default.linkdefs.put");
        assert_eq!(linkdefs_del(P), "wasmbus.ctl.default.linkdefs.del");
        assert_eq!(linkdefs_wildcard(P), "wasmbus.ctl.default.linkdefs.*");
        assert_eq!(
            host_command(P, "NX", CommandVerb::Scale),
            "wasmbus.ctl.default.cmd.NX.scale"
        );
        assert_eq!(host_command(P, "NX", "la"), "wasmbus.ctl.default.cmd.NX.la");
        assert_eq!(
            host_commands_wildcard(P, "NX"),
            "wasmbus.ctl.default.cmd.NX.*"
        );
        assert_eq!(auction_actor(P), "wasmbus.ctl.default.auction.actor");
        assert_eq!(auction_provider(P), "wasmbus.ctl.default.auction.provider");
        assert_eq!(auction_wildcard(P), "wasmbus.ctl.default.auction.>");
        assert_eq!(registries_put(P), "wasmbus.ctl.default.registries.put");
        assert_eq!(events("default"), "wasmbus.evt.default");
        assert_eq!(rpc_events("default"), "wasmbus.rpcevt.default");
        assert_eq!(
            actor_rpc("default", vectors::MODULE_PK),
            format!("wasmbus.rpc.default.{}", vectors::MODULE_PK)
        );
        assert_eq!(config_service("default"), "wasmbus.cfg.default.req");
    }

    #[test]
    fn provider_subjects_match_the_linkdef_vector() {
        let sidecar = vectors::json("linkdef.msgpack.json");
        let subjects = sidecar["nats_subjects"].as_array().unwrap();
        assert_eq!(
            provider_linkdefs_put("default", vectors::PROVIDER_PK, "default"),
            subjects[0]
        );
        assert_eq!(
            provider_linkdefs_del("default", vectors::PROVIDER_PK, "default"),
            subjects[1]
        );
        let base = format!("wasmbus.rpc.default.{}.default", vectors::PROVIDER_PK);
        assert_eq!(
            provider_rpc("default", vectors::PROVIDER_PK, "default"),
            base
        );
        assert_eq!(
            provider_health("default", vectors::PROVIDER_PK, "default"),
            format!("{base}.health")
        );
        assert_eq!(
            provider_shutdown("default", vectors::PROVIDER_PK, "default"),
            format!("{base}.shutdown")
        );
    }

    #[test]
    fn invocation_subject_matches_the_vector() {
        let sidecar = vectors::json("invocation.json");
        assert_eq!(
            actor_rpc("default", vectors::MODULE_PK),
            sidecar["nats_subject"]
        );
        assert_eq!(
            events("default"),
            vectors::json("event_host_heartbeat.sidecar.json")["nats_subject"]
        );
    }

    /// Every captured control request's subject parses to the request it carried, with
    /// either form of prefix, and rebuilding the subject gives the captured string.
    #[test]
    fn parses_every_captured_ctl_subject() {
        let host = vectors::HOST_PK.to_string();
        let expected: &[(&str, CtlRequestKind)] = &[
            (
                "ctl_start_actor.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::La,
                },
            ),
            (
                "ctl_scale_actor.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::Scale,
                },
            ),
            (
                "ctl_stop_actor.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::Sa,
                },
            ),
            (
                "ctl_start_provider.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::Lp,
                },
            ),
            (
                "ctl_stop_provider.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::Sp,
                },
            ),
            (
                "ctl_update_actor.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::Upd,
                },
            ),
            (
                "ctl_stop_host.json",
                CtlRequestKind::Command {
                    host: host.clone(),
                    verb: CommandVerb::Stop,
                },
            ),
            ("ctl_linkdefs_put.json", CtlRequestKind::LinkdefsPut),
            ("ctl_linkdefs_del.json", CtlRequestKind::LinkdefsDel),
            ("ctl_actor_auction.json", CtlRequestKind::AuctionActor),
            ("ctl_provider_auction.json", CtlRequestKind::AuctionProvider),
            ("ctl_registries_put.json", CtlRequestKind::RegistriesPut),
        ];
        let table = vectors::json("ctl_subjects.json");
        let table = table.as_object().unwrap();
        assert_eq!(
            table.len(),
            expected.len(),
            "every captured subject is covered"
        );
        for (file, kind) in expected {
            let subject = table[*file]["subject"].as_str().unwrap();
            assert_eq!(parse_ctl_subject(3, subject).as_ref(), Some(kind), "{file}");
            assert_eq!(parse_ctl_subject(P, subject).as_ref(), Some(kind), "{file}");
            assert_eq!(
                parse_ctl_subject(P.to_string(), subject).as_ref(),
                Some(kind),
                "{file}"
            );
            let rebuilt = match kind {
                CtlRequestKind::Command { host, verb } => host_command(P, host, verb),
                CtlRequestKind::LinkdefsPut => linkdefs_put(P),
                CtlRequestKind::LinkdefsDel => linkdefs_del(P),
                CtlRequestKind::AuctionActor => auction_actor(P),
                CtlRequestKind::AuctionProvider => auction_provider(P),
                CtlRequestKind::RegistriesPut => registries_put(P),
                other => unreachable!("{other:?}"),
            };
            assert_eq!(rebuilt, subject, "{file}");
        }
    }

    #[test]
    fn parses_the_queries_and_rejects_the_rest() {
        assert_eq!(
            parse_ctl_subject(3, &ping_hosts(P)),
            Some(CtlRequestKind::PingHosts)
        );
        assert_eq!(
            parse_ctl_subject(3, &get_claims(P)),
            Some(CtlRequestKind::GetClaims)
        );
        assert_eq!(
            parse_ctl_subject(3, &get_links(P)),
            Some(CtlRequestKind::GetLinks)
        );
        assert_eq!(
            parse_ctl_subject(P, &host_inventory(P, "NABC")),
            Some(CtlRequestKind::Inventory {
                host: "NABC".into()
            })
        );
        // A custom two-token prefix works with a count of 3, like the OTP host.
        assert_eq!(
            parse_ctl_subject(3, "my.ctl.lat.ping.hosts"),
            Some(CtlRequestKind::PingHosts)
        );
        for bad in [
            "wasmbus.ctl.default",
            "wasmbus.ctl.default.",
            "wasmbus.ctl.default.ping",
            "wasmbus.ctl.default.ping.hosts.extra",
            "wasmbus.ctl.default.cmd.NX.bogus",
            "wasmbus.ctl.default.cmd..la",
            "wasmbus.ctl.default.get..inv",
            "wasmbus.ctl.default.get.things",
            "wasmbus.ctl.default.refmaps.get",
            "",
        ] {
            assert_eq!(parse_ctl_subject(3, bad), None, "{bad}");
            assert_eq!(parse_ctl_subject(P, bad), None, "{bad}");
        }
        // A string prefix must really match.
        assert_eq!(parse_ctl_subject(P, "wasmbus.ctl.other.ping.hosts"), None);
        assert_eq!(
            parse_ctl_subject("wasmbus.ctl.def", "wasmbus.ctl.default.ping.hosts"),
            None
        );
    }

    #[test]
    fn verbs_round_trip() {
        for verb in CommandVerb::ALL {
            assert_eq!(verb.as_str().parse::<CommandVerb>(), Ok(verb));
            assert_eq!(verb.to_string(), verb.as_str());
        }
        assert_eq!("LA".parse::<CommandVerb>(), Err(UnknownVerb("LA".into())));
    }
}

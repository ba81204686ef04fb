//! Control subjects: the parser and the builders it must agree with.

use super::assert_error_bounded;
use wasmhost_protocol::subjects::{self, parse_ctl_subject, CommandVerb, CtlRequestKind};

const PREFIX: &str = "wasmbus.ctl.default";

/// Parses the input as a control subject, with the prefix given as a token count and as
/// a string: both readings agree; a recognised subject rebuilt by the builders parses to
/// the same request. The input split at its first `|` also serves as a host id and a verb
/// for the builders: a host without dots and a known verb always parse back. Unknown
/// verbs give a bounded error.
pub fn subjects(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let by_count = parse_ctl_subject(3usize, text);
    let by_prefix = parse_ctl_subject(PREFIX, text);
    if let Some(kind) = &by_prefix {
        assert_eq!(
            by_count.as_ref(),
            Some(kind),
            "prefix forms disagree on {text:?}"
        );
    }
    if let Some(kind) = by_count {
        let rebuilt = build(&kind);
        assert_eq!(
            parse_ctl_subject(PREFIX, &rebuilt),
            Some(kind.clone()),
            "{rebuilt:?}"
        );
        assert_eq!(
            parse_ctl_subject(3usize, &rebuilt),
            Some(kind),
            "{rebuilt:?}"
        );
    }

    let (host, verb) = text.split_once('|').unwrap_or((text, text));
    match verb.parse::<CommandVerb>() {
        Ok(verb_parsed) => {
            assert_eq!(verb_parsed.as_str(), verb);
            let subject = subjects::host_command(PREFIX, host, verb_parsed);
            let expected =
                (!host.is_empty() && !host.contains('.')).then(|| CtlRequestKind::Command {
                    host: host.to_string(),
                    verb: verb_parsed,
                });
            assert_eq!(parse_ctl_subject(PREFIX, &subject), expected, "{subject:?}");
        }
        Err(err) => assert_error_bounded("CommandVerb", &err, &[data]),
    }
    if !host.is_empty() && !host.contains('.') {
        let subject = subjects::host_inventory(PREFIX, host);
        let expected = CtlRequestKind::Inventory {
            host: host.to_string(),
        };
        assert_eq!(
            parse_ctl_subject(PREFIX, &subject),
            Some(expected),
            "{subject:?}"
        );
    }
}

/// The subject the builders make for `kind` under [`PREFIX`].
fn build(kind: &CtlRequestKind) -> String {
    let p = PREFIX;
    match kind {
        CtlRequestKind::PingHosts => subjects::ping_hosts(p),
        CtlRequestKind::Inventory { host } => subjects::host_inventory(p, host),
        CtlRequestKind::GetClaims => subjects::get_claims(p),
        CtlRequestKind::GetLinks => subjects::get_links(p),
        CtlRequestKind::LinkdefsPut => subjects::linkdefs_put(p),
        CtlRequestKind::LinkdefsDel => subjects::linkdefs_del(p),
        CtlRequestKind::Command { host, verb } => subjects::host_command(p, host, verb),
        CtlRequestKind::AuctionActor => subjects::auction_actor(p),
        CtlRequestKind::AuctionProvider => subjects::auction_provider(p),
        CtlRequestKind::RegistriesPut => subjects::registries_put(p),
    }
}

//! Builds every control request (subject + JSON body) from the protocol crate's types.
//!
//! Pure functions, so the bytes can be compared with what the 2022 client sent
//! (`protocol/tests/vectors/ctl_*.json`).

use wasmhost::protocol::ctl::{
    self, ActorAuctionRequest, ProviderAuctionRequest, ScaleActorCommand, StartActorCommand,
    StartProviderCommand, StopActorCommand, StopHostCommand, StopProviderCommand, StringMap,
    UpdateActorCommand,
};
use wasmhost::protocol::subjects::{self, CommandVerb};
use wasmhost::protocol::LinkDefinition;

/// A request ready to send: where to and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtlRequest {
    /// Full NATS subject.
    pub subject: String,
    /// JSON body (empty for queries).
    pub body: Vec<u8>,
}

/// Builds requests for one lattice.
#[derive(Debug, Clone)]
pub struct RequestBuilder {
    prefix: String,
}

/// Annotations as the client sends them: `None` (key omitted) when there are none.
fn optional(map: StringMap) -> Option<StringMap> {
    (!map.is_empty()).then_some(map)
}

impl RequestBuilder {
    /// Requests for `{ctl_topic_prefix}.{lattice}`.
    pub fn new(ctl_topic_prefix: &str, lattice: &str) -> Self {
        RequestBuilder {
            prefix: subjects::ctl_prefix(ctl_topic_prefix, lattice),
        }
    }

    fn query(subject: String) -> CtlRequest {
        CtlRequest {
            subject,
            body: Vec::new(),
        }
    }

    fn command<T: serde::Serialize>(&self, host: &str, verb: CommandVerb, body: &T) -> CtlRequest {
        CtlRequest {
            subject: subjects::host_command(&self.prefix, host, verb),
            body: ctl::to_json(body),
        }
    }

    /// `ping.hosts` (scatter/gather).
    pub fn ping_hosts(&self) -> CtlRequest {
        Self::query(subjects::ping_hosts(&self.prefix))
    }

    /// `get.{host}.inv`.
    pub fn inventory(&self, host: &str) -> CtlRequest {
        Self::query(subjects::host_inventory(&self.prefix, host))
    }

    /// `get.claims`.
    pub fn claims(&self) -> CtlRequest {
        Self::query(subjects::get_claims(&self.prefix))
    }

    /// `get.links`.
    pub fn links(&self) -> CtlRequest {
        Self::query(subjects::get_links(&self.prefix))
    }

    /// `auction.actor` (scatter/gather).
    pub fn actor_auction(&self, actor_ref: &str, constraints: StringMap) -> CtlRequest {
        let body = ActorAuctionRequest {
            actor_ref: actor_ref.to_string(),
            constraints,
        };
        CtlRequest {
            subject: subjects::auction_actor(&self.prefix),
            body: ctl::to_json(&body),
        }
    }

    /// `auction.provider` (scatter/gather).
    pub fn provider_auction(
        &self,
        provider_ref: &str,
        link_name: &str,
        constraints: StringMap,
    ) -> CtlRequest {
        let body = ProviderAuctionRequest {
            constraints,
            link_name: link_name.to_string(),
            provider_ref: provider_ref.to_string(),
        };
        CtlRequest {
            subject: subjects::auction_provider(&self.prefix),
            body: ctl::to_json(&body),
        }
    }

    /// `cmd.{host}.la`.
    pub fn start_actor(
        &self,
        host: &str,
        actor_ref: &str,
        count: u16,
        annotations: StringMap,
    ) -> CtlRequest {
        let body = StartActorCommand {
            actor_ref: actor_ref.to_string(),
            annotations: optional(annotations),
            count,
            host_id: host.to_string(),
        };
        self.command(host, CommandVerb::La, &body)
    }

    /// `cmd.{host}.scale`.
    pub fn scale_actor(
        &self,
        host: &str,
        actor_id: &str,
        actor_ref: &str,
        count: u16,
        annotations: StringMap,
    ) -> CtlRequest {
        let body = ScaleActorCommand {
            actor_id: actor_id.to_string(),
            actor_ref: actor_ref.to_string(),
            annotations: optional(annotations),
            count,
            host_id: host.to_string(),
        };
        self.command(host, CommandVerb::Scale, &body)
    }

    /// `cmd.{host}.sa`; `count` 0 stops every instance.
    pub fn stop_actor(
        &self,
        host: &str,
        actor_id: &str,
        count: u16,
        annotations: StringMap,
    ) -> CtlRequest {
        let body = StopActorCommand {
            actor_ref: actor_id.to_string(),
            annotations: optional(annotations),
            count,
            host_id: host.to_string(),
        };
        self.command(host, CommandVerb::Sa, &body)
    }

    /// `cmd.{host}.upd`.
    pub fn update_actor(
        &self,
        host: &str,
        actor_id: &str,
        new_actor_ref: &str,
        annotations: StringMap,
    ) -> CtlRequest {
        let body = UpdateActorCommand {
            actor_id: actor_id.to_string(),
            annotations: optional(annotations),
            host_id: host.to_string(),
            new_actor_ref: new_actor_ref.to_string(),
        };
        self.command(host, CommandVerb::Upd, &body)
    }

    /// `cmd.{host}.lp`; `configuration` is passed to the provider unchanged.
    pub fn start_provider(
        &self,
        host: &str,
        provider_ref: &str,
        link_name: &str,
        annotations: StringMap,
        configuration: Option<String>,
    ) -> CtlRequest {
        let body = StartProviderCommand {
            annotations: optional(annotations),
            configuration,
            host_id: host.to_string(),
            link_name: link_name.to_string(),
            provider_ref: provider_ref.to_string(),
        };
        self.command(host, CommandVerb::Lp, &body)
    }

    /// `cmd.{host}.sp`.
    pub fn stop_provider(
        &self,
        host: &str,
        provider_id: &str,
        link_name: &str,
        contract_id: &str,
    ) -> CtlRequest {
        let body = StopProviderCommand {
            annotations: None,
            contract_id: contract_id.to_string(),
            host_id: host.to_string(),
            link_name: link_name.to_string(),
            provider_ref: provider_id.to_string(),
        };
        self.command(host, CommandVerb::Sp, &body)
    }

    /// `cmd.{host}.stop`.
    pub fn stop_host(&self, host: &str, timeout_ms: Option<u64>) -> CtlRequest {
        let body = StopHostCommand {
            host_id: host.to_string(),
            timeout: timeout_ms,
        };
        self.command(host, CommandVerb::Stop, &body)
    }

    /// `linkdefs.put`.
    pub fn link_put(&self, link: &LinkDefinition) -> CtlRequest {
        CtlRequest {
            subject: subjects::linkdefs_put(&self.prefix),
            body: link.to_json(),
        }
    }

    /// `linkdefs.del`: like the 2022 client, a full link definition with an empty
    /// provider id and no values.
    pub fn link_del(&self, actor_id: &str, contract_id: &str, link_name: &str) -> CtlRequest {
        let link = LinkDefinition {
            actor_id: actor_id.to_string(),
            contract_id: contract_id.to_string(),
            link_name: link_name.to_string(),
            ..Default::default()
        };
        CtlRequest {
            subject: subjects::linkdefs_del(&self.prefix),
            body: link.to_json(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: &str = "NDRXEHLF3QKEWHCGCO7MKGA3ZIPEUTDMJ2E5R3GPJDVCDX3UXD2XSHBH";
    const ACTOR: &str = "MB3YFG3MKA2INWK3R7UZ5J4VKRCLQREI42ASDYNV3JAVJPKZGQYXJJBJ";
    const PROVIDER: &str = "VD4JAQI6QCBMSDPBDHVMBCURPGK6CSYMXIQVTQ32UGJ3FAG4S2OOP6UI";
    const ACTOR_REF: &str = "registry.example.com/vectors/actor:0.1.0";
    const PROVIDER_REF: &str = "registry.example.com/vectors/provider:0.1.0";

    fn vector(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/../protocol/tests/vectors/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read vector {path}: {e}"))
    }

    /// The subject the 2022 client published the vector on.
    fn vector_subject(name: &str) -> String {
        let table: serde_json::Value =
            serde_json::from_slice(&vector("ctl_subjects.json")).unwrap();
        table[name]["subject"].as_str().unwrap().to_string()
    }

    fn one(key: &str, value: &str) -> StringMap {
        [(key.to_string(), value.to_string())].into()
    }

    /// Our request is byte-identical to the captured one, on the same subject.
    fn assert_matches(request: CtlRequest, name: &str) {
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            String::from_utf8(vector(name)).unwrap(),
            "{name}"
        );
        assert_eq!(request.subject, vector_subject(name), "{name}");
    }

    #[test]
    fn commands_match_the_2022_client_byte_for_byte() {
        let b = RequestBuilder::new("wasmbus.ctl", "default");
        assert_matches(
            b.start_actor(HOST, ACTOR_REF, 1, one("vectors", "start")),
            "ctl_start_actor.json",
        );
        assert_matches(
            b.scale_actor(HOST, ACTOR, ACTOR_REF, 3, one("vectors", "scale")),
            "ctl_scale_actor.json",
        );
        assert_matches(
            b.stop_actor(HOST, ACTOR, 1, StringMap::new()),
            "ctl_stop_actor.json",
        );
        assert_matches(
            b.update_actor(
                HOST,
                ACTOR,
                "registry.example.com/vectors/actor:0.1.1",
                StringMap::new(),
            ),
            "ctl_update_actor.json",
        );
        assert_matches(
            b.start_provider(
                HOST,
                PROVIDER_REF,
                "default",
                one("vectors", "provider"),
                Some("eyJ2ZWN0b3JzIjp0cnVlfQ==".into()),
            ),
            "ctl_start_provider.json",
        );
        assert_matches(
            b.stop_provider(HOST, PROVIDER, "default", "wasmcloud:testing"),
            "ctl_stop_provider.json",
        );
        assert_matches(b.stop_host(HOST, Some(5000)), "ctl_stop_host.json");
    }

    #[test]
    fn links_and_auctions_match_the_2022_client_byte_for_byte() {
        let b = RequestBuilder::new("wasmbus.ctl", "default");
        let link = LinkDefinition {
            actor_id: ACTOR.into(),
            provider_id: PROVIDER.into(),
            link_name: "default".into(),
            contract_id: "wasmcloud:keyvalue".into(),
            values: one("URL", "redis://127.0.0.1:6379/"),
        };
        assert_matches(b.link_put(&link), "ctl_linkdefs_put.json");
        assert_matches(
            b.link_del(ACTOR, "wasmcloud:keyvalue", "default"),
            "ctl_linkdefs_del.json",
        );
        assert_matches(
            b.actor_auction(ACTOR_REF, one("hostcore.os", "linux")),
            "ctl_actor_auction.json",
        );
        assert_matches(
            b.provider_auction(PROVIDER_REF, "default", one("hostcore.os", "linux")),
            "ctl_provider_auction.json",
        );
    }

    #[test]
    fn queries_have_empty_bodies_on_the_documented_subjects() {
        let b = RequestBuilder::new("wasmbus.ctl", "prod");
        assert_eq!(
            b.ping_hosts(),
            CtlRequest {
                subject: "wasmbus.ctl.prod.ping.hosts".into(),
                body: vec![]
            }
        );
        assert_eq!(
            b.inventory(HOST).subject,
            format!("wasmbus.ctl.prod.get.{HOST}.inv")
        );
        assert_eq!(b.claims().subject, "wasmbus.ctl.prod.get.claims");
        assert_eq!(b.links().subject, "wasmbus.ctl.prod.get.links");
        assert!(b.claims().body.is_empty() && b.links().body.is_empty());
    }

    #[test]
    fn stop_all_instances_sends_count_zero_and_no_annotations_key() {
        let b = RequestBuilder::new("wasmbus.ctl", "default");
        let request = b.stop_actor(HOST, ACTOR, 0, StringMap::new());
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            format!(r#"{{"actor_ref":"{ACTOR}","count":0,"host_id":"{HOST}"}}"#)
        );
    }
}

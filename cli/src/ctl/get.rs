//! `ctl get hosts|inventory|claims|links`.

use super::client::CtlClient;
use super::output::{pairs, table, Output};
use clap::Subcommand;
use wasmhost::protocol::ctl::{GetClaimsResponse, HostInventory, HostPing, LinkDefinitionList};

#[derive(Subcommand)]
pub enum GetCommand {
    /// Every host that answers `ping.hosts` within the timeout.
    Hosts,
    /// Actors and providers running on one host.
    Inventory {
        /// Host id (N...).
        host: String,
    },
    /// Claims of every actor and provider the lattice knows.
    Claims,
    /// Every link definition of the lattice.
    Links,
}

pub async fn run(client: &CtlClient, out: &Output, cmd: GetCommand) -> Result<(), String> {
    match cmd {
        GetCommand::Hosts => {
            let hosts = discover_hosts(client).await?;
            out.result(&hosts, || hosts_table(&hosts));
        }
        GetCommand::Inventory { host } => {
            let inventory: HostInventory = client.request(client.requests.inventory(&host)).await?;
            out.result(&inventory, || inventory_table(&inventory));
        }
        GetCommand::Claims => {
            let claims: GetClaimsResponse = client.request(client.requests.claims()).await?;
            out.result(&claims, || claims_table(&claims));
        }
        GetCommand::Links => {
            let links: LinkDefinitionList = client.request(client.requests.links()).await?;
            out.result(&links, || links_table(&links));
        }
    }
    Ok(())
}

/// Pings the lattice; an empty lattice is an error, so scripts can wait for a host.
pub async fn discover_hosts(client: &CtlClient) -> Result<Vec<HostPing>, String> {
    let mut hosts: Vec<HostPing> = client.gather(client.requests.ping_hosts()).await?;
    if hosts.is_empty() {
        return Err(format!(
            "no host answered ping.hosts in lattice '{}' within {} ms",
            client.lattice(),
            client.timeout().as_millis()
        ));
    }
    hosts.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(hosts)
}

fn hosts_table(hosts: &[HostPing]) -> String {
    let rows: Vec<Vec<String>> = hosts
        .iter()
        .map(|h| {
            vec![
                h.id.clone(),
                h.friendly_name.clone(),
                h.uptime_human.clone(),
                pairs(&h.labels),
            ]
        })
        .collect();
    table(&["HOST ID", "NAME", "UPTIME", "LABELS"], &rows)
}

fn inventory_table(inv: &HostInventory) -> String {
    let mut sections = vec![format!(
        "Host {} ({})\nLabels: {}",
        inv.host_id,
        inv.friendly_name,
        pairs(&inv.labels)
    )];
    let actors: Vec<Vec<String>> = inv
        .actors
        .iter()
        .map(|a| {
            vec![
                a.id.clone(),
                a.name.clone().unwrap_or_else(|| "-".into()),
                a.image_ref.clone().unwrap_or_else(|| "-".into()),
                a.instances.len().to_string(),
            ]
        })
        .collect();
    sections.push(if actors.is_empty() {
        "No actors.".to_string()
    } else {
        table(&["ACTOR ID", "NAME", "IMAGE REF", "INSTANCES"], &actors)
    });
    let providers: Vec<Vec<String>> = inv
        .providers
        .iter()
        .map(|p| {
            vec![
                p.id.clone(),
                p.link_name.clone(),
                p.name.clone().unwrap_or_else(|| "-".into()),
                p.image_ref.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    sections.push(if providers.is_empty() {
        "No providers.".to_string()
    } else {
        table(
            &["PROVIDER ID", "LINK NAME", "NAME", "IMAGE REF"],
            &providers,
        )
    });
    sections.join("\n\n")
}

fn claims_table(claims: &GetClaimsResponse) -> String {
    let field = |m: &std::collections::HashMap<String, String>, k: &str| {
        m.get(k).cloned().unwrap_or_default()
    };
    let mut rows: Vec<Vec<String>> = claims
        .claims
        .iter()
        .map(|c| {
            vec![
                field(c, "sub"),
                field(c, "name"),
                field(c, "iss"),
                field(c, "rev"),
                field(c, "caps"),
            ]
        })
        .collect();
    rows.sort();
    table(&["SUBJECT", "NAME", "ISSUER", "REV", "CAPABILITIES"], &rows)
}

fn links_table(links: &LinkDefinitionList) -> String {
    let mut rows: Vec<Vec<String>> = links
        .links
        .iter()
        .map(|l| {
            vec![
                l.actor_id.clone(),
                l.provider_id.clone(),
                l.contract_id.clone(),
                l.link_name.clone(),
                pairs(&l.values),
            ]
        })
        .collect();
    rows.sort();
    table(
        &[
            "ACTOR ID",
            "PROVIDER ID",
            "CONTRACT ID",
            "LINK NAME",
            "VALUES",
        ],
        &rows,
    )
}

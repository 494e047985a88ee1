//! `edgeops models ...`: the registry's versions, stages and gates, as NATS requests to its
//! micro service. Tables by default, the registry's own JSON with `--json`.

mod output;

use anyhow::anyhow;
use edgeops_contracts::training::Scope;
use edgeops_registry_api::ProdQuery;
use edgeops_registry_api::Stage;
use edgeops_registry_api::{ArchiveRequest, PromoteRequest, codes};
use edgeops_registry_api::{ClientError, RegistryClient};

use super::{HubArgs, print_json};

#[derive(Debug, clap::Args)]
pub struct ModelsArgs {
    #[command(flatten)]
    pub hub: HubArgs,
    /// Print the registry's answer as JSON instead of a table.
    #[arg(long, global = true)]
    pub json: bool,
    /// What to show; bare `edgeops models` lists the models.
    #[command(subcommand)]
    pub command: Option<ModelsCommand>,
}

// Version numbers are `number` in the code: `version` would clash with `--version`.

/// Where `promote` may send a version.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum Target {
    Staging,
    Prod,
}

#[derive(Debug, clap::Subcommand)]
pub enum ModelsCommand {
    /// Every model: how many versions, and which one serves each scope (the default).
    List,
    /// A model's versions, newest first: stage, RMSE against persistence, signature.
    Versions { model: String },
    /// One version: metrics against persistence, lineage, stage history, refused promotions.
    Show {
        model: String,
        #[arg(value_name = "VERSION")]
        number: u32,
    },
    /// The version serving a scope in prod (the one training compares new models with).
    Prod {
        model: String,
        /// `site:<site>` or `device:<site>:<device>`.
        #[arg(long, value_parser = |s: &str| Scope::parse(s).map_err(|e| e.to_string()))]
        scope: Scope,
    },
    /// Promote a version to staging or prod, through the promotion gates.
    Promote {
        model: String,
        #[arg(value_name = "VERSION")]
        number: u32,
        #[arg(long, value_enum)]
        to: Target,
        /// Who asks (recorded with the change).
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
    },
    /// Withdraw a version for good; the previous prod version of its scope serves again.
    Archive {
        model: String,
        #[arg(value_name = "VERSION")]
        number: u32,
        /// Why (recorded with the change).
        #[arg(long)]
        reason: String,
        #[arg(long, env = "USER", default_value = "operator")]
        actor: String,
    },
    /// A version's signed manifest, as JSON (what gateways verify before loading the model).
    Manifest {
        model: String,
        #[arg(value_name = "VERSION")]
        number: u32,
    },
}

/// The registry's refusal in words an operator can act on.
fn explain(err: ClientError) -> anyhow::Error {
    let ClientError::Refused { code, message } = &err else {
        return match err {
            ClientError::Request { .. } => {
                anyhow!(
                    "{err}\n(is the registry running? `edgeops-registry` serves these requests)"
                )
            }
            other => other.into(),
        };
    };
    match *code {
        codes::NOT_FOUND => anyhow!("not found: {message}"),
        codes::CONFLICT => anyhow!(
            "conflict: {message}\nlook at the version again (`edgeops models show`) and retry if the change still makes sense"
        ),
        codes::GATE_REFUSED => {
            anyhow!("{message}\n(`edgeops models show` lists it in the version's history)")
        }
        codes::BAD_REQUEST => anyhow!("bad request: {message}"),
        _ => anyhow!("the registry failed ({code}): {message}"),
    }
}

pub async fn run(args: ModelsArgs) -> anyhow::Result<()> {
    let client = RegistryClient::new(args.hub.jetstream().await?.client());
    let json = args.json;
    match args.command.unwrap_or(ModelsCommand::List) {
        ModelsCommand::List => {
            let models = client.models().await.map_err(explain)?;
            if json {
                return print_json(&models);
            }
            print!("{}", output::models(&models));
        }
        ModelsCommand::Versions { model } => {
            let versions = client.versions(&model).await.map_err(explain)?;
            if json {
                return print_json(&versions);
            }
            print!("{}", output::versions(&versions));
        }
        ModelsCommand::Show { model, number } => {
            let detail = client.version(&model, number).await.map_err(explain)?;
            if json {
                return print_json(&detail);
            }
            print!("{}", output::detail(&detail));
        }
        ModelsCommand::Prod { model, scope } => {
            let key = scope.key();
            let reply = client
                .prod(&ProdQuery {
                    model: model.clone(),
                    scope,
                })
                .await
                .map_err(explain)?;
            if json {
                return print_json(&reply);
            }
            match reply.prod {
                Some(prod) => println!(
                    "{model} v{} serves {key} in prod ({}/{}, sha256 {})",
                    prod.version,
                    prod.artifact.bucket,
                    prod.artifact.artifact.object_name,
                    prod.artifact.artifact.sha256
                ),
                None => println!("no version of {model} is in prod for {key}"),
            }
        }
        ModelsCommand::Promote {
            model,
            number,
            to,
            actor,
        } => {
            let to = match to {
                Target::Staging => Stage::Staging,
                Target::Prod => Stage::Prod,
            };
            let request = PromoteRequest {
                model,
                version: number,
                to,
                actor,
            };
            let reply = client.promote(&request).await.map_err(explain)?;
            if json {
                return print_json(&reply);
            }
            println!(
                "{}/v{} is now in {}: {}",
                reply.model, reply.version, reply.stage, reply.reason
            );
        }
        ModelsCommand::Archive {
            model,
            number,
            reason,
            actor,
        } => {
            let request = ArchiveRequest {
                model,
                version: number,
                actor,
                reason,
            };
            let reply = client.archive(&request).await.map_err(explain)?;
            if json {
                return print_json(&reply);
            }
            println!(
                "{}/v{} is archived: {}",
                reply.model, reply.version, reply.reason
            );
        }
        ModelsCommand::Manifest { model, number } => {
            print_json(&client.manifest(&model, number).await.map_err(explain)?)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;

    /// `edgeops` as main.rs declares it, reduced to this command.
    #[derive(Parser)]
    #[command(version, propagate_version = true)]
    struct Cli {
        #[command(subcommand)]
        command: Top,
    }

    #[derive(clap::Subcommand)]
    enum Top {
        Models(ModelsArgs),
    }

    #[test]
    fn the_command_line_is_well_formed_and_parses_what_the_docs_show() {
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from([
            "edgeops", "models", "promote", "co2-room", "3", "--to", "prod", "--actor", "ana",
            "--json",
        ])
        .unwrap();
        let Top::Models(args) = cli.command;
        assert!(args.json);
        assert!(matches!(
            args.command,
            Some(ModelsCommand::Promote { number: 3, to: Target::Prod, ref actor, .. }) if actor == "ana"
        ));
        let cli = Cli::try_parse_from([
            "edgeops", "models", "prod", "co2-room", "--scope", "site:s1",
        ])
        .unwrap();
        let Top::Models(args) = cli.command;
        assert!(
            matches!(args.command, Some(ModelsCommand::Prod { ref scope, .. }) if scope.key() == "site:s1")
        );
    }

    #[test]
    fn bare_models_lists_the_models() {
        for argv in [
            &["edgeops", "models"][..],
            &["edgeops", "models", "--json"],
            &["edgeops", "models", "list"],
        ] {
            let cli = Cli::try_parse_from(argv).unwrap();
            let Top::Models(args) = cli.command;
            assert!(
                matches!(
                    args.command.unwrap_or(ModelsCommand::List),
                    ModelsCommand::List
                ),
                "{argv:?}"
            );
        }
    }

    #[test]
    fn refusals_read_as_what_to_do() {
        let refused = |code| ClientError::Refused {
            code,
            message: "co2-room/v3: why".into(),
        };
        assert!(
            explain(refused(codes::CONFLICT))
                .to_string()
                .starts_with("conflict: co2-room/v3")
        );
        assert!(
            explain(refused(codes::GATE_REFUSED))
                .to_string()
                .contains("history")
        );
        assert!(
            explain(refused(codes::NOT_FOUND))
                .to_string()
                .starts_with("not found")
        );
    }
}

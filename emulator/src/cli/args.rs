//! The command line's flags, as clap parses them, and the fault configuration the knob flags
//! describe.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::error::RunError;
use crate::faults::{ErrorFault, FaultConfig, Latency, MethodScope, Throttle, Trigger};
use crate::products;
use crate::settings::Settings;
use crate::store::Durability;

/// The command line: one of the commands, with its flags. Parse it with [`clap::Parser`] and
/// hand it to [`run`](super::run).
#[derive(Debug, Parser)]
// `about` is the package description; `long_about = None` keeps this comment out of `--help`.
#[command(version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub(super) command: Command,
}

#[derive(Debug, Subcommand)]
pub(super) enum Command {
    /// Serve the emulated service until Ctrl+C or SIGTERM.
    Serve(ServeArgs),
    /// List the users of every tenant, with their roles.
    Users(UsersArgs),
    /// Print an access token for a user (the last line of stdout).
    Token(TokenArgs),
    /// Add generated products to a tenant (as `POST /admin/tenants/{tenant}/products` does);
    /// prints the JSON answer.
    AddProducts(AddProductsArgs),
    /// Delete the state (database and signing key); the next start seeds afresh.
    Reset(DataArgs),
    /// Register an app for app-only sign-in (consented in its home tenant); prints its app id as
    /// the last line of stdout, or the app as JSON with --json.
    AddApp(AddAppArgs),
    /// Consent a tenant to an app (its home tenant, or any for a multi-tenant app).
    ConsentApp(ConsentAppArgs),
    /// Print a federated token of the emulator's own issuer (as GitHub Actions or Kubernetes
    /// hand out), for federated credentials; the last line of stdout.
    MintFederated(MintFederatedArgs),
    /// List the delegated admin relationships (GDAP) between partners and customers, as JSON.
    Relationships(RelationshipsArgs),
    /// Add a delegated admin relationship: a partner's roles in a customer tenant; prints its id
    /// as the last line of stdout, or the relationship as JSON with --json.
    AddRelationship(AddRelationshipArgs),
    /// Change a relationship's roles, users or expiry; prints it as JSON.
    ChangeRelationship(ChangeRelationshipArgs),
    /// End a relationship now (its users lose the roles at their next call); prints it as JSON.
    ExpireRelationship(RelationshipIdArgs),
    /// Remove a relationship.
    RemoveRelationship(RelationshipIdArgs),
}

#[derive(Debug, clap::Args)]
pub(super) struct RelationshipsArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// Only this partner's: its id, domain or name.
    #[arg(long)]
    pub(super) partner: Option<String>,
    /// Only this customer's: its id, domain or name.
    #[arg(long)]
    pub(super) customer: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct AddRelationshipArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The partner tenant: its id, domain or name.
    #[arg(long)]
    pub(super) partner: String,
    /// The customer tenant: its id, domain or name.
    #[arg(long)]
    pub(super) customer: String,
    /// A role granted: Global Administrator, Billing Administrator or Global Reader (repeat
    /// for several).
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub(super) roles: Vec<String>,
    /// A partner user who holds the roles, by UPN (repeat for several; every partner user when
    /// absent).
    #[arg(long = "user", value_name = "UPN")]
    pub(super) users: Vec<String>,
    /// When it ends: an RFC 3339 time or +N for N days from now (default +730).
    #[arg(long, value_name = "WHEN")]
    pub(super) expires: Option<String>,
    /// The relationship id; a new GUID when absent.
    #[arg(long)]
    pub(super) id: Option<String>,
    /// Its name (default "<partner> - <customer>").
    #[arg(long)]
    pub(super) name: Option<String>,
    /// Print the relationship as JSON instead of its id.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct ChangeRelationshipArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The relationship id.
    #[arg(long)]
    pub(super) id: String,
    /// A role granted, replacing the current ones (repeat for several).
    #[arg(long = "role", value_name = "ROLE")]
    pub(super) roles: Vec<String>,
    /// A partner user who holds the roles, replacing the current ones (repeat for several).
    #[arg(long = "user", value_name = "UPN")]
    pub(super) users: Vec<String>,
    /// When it ends: an RFC 3339 time (a past one expires it) or +N for N days from now.
    #[arg(long, value_name = "WHEN")]
    pub(super) expires: Option<String>,
}

#[derive(Debug, clap::Args)]
pub(super) struct RelationshipIdArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The relationship id.
    #[arg(long)]
    pub(super) id: String,
}

#[derive(Debug, clap::Args)]
pub(super) struct AddAppArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The display name.
    #[arg(long)]
    pub(super) name: String,
    /// An application permission to grant: Policy.Read.AllowSelfServicePurchase or
    /// Policy.ReadWrite.AllowSelfServicePurchase (repeat for both; none for an app the service
    /// refuses).
    #[arg(long = "roles", value_name = "PERMISSION")]
    pub(super) roles: Vec<String>,
    /// The home tenant: its id, domain or name (default contoso).
    #[arg(long)]
    pub(super) tenant: Option<String>,
    /// The app id (a GUID); a new one when absent.
    #[arg(long, value_name = "GUID")]
    pub(super) app_id: Option<String>,
    /// Other tenants may consent to the app (consent-app).
    #[arg(long)]
    pub(super) multi_tenant: bool,
    /// A client secret (at least 8 characters); repeat for several.
    #[arg(long = "secret", value_name = "SECRET")]
    pub(super) secrets: Vec<String>,
    /// A PEM certificate file whose RSA key signs the app's client assertions; repeat for
    /// several.
    #[arg(long = "certificate", value_name = "PEM_FILE")]
    pub(super) certificates: Vec<PathBuf>,
    /// The issuer of a federated credential (default: the emulator's own,
    /// https://login.emulator.local/federation).
    #[arg(long, value_name = "ISSUER", requires = "federated_subject")]
    pub(super) federated_issuer: Option<String>,
    /// The subject of a federated credential.
    #[arg(long, value_name = "SUBJECT")]
    pub(super) federated_subject: Option<String>,
    /// The audience of a federated credential (default api://AzureADTokenExchange).
    #[arg(long, value_name = "AUDIENCE", requires = "federated_subject")]
    pub(super) federated_audience: Option<String>,
    /// Make the app a managed identity: system (one per data directory) or user.
    #[arg(long, value_name = "KIND")]
    pub(super) managed_identity: Option<String>,
    /// Print the app as JSON (never its secrets) instead of its id.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct ConsentAppArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The app id.
    #[arg(long, value_name = "GUID")]
    pub(super) app: String,
    /// The tenant that consents: its id, domain or name.
    #[arg(long)]
    pub(super) tenant: String,
}

#[derive(Debug, clap::Args)]
pub(super) struct MintFederatedArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The subject (sub) the token names.
    #[arg(long)]
    pub(super) subject: String,
    /// The audience (aud).
    #[arg(long, default_value = crate::tokens::FEDERATED_AUDIENCE)]
    pub(super) audience: String,
    /// The token lifetime; a negative value gives a token that expired that long ago.
    #[arg(
        long,
        value_name = "SECONDS",
        allow_negative_numbers = true,
        default_value_t = 600
    )]
    pub(super) lifetime_seconds: i64,
}

#[derive(Debug, clap::Args)]
pub(super) struct AddProductsArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The tenant: its id, domain or name.
    #[arg(long)]
    pub(super) tenant: String,
    /// How many products to generate (1 to 20000).
    #[arg(long)]
    pub(super) count: usize,
    /// The number of the first product.
    #[arg(long, default_value_t = 1)]
    pub(super) start: u32,
    /// The start of the ids (`{prefix}{n:04}`).
    #[arg(long, default_value = products::DEFAULT_PREFIX)]
    pub(super) prefix: String,
    /// The start of the names (`{name-prefix} {n:04}`).
    #[arg(long, default_value = products::DEFAULT_NAME_PREFIX)]
    pub(super) name_prefix: String,
    /// The products' value of every policy.
    #[arg(long, default_value = "Enabled")]
    pub(super) policy_value: String,
    /// The products offer a trial without a payment method.
    #[arg(long)]
    pub(super) trial_without_payment_method: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct DataArgs {
    /// The directory that holds the database, created when missing.
    #[arg(long, value_name = "DIR")]
    pub(super) data: PathBuf,
}

#[derive(Debug, clap::Args)]
pub(super) struct ServeArgs {
    /// The address to listen on.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    pub(super) host: IpAddr,
    /// The port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    pub(super) port: u16,
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The lifetime of the access and ID tokens the authority issues.
    #[arg(long, value_name = "SECONDS", default_value_t = Settings::default().token_lifetime_s)]
    pub(super) token_lifetime_seconds: u32,
    /// The polling interval the device code flow asks for.
    #[arg(long, value_name = "SECONDS", default_value_t = Settings::default().device_code_interval_s)]
    pub(super) device_code_interval_seconds: u32,
    /// The lifetime of a device code.
    #[arg(long, value_name = "SECONDS", default_value_t = Settings::default().device_code_lifetime_s)]
    pub(super) device_code_lifetime_seconds: u32,
    /// The lifetime of app-only tokens (client credentials, managed identities); the access
    /// token lifetime when absent.
    #[arg(long, value_name = "SECONDS")]
    pub(super) app_token_lifetime_seconds: Option<u32>,
    /// The secret the managed identity endpoint (/msi/token) wants in X-IDENTITY-HEADER; a random
    /// one when absent (GET /admin/identity shows it).
    #[arg(long, value_name = "SECRET")]
    pub(super) identity_header: Option<String>,
    /// Serve HTTPS with a self-signed certificate for localhost, kept in the data directory.
    #[arg(long)]
    pub(super) tls: bool,
    /// full: every change is fsynced before it is answered (about 1,300 writes a second on a
    /// 2-core VM with an ordinary disk); relaxed: no fsync per change (survives the process
    /// being killed, maybe not a power loss), for benchmarks whose figure would otherwise be the
    /// disk's.
    #[arg(long, value_enum, default_value_t = Durability::Full)]
    pub(super) durability: Durability,
    #[command(flatten)]
    pub(super) knobs: KnobArgs,
}

/// The faults injected into the licensing API from the start (`PUT /admin/faults` changes them).
#[derive(Debug, clap::Args)]
#[command(next_help_heading = "Faults injected into the licensing API")]
pub(super) struct KnobArgs {
    /// The whole fault configuration as JSON, as `PUT /admin/faults` takes it (instead of the
    /// other fault flags).
    #[arg(long, value_name = "JSON", conflicts_with_all = [
        "latency_ms", "throttle_every", "throttle_rate", "retry_after_seconds", "error_status",
        "error_next", "error_probability", "drop_next", "drop_probability", "malformed_next",
        "malformed_probability", "fault_method", "fault_seed",
    ])]
    pub(super) faults: Option<String>,
    /// Wait this long before answering each request.
    #[arg(long, value_name = "MS")]
    pub(super) latency_ms: Option<u64>,
    /// Answer every Nth request 429.
    #[arg(long, value_name = "N", conflicts_with = "throttle_rate")]
    pub(super) throttle_every: Option<u64>,
    /// Answer 429 beyond this many requests a second.
    #[arg(long, value_name = "PER_SECOND")]
    pub(super) throttle_rate: Option<f64>,
    /// The Retry-After of a 429 (default 1).
    #[arg(long, value_name = "SECONDS")]
    pub(super) retry_after_seconds: Option<u32>,
    /// The status of injected errors: 500, 502, 503 or 504.
    #[arg(long, value_name = "STATUS", default_value_t = 503)]
    pub(super) error_status: u16,
    /// Answer the next N requests with the error status.
    #[arg(long, value_name = "N", conflicts_with = "error_probability")]
    pub(super) error_next: Option<u64>,
    /// Answer each request with the error status with this probability.
    #[arg(long, value_name = "P")]
    pub(super) error_probability: Option<f64>,
    /// Close the connection of the next N requests without an answer.
    #[arg(long, value_name = "N", conflicts_with = "drop_probability")]
    pub(super) drop_next: Option<u64>,
    /// Close the connection without an answer with this probability.
    #[arg(long, value_name = "P")]
    pub(super) drop_probability: Option<f64>,
    /// Answer the next N requests 200 with truncated JSON.
    #[arg(long, value_name = "N", conflicts_with = "malformed_probability")]
    pub(super) malformed_next: Option<u64>,
    /// Answer 200 with truncated JSON with this probability.
    #[arg(long, value_name = "P")]
    pub(super) malformed_probability: Option<f64>,
    /// Inject faults into requests with this method only (GET or PUT).
    #[arg(long, value_name = "METHOD")]
    pub(super) fault_method: Option<MethodScope>,
    /// Seed the probabilities, for faults that repeat from run to run.
    #[arg(long, value_name = "SEED")]
    pub(super) fault_seed: Option<u64>,
}

impl KnobArgs {
    /// The configuration the flags describe.
    pub(super) fn config(&self) -> Result<FaultConfig, RunError> {
        if let Some(json) = &self.faults {
            return serde_json::from_str(json)
                .map_err(|error| RunError::Faults(format!("--faults: {error}")));
        }
        let method = self.fault_method;
        let trigger = |next: Option<u64>, probability: Option<f64>| {
            (next.is_some() || probability.is_some()).then_some(Trigger {
                next,
                probability,
                method,
                after_serving: false,
            })
        };
        let errors = trigger(self.error_next, self.error_probability).map(|when| ErrorFault {
            status: self.error_status,
            next: when.next,
            probability: when.probability,
            retry_after_seconds: None,
            method,
        });
        let throttle =
            (self.throttle_every.is_some() || self.throttle_rate.is_some()).then_some(Throttle {
                every_nth: self.throttle_every,
                rate_per_second: self.throttle_rate,
                retry_after_seconds: self.retry_after_seconds,
                method,
            });
        Ok(FaultConfig {
            seed: self.fault_seed,
            latency: self.latency_ms.map(|ms| Latency { ms, method }),
            drop: trigger(self.drop_next, self.drop_probability),
            throttle,
            errors,
            fail_items: None,
            malformed: trigger(self.malformed_next, self.malformed_probability),
        })
    }
}

#[derive(Debug, clap::Args)]
pub(super) struct UsersArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// Print a JSON array of {upn, tenant, roles} instead of a table.
    #[arg(long)]
    pub(super) json: bool,
}

#[derive(Debug, clap::Args)]
pub(super) struct TokenArgs {
    #[command(flatten)]
    pub(super) data: DataArgs,
    /// The tenant: its id, domain or name.
    #[arg(long)]
    pub(super) tenant: String,
    /// The user's UPN.
    #[arg(long)]
    pub(super) user: String,
    /// The token lifetime; a negative value gives a token that expired that long ago.
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true,
          default_value_t = i64::from(Settings::default().token_lifetime_s))]
    pub(super) lifetime_seconds: i64,
}

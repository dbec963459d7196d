//! Tab completion of `-PolicyId`, `-ProductId`, `-ProductName` and `-OfferType` from the
//! connected tenant. Lists are kept for a minute, so pressing Tab again costs no request, and
//! every lookup is bounded in time: completion runs on the pipeline thread and must never
//! make the prompt wait long.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::Client;
use crate::error::{Error, ErrorKind, Result};
use crate::http::Cancel;
use crate::log::Sink;
use crate::policy::Scope;
use crate::protocol::{Candidate as Reply, CompletionKind};
use crate::secret::Secret;

/// How long a listed set of candidates is reused.
const FRESH_FOR: Duration = Duration::from_secs(60);

/// The longest a completion waits for the service.
const TIME_LIMIT: Duration = Duration::from_secs(5);

/// The most candidates one completion answers.
const MAX_CANDIDATES: usize = 500;

/// The policy offered when nothing can be listed: the one policy the service documents.
const KNOWN_POLICY: &str = "AllowSelfServicePurchase";

/// One completion candidate: the value and the name shown beside it.
#[derive(Debug, Clone)]
struct Candidate {
    value: String,
    name: Option<String>,
}

/// A list and when it was read.
type Listed = (Instant, Arc<Vec<Candidate>>);

/// What was listed, by list (policies, or a policy's products or offer types).
#[derive(Debug, Default)]
pub(super) struct Completions {
    lists: Mutex<HashMap<String, Listed>>,
}

impl Completions {
    /// The candidates for `word`; failures give no candidates
    /// (a policy id still completes to the documented policy), never an error.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn complete(
        &self,
        client: &Client,
        token: Option<&Secret>,
        kind: CompletionKind,
        policy_id: Option<&str>,
        word: &str,
        sink: &Sink,
        cancel: &Cancel,
    ) -> Vec<Reply> {
        let policy_id = policy_id.unwrap_or(KNOWN_POLICY);
        // Lists are kept per credential: what one token may read is never offered to another.
        let who = match token {
            Some(token) => {
                let digest = Sha256::digest(token.expose().as_bytes());
                digest[..8].iter().map(|b| format!("{b:02x}")).collect()
            }
            None => "session".to_owned(),
        };
        let key = match kind {
            CompletionKind::PolicyId => format!("{who}|policies"),
            CompletionKind::ProductId | CompletionKind::ProductName => {
                format!("{who}|products|{}", policy_id.to_ascii_lowercase())
            }
            CompletionKind::OfferType => {
                format!("{who}|offerTypes|{}", policy_id.to_ascii_lowercase())
            }
        };
        let candidates = match self.fresh(&key) {
            Some(list) => list,
            None => {
                let listed = tokio::time::timeout(
                    TIME_LIMIT,
                    list(client, token, kind, policy_id, sink, cancel),
                )
                .await
                .unwrap_or_else(|_| Err(Error::new(ErrorKind::Timeout, "completion timed out")));
                match listed {
                    Ok(list) => self.keep(key, list),
                    Err(error) => {
                        sink.debug(&format!("completion found nothing: {}", error.message()));
                        if kind == CompletionKind::PolicyId {
                            Arc::new(vec![Candidate {
                                value: KNOWN_POLICY.to_owned(),
                                name: None,
                            }])
                        } else {
                            Arc::new(Vec::new())
                        }
                    }
                }
            }
        };
        let word = word.trim().trim_matches(['\'', '"']).to_lowercase();
        let by_name = kind == CompletionKind::ProductName;
        let mut picked: Vec<&Candidate> = candidates
            .iter()
            .filter(|c| {
                let value = if by_name {
                    c.name.as_deref()
                } else {
                    Some(c.value.as_str())
                };
                let starts = value.is_some_and(|v| v.to_lowercase().starts_with(&word));
                // Product ids are opaque: let a part of the name find them.
                let named = kind == CompletionKind::ProductId
                    && c.name
                        .as_deref()
                        .is_some_and(|n| n.to_lowercase().contains(&word));
                starts || named || word.is_empty()
            })
            .collect();
        picked.truncate(MAX_CANDIDATES);
        picked
            .into_iter()
            .filter_map(|c| {
                let (value, tooltip) = if by_name {
                    (c.name.clone()?, c.value.clone())
                } else {
                    let tooltip = match &c.name {
                        Some(name) => format!("{name} ({})", c.value),
                        None => c.value.clone(),
                    };
                    (c.value.clone(), tooltip)
                };
                Some(Reply { value, tooltip })
            })
            .collect()
    }

    /// Forgets every list: the session's credential changed (connect, disconnect).
    pub(super) fn clear(&self) {
        self.lists
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    fn fresh(&self, key: &str) -> Option<Arc<Vec<Candidate>>> {
        let lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        lists
            .get(key)
            .filter(|(at, _)| at.elapsed() < FRESH_FOR)
            .map(|(_, list)| Arc::clone(list))
    }

    fn keep(&self, key: String, list: Vec<Candidate>) -> Arc<Vec<Candidate>> {
        let list = Arc::new(list);
        let mut lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        lists.retain(|_, (at, _)| at.elapsed() < FRESH_FOR);
        lists.insert(key, (Instant::now(), Arc::clone(&list)));
        list
    }
}

/// Lists the candidates of one kind from the service, sorted by value.
async fn list(
    client: &Client,
    token: Option<&Secret>,
    kind: CompletionKind,
    policy_id: &str,
    sink: &Sink,
    cancel: &Cancel,
) -> Result<Vec<Candidate>> {
    let mut candidates: Vec<Candidate> = match kind {
        CompletionKind::PolicyId => client
            .policies(token, sink, cancel)
            .await?
            .into_iter()
            .map(|policy| Candidate {
                value: policy.id,
                name: policy.description,
            })
            .collect(),
        CompletionKind::ProductId | CompletionKind::ProductName => client
            .list(token, policy_id, Scope::Product, sink, cancel)
            .await?
            .into_iter()
            .filter_map(|item| {
                Some(Candidate {
                    value: item.product_id?,
                    name: item.product_name,
                })
            })
            .collect(),
        CompletionKind::OfferType => client
            .list(token, policy_id, Scope::OfferType, sink, cancel)
            .await?
            .into_iter()
            .filter_map(|item| {
                Some(Candidate {
                    value: item.scope_id?,
                    name: item.scope_value,
                })
            })
            .collect(),
    };
    candidates.sort_by(|a, b| a.value.cmp(&b.value));
    Ok(candidates)
}

//! The fixture server's shared state: which interactions are used, request
//! log, counters, random fault draws, and the reports behind
//! [`super::VerifyError`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use serde_json::Value;

use super::{
    InteractionHits, InteractionId, Mismatch, RandomFaults, ReceivedRequest, ServerOptions,
    ServerStats, UnusedInteraction,
};
use crate::diff::line_diff;
use crate::fault::{Fault, FaultKind};
use crate::format::{Cassette, Interaction, RequestSpec, ResponseSpec};
use crate::matcher::Summary;
use crate::record::redact::redact_str;

/// One interaction as loaded, with where it came from.
pub(crate) struct Slot {
    pub(crate) id: InteractionId,
    pub(crate) cassette: String,
    pub(crate) interaction: Interaction,
}

/// A request as it arrived, split for matching.
pub(crate) struct Incoming {
    pub(crate) method: String,
    pub(crate) path: String,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) raw_body: bytes::Bytes,
    pub(crate) body: Option<Value>,
    /// Secrets seen in its headers and query, never shown in reports.
    pub(crate) secrets: Vec<String>,
    /// Its headers, names in lower case, secrets left out.
    pub(crate) headers: BTreeMap<String, String>,
}

/// What to do with a request.
pub(crate) enum Decision {
    /// Nothing matched; answer 418 with this explanation.
    Unmatched(String),
    /// Answer from the cassette, maybe with a fault, after `delay`.
    Reply {
        response: ResponseSpec,
        fault: Option<Fault>,
        delay: Duration,
    },
}

pub(crate) struct Shared {
    slots: Vec<Slot>,
    options: ServerOptions,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    used: Vec<bool>,
    hits: Vec<u64>,
    faults_served: Vec<u32>,
    total: u64,
    per_path: BTreeMap<String, u64>,
    in_flight: usize,
    max_in_flight: usize,
    faults: BTreeMap<FaultKind, u64>,
    requests: Vec<ReceivedRequest>,
    mismatches: Vec<Mismatch>,
    /// Times each request fingerprint was seen, for random fault draws.
    seen: HashMap<u64, u64>,
}

impl Shared {
    pub(crate) fn new(cassettes: Vec<Cassette>, options: ServerOptions) -> Self {
        let slots: Vec<Slot> =
            cassettes
                .into_iter()
                .enumerate()
                .flat_map(|(cassette_idx, cassette)| {
                    let name = cassette.meta.name;
                    cassette.interactions.into_iter().enumerate().map(
                        move |(index, interaction)| Slot {
                            id: InteractionId {
                                cassette: cassette_idx,
                                index,
                            },
                            cassette: name.clone(),
                            interaction,
                        },
                    )
                })
                .collect();
        let n = slots.len();
        let state = State {
            used: vec![false; n],
            hits: vec![0; n],
            faults_served: vec![0; n],
            ..State::default()
        };
        Self {
            slots,
            options,
            state: Mutex::new(state),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counters in a
        // state worse than slightly off, so keep serving.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Logs the request, matches it, and picks the fault (if any).
    pub(crate) fn decide(&self, req: Incoming) -> Decision {
        let mut state = self.lock();
        state.total += 1;
        *state.per_path.entry(req.path.clone()).or_default() += 1;
        let request_index = state.requests.len();
        let random = self
            .options
            .random_faults
            .as_ref()
            .and_then(|r| draw(r, &req, &mut state));

        let found = self.slots.iter().enumerate().position(|(i, slot)| {
            (slot.interaction.repeatable || !state.used[i])
                && request_matches(&slot.interaction.request, &req)
        });
        let Some(i) = found else {
            let mut secrets = req.secrets.clone();
            secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
            let report = redact_str(&self.explain_mismatch(&req, &state), &secrets);
            state.mismatches.push(Mismatch {
                request_index,
                method: req.method.clone(),
                path: req.path.clone(),
                report: report.clone(),
            });
            state.requests.push(received(req, None, None));
            return Decision::Unmatched(report);
        };

        let slot = &self.slots[i];
        state.hits[i] += 1;
        let scripted = slot
            .interaction
            .fault
            .as_ref()
            .filter(|spec| state.faults_served[i] < spec.times)
            .map(|spec| spec.fault.clone());
        if scripted.is_some() {
            state.faults_served[i] += 1;
        }
        let fault = scripted.or(random);
        if fault.as_ref().is_none_or(Fault::delivers_response) {
            state.used[i] = true;
        }
        if let Some(fault) = &fault {
            *state.faults.entry(fault.kind()).or_default() += 1;
        }

        let mut delay = self.options.latency.unwrap_or_default();
        match &fault {
            None => delay += real_latency(&slot.interaction.response),
            Some(Fault::Latency { delay: extra }) => {
                delay += real_latency(&slot.interaction.response) + *extra;
            }
            Some(_) => {}
        }
        state.requests.push(received(
            req,
            Some(slot.id),
            fault.as_ref().map(Fault::kind),
        ));
        Decision::Reply {
            response: slot.interaction.response.clone(),
            fault,
            delay,
        }
    }

    pub(crate) fn enter(self: &Arc<Self>) -> InFlight {
        let mut state = self.lock();
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        InFlight(Arc::clone(self))
    }

    pub(crate) fn stats(&self) -> ServerStats {
        let state = self.lock();
        let interaction_hits = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, slot)| InteractionHits {
                id: slot.id,
                label: slot.interaction.label.clone(),
                hits: state.hits[i],
                used: state.used[i],
            })
            .collect();
        ServerStats {
            total_requests: state.total,
            unmatched_requests: state.mismatches.len() as u64,
            requests_per_path: state.per_path.clone(),
            in_flight: state.in_flight,
            max_in_flight: state.max_in_flight,
            interaction_hits,
            faults_injected: state.faults.clone(),
        }
    }

    pub(crate) fn requests(&self) -> Vec<ReceivedRequest> {
        self.lock().requests.clone()
    }

    /// Mismatches, and unused interactions when `strict`.
    pub(crate) fn problems(&self) -> (Vec<Mismatch>, Vec<UnusedInteraction>) {
        let state = self.lock();
        let unused = if self.options.strict {
            self.slots
                .iter()
                .enumerate()
                .filter(|(i, slot)| !slot.interaction.repeatable && !state.used[*i])
                .map(|(_, slot)| UnusedInteraction {
                    id: slot.id,
                    cassette: slot.cassette.clone(),
                    label: slot.interaction.label.clone(),
                })
                .collect()
        } else {
            Vec::new()
        };
        (state.mismatches.clone(), unused)
    }

    fn explain_mismatch(&self, req: &Incoming, state: &State) -> String {
        let mut out = format!("no interaction matches {} {}", req.method, req.path);
        if !req.query.is_empty() {
            out.push_str(&format!(" (query {:?})", req.query));
        }
        let summary = req.body.as_ref().map_or_else(Summary::default, Summary::of);
        out.push_str(&format!("\n  key fields: {}", summary.describe()));
        let best = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, slot)| (i, closeness(&slot.interaction.request, req)))
            .fold(None::<(usize, f64)>, |best, (i, score)| match best {
                Some((_, top)) if top >= score => best,
                _ => Some((i, score)),
            });
        let Some((i, score)) = best else {
            out.push_str("\n  the server has no interactions loaded");
            return out;
        };
        let slot = &self.slots[i];
        let spec = &slot.interaction.request;
        let label = slot
            .interaction
            .label
            .as_deref()
            .map(|l| format!(" {l:?}"))
            .unwrap_or_default();
        let used = if state.used[i] && !slot.interaction.repeatable {
            ", already used"
        } else {
            ""
        };
        out.push_str(&format!(
            "\n  closest candidate: {}#{}{label} in cassette {:?} (similarity {score:.2}{used})",
            slot.id.cassette, slot.id.index, slot.cassette
        ));
        if spec.method != req.method {
            out.push_str(&format!(
                "\n  method: cassette has {}, request has {}",
                spec.method, req.method
            ));
        }
        if spec.path != req.path {
            out.push_str(&format!(
                "\n  path: cassette has {}, request has {}",
                spec.path, req.path
            ));
        }
        for (key, value) in &spec.query {
            if req.query.get(key) != Some(value) {
                out.push_str(&format!(
                    "\n  query {key:?}: cassette wants {value:?}, request has {:?}",
                    req.query.get(key)
                ));
            }
        }
        if let Some(matcher) = &spec.body {
            let (expected, actual) = matcher.diff_sides(req.body.as_ref());
            let kind = serde_json::to_value(matcher)
                .ok()
                .and_then(|v| v.as_object().and_then(|o| o.keys().next().cloned()))
                .unwrap_or_default();
            out.push_str(&format!(
                "\n  body diff ({kind} matcher; - cassette expects, + request has):\n"
            ));
            let diff = line_diff(&pretty(&expected), &pretty(&actual));
            for line in diff.lines() {
                out.push_str("    ");
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }
}

/// Marks one request in flight; the counter drops when this does.
pub(crate) struct InFlight(Arc<Shared>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
    }
}

fn request_matches(spec: &RequestSpec, req: &Incoming) -> bool {
    spec.method.eq_ignore_ascii_case(&req.method)
        && spec.path == req.path
        && spec.query.iter().all(|(k, v)| req.query.get(k) == Some(v))
        && spec
            .headers
            .iter()
            .all(|(k, v)| req.headers.get(k) == Some(v))
        && spec
            .body
            .as_ref()
            .is_none_or(|m| m.matches(req.body.as_ref()))
}

/// A 0..=1 score of how close `req` comes to `spec`; path and body weigh most.
fn closeness(spec: &RequestSpec, req: &Incoming) -> f64 {
    let method = f64::from(u8::from(spec.method.eq_ignore_ascii_case(&req.method)));
    let path = f64::from(u8::from(spec.path == req.path));
    let query = if spec.query.is_empty() {
        1.0
    } else {
        let ok = spec
            .query
            .iter()
            .filter(|(k, v)| req.query.get(*k) == Some(*v))
            .count();
        ok as f64 / spec.query.len() as f64
    };
    let body = spec
        .body
        .as_ref()
        .map_or(1.0, |m| m.similarity(req.body.as_ref()));
    (method + 3.0 * path + query + 5.0 * body) / 10.0
}

fn real_latency(response: &ResponseSpec) -> Duration {
    Duration::from_millis(response.latency_ms.unwrap_or(0))
}

fn received(
    req: Incoming,
    matched: Option<InteractionId>,
    fault: Option<FaultKind>,
) -> ReceivedRequest {
    ReceivedRequest {
        method: req.method,
        path: req.path,
        query: req.query,
        body: req.body,
        raw_body: req.raw_body,
        headers: req.headers,
        matched,
        fault,
    }
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// Draws a random fault from a hash of the seed, the request and how many
/// times this same request was seen, so the outcome does not depend on the
/// order in which concurrent requests arrive.
fn draw(random: &RandomFaults, req: &Incoming, state: &mut State) -> Option<Fault> {
    let mut hash = Fnv::new();
    hash.write(&random.seed.to_le_bytes());
    hash.write(req.method.as_bytes());
    hash.write(&[0]);
    hash.write(req.path.as_bytes());
    hash.write(&[0]);
    hash.write(&req.raw_body);
    let fingerprint = hash.finish();
    let seen = state.seen.entry(fingerprint).or_default();
    let nth = *seen;
    *seen += 1;
    let mut hash = Fnv::new();
    hash.write(&fingerprint.to_le_bytes());
    hash.write(&nth.to_le_bytes());
    let roll = fastrand::Rng::with_seed(hash.finish()).f64();
    let mut cumulative = 0.0;
    for (kind, rate) in &random.rates {
        cumulative += rate.max(0.0);
        if roll < cumulative {
            return Some(kind.default_fault());
        }
    }
    None
}

/// 64-bit FNV-1a: tiny, and stable across Rust versions (unlike `DefaultHasher`).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 ^= u64::from(*byte);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

//! `agent-fork models`: what this key can use (ListModels), merged with
//! the model catalog; without a key, the catalog alone.

use crate::json::{ModelRow, ModelsJson, PriceJson, ThinkingJson};
use anyhow::Result;
use chrono::NaiveDate;
use genai_client::catalog::{self, ModelInfo, Provenance};
use genai_client::{ClientConfig, Model};
use render::humanize;

use crate::commands::common::{self, AgentFlags};
use crate::exit::Exit;
use crate::output::Output;
use crate::session::{Session, Traffic};
use crate::settings::Settings;

/// Models asked for per ListModels page.
const PAGE_SIZE: u32 = 50;

impl ModelRow {
    fn new(info: &ModelInfo, served: Option<&Model>, today: NaiveDate) -> ModelRow {
        let lifecycle = info.lifecycle.as_ref();
        let (catalog, alias_of) = match &info.provenance {
            Provenance::Listed => ("listed", None),
            Provenance::Alias { target } => ("alias", Some(target.clone())),
            Provenance::Rule => ("rule", None),
        };
        ModelRow {
            id: info.id.clone(),
            display_name: served.and_then(|model| model.display_name.clone()),
            catalog,
            alias_of,
            generation: info.generation.label(),
            family: info.family.label(),
            thinking: ThinkingJson::from(&info.thinking),
            input_token_limit: served
                .and_then(|model| model.input_token_limit)
                .or(info.limits.map(|limits| u64::from(limits.input_tokens))),
            output_token_limit: served
                .and_then(|model| model.output_token_limit)
                .or(info.limits.map(|limits| u64::from(limits.output_tokens))),
            stage: lifecycle.map(|lifecycle| lifecycle.stage.label()),
            shutdown: lifecycle
                .and_then(|lifecycle| lifecycle.shutdown.map(|date| date.to_string())),
            days_to_shutdown: lifecycle.and_then(|lifecycle| lifecycle.days_to_shutdown(today)),
            replacement: lifecycle.and_then(|lifecycle| lifecycle.replacement.clone()),
            price: info.price.as_ref().map(|price| PriceJson {
                input: price.rates_on(today).0.usd(),
                output: price.rates_on(today).1.usd(),
                cached: price.cached.map(|cached| cached.usd()),
                batch: price.batch,
            }),
            thinking_text: info.thinking.describe(),
        }
    }
}

/// Runs `models`.
pub(crate) async fn run(flags: &AgentFlags, traffic: &Traffic, output: &Output) -> Result<Exit> {
    let settings = Settings::resolve(flags.layer())?;
    let today = common::today();
    let config = ClientConfig::from_env();
    let keyless = matches!(traffic, Traffic::Live)
        && config.api_key.is_none()
        && config.targets_public_endpoint();
    let mut retries = 0;
    let (source, rows) = if keyless {
        output.error_line(
            "no API key: showing the model catalog only; set GEMINI_API_KEY to see the models your key can use",
        );
        let rows = catalog::known_ids()
            .into_iter()
            .map(|id| ModelRow::new(&catalog::lookup(id), None, today))
            .collect();
        ("catalog", rows)
    } else {
        let session = Session::open(traffic, &settings)
            .await?
            .logged(output)
            .retries_told("models", output);
        let models = session.client.list_models(Some(PAGE_SIZE)).await?;
        retries = session.retries();
        if let Some(notice) = session.finish("models").await? {
            output.error_line(&notice);
        }
        let rows = models
            .iter()
            .filter(|model| model.generates_content())
            .map(|model| ModelRow::new(&catalog::lookup(model.id()), Some(model), today))
            .collect();
        ("api", rows)
    };
    let json = ModelsJson {
        source,
        catalog_reviewed: catalog::reviewed_on().to_string(),
        today: today.to_string(),
        models: rows,
    };
    if output.json() {
        output.json_value(&json)?;
    } else {
        output.line(&table(&json));
        if let Some(line) = crate::finish::retries_line(retries) {
            output.notice(&line);
        }
    }
    Ok(Exit::Success)
}

/// The rows as an aligned table.
fn table(json: &ModelsJson) -> String {
    let header = [
        "MODEL", "GEN", "FAMILY", "THINKING", "INPUT", "OUTPUT", "STAGE", "SHUTDOWN",
    ];
    let mut rows: Vec<Vec<String>> = vec![header.iter().map(ToString::to_string).collect()];
    for row in &json.models {
        let id = match &row.alias_of {
            Some(target) => format!("{} → {target}", row.id),
            None if row.catalog == "rule" => format!("{} (not in catalog)", row.id),
            None => row.id.clone(),
        };
        let shutdown = match (&row.shutdown, row.days_to_shutdown) {
            (Some(date), Some(days)) if days > 0 => format!("{date} (in {days} d)"),
            (Some(date), Some(_)) => format!("{date} (past)"),
            _ => "-".to_owned(),
        };
        let shutdown = match &row.replacement {
            Some(replacement) => format!("{shutdown} → {replacement}"),
            None => shutdown,
        };
        let limit = |value: Option<u64>| value.map_or_else(|| "-".to_owned(), humanize::count);
        rows.push(vec![
            id,
            row.generation.to_owned(),
            row.family.to_owned(),
            row.thinking_text.clone(),
            limit(row.input_token_limit),
            limit(row.output_token_limit),
            row.stage.unwrap_or("-").to_owned(),
            shutdown,
        ]);
    }
    let mut out = render::columns(&rows, None);
    out.push('\n');
    out.push_str(&format!(
        "{} models · source: {} · catalog reviewed {} · days counted from {}",
        json.models.len(),
        if json.source == "api" {
            "this key (ListModels) + catalog"
        } else {
            "catalog"
        },
        json.catalog_reviewed,
        json.today
    ));
    out
}

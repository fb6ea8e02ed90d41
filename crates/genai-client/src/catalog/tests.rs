use serde_json::{Value, json};

use super::*;

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
}

#[test]
fn the_embedded_catalog_parses_and_is_consistent() {
    let catalog = parse(CATALOG_TOML).unwrap();
    assert!(catalog.models.len() >= 10);
    // Every alias target, replacement and routing target is a listed model
    // (checked by parse), and every default is current.
    for role in [
        "code",
        "research",
        "analysis",
        "creative",
        "general",
        "planner",
        "plan_consolidator",
        "refine_reviewer",
        "swarm_consolidator",
        "summarizer",
    ] {
        let default = default_for(role).unwrap_or_else(|| panic!("no default for {role}"));
        let info = lookup(&default.model);
        assert_eq!(info.provenance, Provenance::Listed, "{role}");
        assert_eq!(info.generation, Generation::Gemini3, "{role}");
    }
    assert!(!unconfirmed().is_empty());
    assert_eq!(reviewed_on(), day("2026-11-29"));
}

/// What a run reads (the JSON `build.rs` made) says exactly what the
/// reviewed TOML says.
#[test]
fn the_embedded_json_is_the_reviewed_toml() {
    let from_toml: data::File = toml::from_str(CATALOG_TOML).unwrap();
    let from_json: data::File = serde_json::from_str(CATALOG_JSON).unwrap();
    assert_eq!(format!("{from_json:?}"), format!("{from_toml:?}"));
    assert!(from_toml.model.len() > 5);
}

#[test]
fn every_fact_group_of_every_model_names_a_source() {
    let file: data::File = toml::from_str(CATALOG_TOML).unwrap();
    for model in &file.model {
        let mut sources = vec![
            &model.lifecycle.source,
            &model.thinking.source,
            &model.tools.source,
        ];
        sources.extend(model.limits.as_ref().map(|limits| &limits.source));
        sources.extend(model.price.as_ref().map(|price| &price.source));
        for source in sources {
            assert!(source.trim().len() > 10, "{}: source {source:?}", model.id);
        }
    }
    for alias in &file.alias {
        assert!(!alias.source.trim().is_empty(), "{}", alias.id);
    }
}

#[test]
fn a_broken_catalog_is_refused_with_the_reason() {
    let bad_replacement = CATALOG_TOML.replace(
        "replacement = \"gemini-3.6-flash\"",
        "replacement = \"gemini-9.9-flash\"",
    );
    let error = parse(&bad_replacement).err().unwrap();
    assert!(
        error.contains("gemini-9.9-flash is not a listed model"),
        "{error}"
    );

    let empty_source = CATALOG_TOML.replacen(
        "source = \"https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/guides/gemini-3-8-flash (supported thinking levels LOW, MEDIUM, HIGH; default MEDIUM)\"",
        "source = \" \"",
        1,
    );
    let error = parse(&empty_source).err().unwrap();
    assert!(error.contains("thinking has no source"), "{error}");

    let deprecated_default = CATALOG_TOML.replace(
        "research = { model = \"gemini-3.8-flash\"",
        "research = { model = \"gemini-2.5-flash\"",
    );
    let error = parse(&deprecated_default).err().unwrap();
    assert!(
        error.contains("default research: gemini-2.5-flash is deprecated"),
        "{error}"
    );

    let impossible_default = CATALOG_TOML.replace(
        "code = { model = \"gemini-3.1-pro-preview\", thinking = \"high\" }",
        "code = { model = \"gemini-3.1-pro-preview\", thinking = \"off\" }",
    );
    let error = parse(&impossible_default).err().unwrap();
    assert!(error.contains("cannot turn thinking off"), "{error}");
}

#[test]
fn generation_and_family_come_from_the_id_for_unlisted_models() {
    assert_eq!(lookup("gemini-2.5-flash").generation, Generation::Gemini2_5);
    assert_eq!(
        lookup("models/gemini-2.0-flash").generation,
        Generation::Gemini2_0
    );
    assert_eq!(
        lookup("gemini-3.1-pro-preview").generation,
        Generation::Gemini3
    );
    let new = lookup("gemini-3.9-flash");
    assert_eq!(new.provenance, Provenance::Rule);
    assert_eq!(new.generation, Generation::Gemini3);
    assert_eq!(new.family, Family::Flash);
    assert_eq!(
        new.thinking,
        ThinkingControl::Levels {
            accepted: vec![
                ThinkingLevel::Low,
                ThinkingLevel::Medium,
                ThinkingLevel::High
            ],
            default: ThinkingLevel::Medium
        }
    );
    assert_eq!(lookup("gemini-3.9-flash-lite").family, Family::FlashLite);
    assert_eq!(lookup("gemini-3.5-pro").family, Family::Pro);
    assert_eq!(
        lookup("gemini-2.5-pro").builtin_tool_mixing,
        BuiltinToolMixing::Unsupported
    );
    assert_eq!(
        lookup("gemini-2.5-flash-preview-09-2025").builtin_tool_mixing,
        BuiltinToolMixing::Unsupported
    );
    assert!(matches!(
        lookup("gemini-2.5-flash-preview-09-2025").thinking,
        ThinkingControl::Budget {
            min: 1,
            max: 24576,
            can_disable: true,
            ..
        }
    ));
}

#[test]
fn aliases_follow_their_target_rules() {
    let alias = lookup("gemini-flash-latest");
    assert_eq!(alias.generation, Generation::Gemini3);
    assert_eq!(
        alias.provenance,
        Provenance::Alias {
            target: "gemini-3.8-flash".to_owned()
        }
    );
    assert_eq!(alias.lifecycle, None);
    assert_eq!(alias.thinking, lookup("gemini-3.8-flash").thinking);
    assert_eq!(lookup("gemini-pro-latest").family, Family::Pro);
    assert!(known_ids().contains(&"gemini-pro-latest"));
}

#[test]
fn shutdown_soon_counts_days_with_an_injected_clock() {
    let flash = lookup("gemini-2.5-flash");
    let soon = flash.shutdown_soon(day("2026-11-29"), 30).unwrap();
    assert_eq!(soon.days, 2);
    assert_eq!(soon.date, day("2026-12-01"));
    assert_eq!(soon.replacement.as_deref(), Some("gemini-3.5-flash-lite"));
    assert_eq!(flash.shutdown_soon(day("2026-10-31"), 30), None);
    assert!(flash.shutdown_soon(day("2026-11-01"), 30).is_some());
    assert_eq!(flash.shutdown_soon(day("2026-12-02"), 30), None);
    assert!(
        flash
            .lifecycle
            .as_ref()
            .unwrap()
            .is_shut_down(day("2026-12-01"))
    );
    assert_eq!(
        lookup("gemini-3.8-flash").shutdown_soon(day("2026-11-29"), 30),
        None
    );
    // Already retired: no "soon" warning (the 404 path explains it).
    assert_eq!(
        lookup("gemini-2.0-flash").shutdown_soon(day("2026-05-20"), 30),
        None
    );
}

#[test]
fn prices_are_exact() {
    let pro = lookup("gemini-2.5-pro").price.unwrap();
    assert_eq!(pro.input.usd(), 1.25);
    assert_eq!(pro.cached.unwrap().usd(), 0.125);
    let long = pro.long_context.unwrap();
    assert_eq!(
        (long.over_tokens, long.input.usd(), long.output.usd()),
        (200_000, 2.5, 15.0)
    );
    let flash = lookup("gemini-3.8-flash").price.unwrap();
    assert_eq!(flash.until, Some(day("2026-12-31")));
    assert_eq!(
        flash.later.map(|(i, o)| (i.usd(), o.usd())),
        Some((1.5, 7.5))
    );
    assert_eq!(flash.input.to_string(), "$0.75");
    let usd = |(input, output): (PerMillion, PerMillion)| (input.usd(), output.usd());
    assert_eq!(usd(flash.rates_on(day("2026-12-31"))), (0.75, 3.75));
    assert_eq!(usd(flash.rates_on(day("2027-01-01"))), (1.5, 7.5));
    assert_eq!(usd(pro.rates_on(day("2030-01-01"))), (1.25, 10.0));
}

#[test]
fn thinking_settings_parse() {
    let cases = [
        ("off", ThinkingSetting::Off),
        ("MINIMAL", ThinkingSetting::Level(ThinkingLevel::Minimal)),
        ("low", ThinkingSetting::Level(ThinkingLevel::Low)),
        ("medium", ThinkingSetting::Level(ThinkingLevel::Medium)),
        ("high", ThinkingSetting::Level(ThinkingLevel::High)),
        ("auto", ThinkingSetting::Auto),
        ("-1", ThinkingSetting::Auto),
        ("4096", ThinkingSetting::Tokens(4096)),
        ("0", ThinkingSetting::Tokens(0)),
    ];
    for (text, setting) in cases {
        assert_eq!(text.parse::<ThinkingSetting>().unwrap(), setting, "{text}");
    }
    let error = "lots".parse::<ThinkingSetting>().unwrap_err();
    assert_eq!(
        error.to_string(),
        "`lots` is not a thinking setting; use off, minimal, low, medium, high, auto, or a token count"
    );
    assert!("-5".parse::<ThinkingSetting>().is_err());
    #[derive(serde::Deserialize)]
    struct Holder {
        thinking: ThinkingSetting,
    }
    let number: Holder = toml::from_str("thinking = 2048").unwrap();
    assert_eq!(number.thinking, ThinkingSetting::Tokens(2048));
    let word: Holder = toml::from_str("thinking = \"high\"").unwrap();
    assert_eq!(word.thinking, ThinkingSetting::Level(ThinkingLevel::High));
    let dynamic: Holder = toml::from_str("thinking = -1").unwrap();
    assert_eq!(dynamic.thinking, ThinkingSetting::Auto);
}

/// What is sent for (model, setting): the `thinkingConfig` JSON (or
/// `null` when nothing is sent), or the refusal.
fn sent(model: &str, setting: &str) -> Result<Value, String> {
    let setting: ThinkingSetting = setting.parse().unwrap();
    lookup(model)
        .thinking_plan(setting)
        .map(|plan| serde_json::to_value(plan.config(false)).unwrap())
        .map_err(|error| error.to_string())
}

#[test]
fn thinking_translation_table() {
    let rows: Vec<(&str, &str, Result<Value, &str>)> = vec![
        // Gemini 3 Flash with all four levels.
        (
            "gemini-3.6-flash",
            "minimal",
            Ok(json!({"thinkingLevel": "MINIMAL"})),
        ),
        (
            "gemini-3.6-flash",
            "off",
            Ok(json!({"thinkingLevel": "MINIMAL"})),
        ),
        (
            "gemini-3.6-flash",
            "medium",
            Ok(json!({"thinkingLevel": "MEDIUM"})),
        ),
        ("gemini-3.6-flash", "auto", Ok(Value::Null)),
        (
            "gemini-3.6-flash",
            "300",
            Ok(json!({"thinkingLevel": "MINIMAL"})),
        ),
        // Gemini 3.8 Flash: no MINIMAL.
        (
            "gemini-3.8-flash",
            "minimal",
            Ok(json!({"thinkingLevel": "LOW"})),
        ),
        (
            "gemini-3.8-flash",
            "high",
            Ok(json!({"thinkingLevel": "HIGH"})),
        ),
        (
            "gemini-3.8-flash",
            "4096",
            Ok(json!({"thinkingLevel": "MEDIUM"})),
        ),
        (
            "gemini-3.8-flash",
            "1024",
            Ok(json!({"thinkingLevel": "LOW"})),
        ),
        (
            "gemini-3.8-flash",
            "off",
            Err(
                "thinking `off` cannot be sent to gemini-3.8-flash: it cannot turn thinking off (it accepts low, medium, high); use `low` for the least thinking",
            ),
        ),
        (
            "gemini-3.8-flash",
            "0",
            Err(
                "thinking `0` cannot be sent to gemini-3.8-flash: it cannot turn thinking off (it accepts low, medium, high); use `low` for the least thinking",
            ),
        ),
        // Pro models.
        (
            "gemini-3.1-pro-preview",
            "medium",
            Ok(json!({"thinkingLevel": "MEDIUM"})),
        ),
        (
            "gemini-3.1-pro-preview",
            "off",
            Err(
                "thinking `off` cannot be sent to gemini-3.1-pro-preview: it cannot turn thinking off (it accepts low, medium, high); use `low` for the least thinking",
            ),
        ),
        (
            "gemini-3-pro-preview",
            "medium",
            Ok(json!({"thinkingLevel": "HIGH"})),
        ),
        (
            "gemini-3-pro-preview",
            "minimal",
            Ok(json!({"thinkingLevel": "LOW"})),
        ),
        (
            "gemini-pro-latest",
            "high",
            Ok(json!({"thinkingLevel": "HIGH"})),
        ),
        // Flash-Lite.
        (
            "gemini-3.5-flash-lite",
            "off",
            Ok(json!({"thinkingLevel": "MINIMAL"})),
        ),
        // Gemini 2.5: budgets.
        ("gemini-2.5-flash", "off", Ok(json!({"thinkingBudget": 0}))),
        ("gemini-2.5-flash", "0", Ok(json!({"thinkingBudget": 0}))),
        (
            "gemini-2.5-flash",
            "auto",
            Ok(json!({"thinkingBudget": -1})),
        ),
        (
            "gemini-2.5-flash",
            "minimal",
            Ok(json!({"thinkingBudget": 512})),
        ),
        (
            "gemini-2.5-flash",
            "low",
            Ok(json!({"thinkingBudget": 1024})),
        ),
        (
            "gemini-2.5-flash",
            "medium",
            Ok(json!({"thinkingBudget": 8192})),
        ),
        (
            "gemini-2.5-flash",
            "high",
            Ok(json!({"thinkingBudget": 24576})),
        ),
        (
            "gemini-2.5-flash",
            "4096",
            Ok(json!({"thinkingBudget": 4096})),
        ),
        (
            "gemini-2.5-flash",
            "100000",
            Ok(json!({"thinkingBudget": 24576})),
        ),
        (
            "gemini-2.5-pro",
            "off",
            Err(
                "thinking `off` cannot be sent to gemini-2.5-pro: it cannot turn thinking off (budgets 128-32768); use `minimal` (128 tokens) for the least thinking",
            ),
        ),
        (
            "gemini-2.5-pro",
            "high",
            Ok(json!({"thinkingBudget": 32768})),
        ),
        ("gemini-2.5-pro", "64", Ok(json!({"thinkingBudget": 128}))),
        (
            "gemini-2.5-flash-lite",
            "minimal",
            Ok(json!({"thinkingBudget": 512})),
        ),
        (
            "gemini-2.5-flash-lite",
            "100",
            Ok(json!({"thinkingBudget": 512})),
        ),
        // No thinking control.
        ("gemini-2.0-flash", "auto", Ok(Value::Null)),
        (
            "gemini-2.0-flash",
            "low",
            Err(
                "thinking `low` cannot be sent to gemini-2.0-flash: the model has no thinking control; it does not think, so use `off` or `auto`",
            ),
        ),
        // Unlisted ids follow their generation.
        (
            "gemini-3.9-flash",
            "minimal",
            Ok(json!({"thinkingLevel": "LOW"})),
        ),
        (
            "gemini-3.9-flash-lite",
            "minimal",
            Ok(json!({"thinkingLevel": "MINIMAL"})),
        ),
        (
            "gemini-2.5-flash-preview-09-2025",
            "high",
            Ok(json!({"thinkingBudget": 24576})),
        ),
    ];
    for (model, setting, expected) in rows {
        let actual = sent(model, setting);
        match (&actual, &expected) {
            (Ok(actual), Ok(expected)) => assert_eq!(actual, expected, "{model} {setting}"),
            (Err(actual), Err(expected)) => assert_eq!(actual, expected, "{model} {setting}"),
            _ => panic!("{model} {setting}: got {actual:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn adjusted_settings_carry_a_notice_and_exact_ones_do_not() {
    let plan = |model: &str, setting: &str| {
        lookup(model)
            .thinking_plan(setting.parse().unwrap())
            .unwrap()
    };
    assert_eq!(
        plan("gemini-3.8-flash", "minimal").notice.as_deref(),
        Some(
            "gemini-3.8-flash does not accept thinking level minimal; sending LOW, the nearest it accepts"
        )
    );
    assert_eq!(
        plan("gemini-3.8-flash", "4096").notice.as_deref(),
        Some(
            "gemini-3.8-flash takes thinking levels, not token counts; sending 4096 tokens as thinkingLevel MEDIUM"
        )
    );
    assert_eq!(
        plan("gemini-2.5-pro", "64").notice.as_deref(),
        Some("gemini-2.5-pro accepts thinking budgets 128-32768; sending 128 instead of 64")
    );
    assert_eq!(plan("gemini-3.8-flash", "low").notice, None);
    assert_eq!(plan("gemini-2.5-flash", "high").notice, None);
}

/// Every (catalog model, setting) pair: the body is strict v1beta JSON
/// (only `thinkingLevel`, `thinkingBudget`, `includeThoughts`), never
/// both a level and a budget, a level only on Gemini 3 and a budget only on
/// 2.5; and the whole table is pinned in a reviewed snapshot.
#[test]
fn every_catalog_model_and_setting_sends_valid_thinking_config() {
    let settings = [
        "off", "minimal", "low", "medium", "high", "auto", "0", "4096", "100000",
    ];
    let mut table = String::new();
    for id in known_ids() {
        let info = lookup(id);
        for setting in settings {
            let row = match info.thinking_plan(setting.parse().unwrap()) {
                Ok(plan) => {
                    let config = serde_json::to_value(plan.config(true)).unwrap();
                    let keys: Vec<&String> = config.as_object().unwrap().keys().collect();
                    for key in &keys {
                        assert!(
                            ["thinkingLevel", "thinkingBudget", "includeThoughts"]
                                .contains(&key.as_str()),
                            "{id} {setting}: {key}"
                        );
                    }
                    assert!(
                        !(config.get("thinkingLevel").is_some()
                            && config.get("thinkingBudget").is_some()),
                        "{id} {setting}: both fields"
                    );
                    if config.get("thinkingLevel").is_some() {
                        assert_eq!(info.generation, Generation::Gemini3, "{id}");
                    }
                    if config.get("thinkingBudget").is_some() {
                        assert_eq!(info.generation, Generation::Gemini2_5, "{id}");
                    }
                    serde_json::to_string(&plan.config(false)).unwrap()
                }
                Err(error) => format!("refused: {}", error.reason),
            };
            table.push_str(&format!("{id:32} {setting:8} {row}\n"));
        }
    }
    insta::assert_snapshot!(table);
}

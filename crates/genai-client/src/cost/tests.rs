//! Cost arithmetic, table-driven (authored usage blocks; the recorded ones
//! are in `tests/cost_corpus.rs`).

use super::*;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

fn usage(prompt: u64, cached: u64, tool_use: u64, candidates: u64, thoughts: u64) -> Usage {
    Usage {
        prompt,
        cached,
        tool_use,
        candidates,
        thoughts,
        total: prompt + tool_use + candidates + thoughts,
    }
}

struct Case {
    name: &'static str,
    usage: Usage,
    model_version: Option<&'static str>,
    requested: &'static str,
    day: &'static str,
    expected: Result<(u64, &'static str, bool), Unpriced>,
}

#[test]
fn authored_cases() {
    let cases = [
        Case {
            name: "2.5 Flash, cached and thinking: 770 fresh × 0.30 + 11243 × 0.03 + 88 × 2.50",
            usage: usage(12013, 11243, 0, 15, 73),
            model_version: Some("gemini-2.5-flash"),
            requested: "gemini-2.5-flash",
            day: "2026-11-29",
            expected: Ok((788_290_000, "gemini-2.5-flash", false)),
        },
        Case {
            name: "priced by the model that answered, not the one asked for",
            usage: usage(1000, 0, 0, 1000, 0),
            model_version: Some("gemini-2.5-flash-lite"),
            requested: "gemini-2.5-pro",
            day: "2026-11-29",
            expected: Ok((100_000_000 + 400_000_000, "gemini-2.5-flash-lite", false)),
        },
        Case {
            name: "no modelVersion: the requested model",
            usage: usage(1000, 0, 0, 1000, 0),
            model_version: None,
            requested: "gemini-2.5-flash-lite",
            day: "2026-11-29",
            expected: Ok((500_000_000, "gemini-2.5-flash-lite", false)),
        },
        Case {
            name: "tool-use prompt tokens at the input rate",
            usage: usage(21, 0, 160, 96, 86),
            model_version: Some("gemini-2.5-flash"),
            requested: "gemini-2.5-flash",
            day: "2026-11-29",
            expected: Ok((181 * 300_000 + 182 * 2_500_000, "gemini-2.5-flash", false)),
        },
        Case {
            name: "2.5 Pro over 200k: long-context input, cached and output rates",
            usage: usage(250_000, 50_000, 0, 1000, 1000),
            model_version: Some("gemini-2.5-pro"),
            requested: "gemini-2.5-pro",
            day: "2026-11-29",
            expected: Ok((
                200_000 * 2_500_000 + 50_000 * 250_000 + 2000 * 15_000_000,
                "gemini-2.5-pro",
                true,
            )),
        },
        Case {
            name: "2.5 Pro at exactly 200k: base rates",
            usage: usage(200_000, 0, 0, 0, 0),
            model_version: Some("gemini-2.5-pro"),
            requested: "gemini-2.5-pro",
            day: "2026-11-29",
            expected: Ok((200_000 * 1_250_000, "gemini-2.5-pro", false)),
        },
        Case {
            name: "3.8 Flash on the last day of its old prices",
            usage: usage(1000, 0, 0, 1000, 0),
            model_version: Some("gemini-3.8-flash"),
            requested: "gemini-3.8-flash",
            day: "2026-12-31",
            expected: Ok((1000 * 750_000 + 1000 * 3_750_000, "gemini-3.8-flash", false)),
        },
        Case {
            name: "3.8 Flash after its announced price change",
            usage: usage(1000, 0, 0, 1000, 0),
            model_version: Some("gemini-3.8-flash"),
            requested: "gemini-3.8-flash",
            day: "2027-01-01",
            expected: Ok((
                1000 * 1_500_000 + 1000 * 7_500_000,
                "gemini-3.8-flash",
                false,
            )),
        },
        Case {
            name: "an alias is priced as its target",
            usage: usage(1000, 0, 0, 1000, 0),
            model_version: Some("gemini-flash-latest"),
            requested: "gemini-flash-latest",
            day: "2026-11-29",
            expected: Ok((1000 * 750_000 + 1000 * 3_750_000, "gemini-3.8-flash", false)),
        },
        Case {
            name: "2.5 Flash after its shutdown is billed as 3.5 Flash-Lite (routed)",
            usage: usage(1000, 0, 0, 1000, 0),
            model_version: Some("gemini-2.5-flash"),
            requested: "gemini-2.5-flash",
            day: "2026-12-02",
            expected: Ok((
                1000 * 300_000 + 1000 * 2_500_000,
                "gemini-3.5-flash-lite",
                false,
            )),
        },
        Case {
            name: "routed, with cached tokens the target has no cached rate for",
            usage: usage(12013, 11243, 0, 15, 73),
            model_version: Some("gemini-2.5-pro"),
            requested: "gemini-2.5-pro",
            day: "2026-12-01",
            expected: Err(Unpriced::NoCachedRate("gemini-3.8-flash".into())),
        },
        Case {
            name: "a model the catalog does not price",
            usage: usage(17, 0, 0, 0, 19),
            model_version: Some("gemini-2.0-flash-thinking-exp-01-21"),
            requested: "gemini-2.0-flash-thinking-exp-01-21",
            day: "2026-11-29",
            expected: Err(Unpriced::UnknownModel(
                "gemini-2.0-flash-thinking-exp-01-21".into(),
            )),
        },
        Case {
            name: "no model at all",
            usage: usage(1, 0, 0, 1, 0),
            model_version: None,
            requested: "",
            day: "2026-11-29",
            expected: Err(Unpriced::NoModel),
        },
    ];
    for case in cases {
        let actual = cost_of_call(
            &case.usage,
            case.model_version,
            case.requested,
            day(case.day),
        )
        .map(|cost| (cost.usd.picodollars(), cost.priced_as, cost.long_context));
        let expected = case
            .expected
            .map(|(picodollars, model, long)| (picodollars, model.to_owned(), long));
        assert_eq!(actual, expected, "{}", case.name);
    }
}

#[test]
fn totals_say_when_they_are_incomplete() {
    let day = day("2026-11-29");
    let priced = cost_of_call(
        &usage(1000, 0, 0, 1000, 0),
        None,
        "gemini-2.5-flash-lite",
        day,
    );
    let unpriced = cost_of_call(&usage(1, 0, 0, 1, 0), None, "no-such-model", day);
    let mut total = CostTotal::default();
    assert_eq!(total.to_string(), "$0.0000");
    total.add_call(&priced);
    assert_eq!(total.known(), Some(Usd::from_picodollars(500_000_000)));
    assert_eq!(total.to_string(), "$0.0005");
    total.add_call(&unpriced);
    assert_eq!(total.known(), None);
    assert_eq!(total.to_string(), "$0.0005 + 1 call(s) unpriced");
    let mut only_unpriced = CostTotal::default();
    only_unpriced.add_call(&unpriced);
    assert_eq!(only_unpriced.to_string(), "unknown");
    let sum: CostTotal = [total, only_unpriced].into_iter().sum();
    assert_eq!((sum.priced_calls, sum.unpriced_calls), (1, 2));
    assert_eq!(sum.price_table, Some(crate::catalog::reviewed_on()));
}

#[test]
fn a_batch_call_costs_half_and_says_so() {
    let used = usage(1_000_000, 0, 0, 1_000_000, 0);
    let on = day("2026-11-29");
    let standard = cost_of_call(&used, Some("gemini-2.5-flash-lite"), "", on).unwrap();
    let batch = cost_of_batch_call(&used, Some("gemini-2.5-flash-lite"), "", on).unwrap();
    assert!(standard.usd > Usd::ZERO && !standard.batch);
    assert!(batch.batch);
    assert_eq!(
        batch.usd.picodollars(),
        standard.usd.picodollars().div_ceil(2)
    );
    assert!(supports_batch("gemini-2.5-flash-lite"));
    assert!(supports_batch("models/gemini-2.5-flash-lite"));
    assert!(!supports_batch("no-such-model-xyz"));
}

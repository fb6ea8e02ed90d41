//! Plans: lenient parsing, strict validation with exact messages, graph
//! queries, plan files and dependency context.

use std::collections::HashMap;

use planner::{
    DependencyResult, Plan, PlanError, PlanParseError, Step, StepId, ValidationRules,
    dependency_context, parse_plan, plan_response_schema, validate,
};

const CLEAN: &str = r#"{
  "analysis": "two steps",
  "steps": [
    {"step_id": "step_1", "name": "Research", "description": "look", "agent_type": "research",
     "task": "find facts", "depends_on": []},
    {"step_id": "step_2", "name": "Write", "description": "write", "agent_type": "creative",
     "task": "write it up", "depends_on": ["step_1"]}
  ]
}"#;

fn rules() -> ValidationRules {
    ValidationRules {
        known_agent_types: ["code", "research", "analysis", "creative", "general"]
            .map(String::from)
            .to_vec(),
        max_steps: 5,
    }
}

fn step(id: &str, deps: &[&str]) -> Step {
    Step {
        id: id.into(),
        name: format!("Step {id}"),
        description: String::new(),
        agent_type: "general".into(),
        task: format!("do {id}"),
        depends_on: deps.iter().map(|d| StepId::from(*d)).collect(),
    }
}

fn plan(steps: Vec<Step>) -> Plan {
    Plan {
        analysis: String::new(),
        steps,
    }
}

fn error_of(steps: Vec<Step>) -> String {
    validate(&plan(steps), &rules())
        .expect_err("plan is invalid")
        .to_string()
}

fn ids(list: Vec<&StepId>) -> Vec<&str> {
    list.into_iter().map(StepId::as_str).collect()
}

// ---- parsing ----

#[test]
fn clean_json_parses_with_every_field() {
    let plan = parse_plan(CLEAN).expect("clean plan");
    assert_eq!(plan.analysis, "two steps");
    assert_eq!(plan.steps.len(), 2);
    let second = &plan.steps[1];
    assert_eq!(second.id.as_str(), "step_2");
    assert_eq!(second.name, "Write");
    assert_eq!(second.agent_type, "creative");
    assert_eq!(second.task, "write it up");
    assert_eq!(second.depends_on, [StepId::from("step_1")]);
}

#[test]
fn fenced_and_prose_wrapped_replies_parse() {
    let expected = parse_plan(CLEAN).expect("clean plan");
    let replies = [
        format!("```json\n{CLEAN}\n```"),
        format!("Here you go:\n```\n{CLEAN}\n```\nGood luck!"),
        format!("I thought about it {{briefly}}. The plan: {CLEAN} Let me know [if] needed."),
        format!("Sure! {CLEAN}"),
        // An unclosed fence, as when a reply is cut short after the JSON.
        format!("```json\n{CLEAN}\n"),
    ];
    for reply in replies {
        assert_eq!(parse_plan(&reply).as_ref(), Ok(&expected), "{reply}");
    }
}

#[test]
fn braces_inside_strings_do_not_confuse_the_scan() {
    let reply = r#"Plan follows. {"analysis": "use } and { and \" freely", "steps": [
        {"step_id": "a", "agent_type": "code", "task": "print \"}\""}]} done"#;
    let plan = parse_plan(reply).expect("plan");
    assert_eq!(plan.analysis, "use } and { and \" freely");
    assert_eq!(plan.steps[0].task, "print \"}\"");
}

#[test]
fn a_bare_array_of_steps_is_a_plan() {
    let plan =
        parse_plan(r#"[{"step_id": "a", "agent_type": "code", "task": "x"}]"#).expect("bare array");
    assert_eq!(plan.analysis, "");
    assert_eq!(plan.steps[0].id.as_str(), "a");
}

#[test]
fn aliases_and_loose_dependency_forms_are_accepted() {
    let plan = parse_plan(
        r#"{"steps": [
        {"id": 1, "agent_type": "code", "task": "x"},
        {"id": "2", "agent_type": "code", "task": "y", "dependencies": 1},
        {"step_id": "3", "agent_type": "code", "task": "z", "depends_on": "1, 2"},
        {"step_id": "4", "agent_type": "code", "task": "w", "depends_on": null},
        {"step_id": "5", "agent_type": "code", "task": "v", "depends_on": [1, "step_9"]}
    ]}"#,
    )
    .expect("lenient plan");
    let deps: Vec<Vec<&str>> = plan
        .steps
        .iter()
        .map(|s| s.depends_on.iter().map(StepId::as_str).collect())
        .collect();
    assert_eq!(plan.steps[0].id.as_str(), "1");
    // Ids are kept as written: 1 is "1", never rewritten to "step_1".
    assert_eq!(
        deps,
        [
            vec![],
            vec!["1"],
            vec!["1", "2"],
            vec![],
            vec!["1", "step_9"]
        ]
    );
}

#[test]
fn garbage_is_a_clear_error() {
    let err = parse_plan("I am sorry, I cannot plan that. Maybe [later].").expect_err("no plan");
    assert_eq!(
        err.to_string(),
        "the planner's reply holds no JSON plan (first 80 chars: I am sorry, I cannot plan that. Maybe [later].)"
    );
    let long = format!("{}\nmore", "x".repeat(100));
    assert_eq!(
        parse_plan(&long).expect_err("no plan"),
        PlanParseError::NoJson {
            preview: format!("{}…", "x".repeat(80))
        }
    );
}

#[test]
fn json_that_is_not_a_plan_says_why() {
    let err = parse_plan(r#"{"steps": [{"step_id": "a", "agent_type": "code"}]}"#)
        .expect_err("task missing");
    let message = err.to_string();
    assert!(
        message.starts_with("the planner's reply has JSON but not a plan: missing field `task`"),
        "{message}"
    );
}

// ---- validation messages ----

#[test]
fn every_plan_error_has_its_exact_message() {
    assert_eq!(
        error_of(vec![]),
        "the plan has no steps; a plan needs at least one step"
    );
    assert_eq!(
        error_of((0..7).map(|i| step(&format!("s{i}"), &[])).collect()),
        "the plan has 7 steps but at most 5 are allowed; merge steps or raise the step limit"
    );
    assert_eq!(
        error_of(vec![step("a", &[]), step("", &[])]),
        "step number 2 has no step_id; give every step a unique id"
    );
    assert_eq!(
        error_of(vec![step("a", &[]), step("b", &[]), step("a", &[])]),
        "two steps share the id a; give every step a unique step_id"
    );
    let mut empty_task = step("b", &[]);
    empty_task.task = "  ".into();
    assert_eq!(
        error_of(vec![step("a", &[]), empty_task]),
        "step b has an empty task; say what the step should do"
    );
    let mut wizard = step("w", &[]);
    wizard.agent_type = "wizard".into();
    assert_eq!(
        error_of(vec![wizard]),
        "step w asks for agent type \"wizard\", which does not exist; use one of: code, research, analysis, creative, general"
    );
    assert_eq!(
        error_of(vec![step("a", &["a"])]),
        "step a depends on itself; remove a from its depends_on"
    );
    assert_eq!(
        error_of(vec![step("a", &[]), step("b", &["a", "step_9"])]),
        "step b depends on step_9, which is not in the plan; fix its depends_on"
    );
    assert_eq!(
        error_of(vec![
            step("step_1", &[]),
            step("step_2", &["step_1", "step_3"]),
            step("step_3", &["step_2"]),
        ]),
        "the steps depend on each other in a cycle: step_2 → step_3 → step_2 (each depends on the next); remove one of these dependencies"
    );
}

#[test]
fn the_cycle_is_named_from_its_earliest_step() {
    let err = validate(
        &plan(vec![
            step("a", &[]),
            step("b", &["d"]),
            step("c", &["b"]),
            step("d", &["c"]),
        ]),
        &rules(),
    )
    .expect_err("cycle");
    assert_eq!(
        err,
        PlanError::Cycle(["b", "d", "c", "b"].map(StepId::from).to_vec())
    );
}

#[test]
fn the_first_problem_in_plan_order_is_reported() {
    // An unknown dependency in step 1 and a duplicate id later: per-step
    // checks (ids, tasks, types) come before dependency checks.
    let mut bad = step("a", &["zzz"]);
    bad.agent_type = "wizard".into();
    assert!(matches!(
        validate(&plan(vec![bad, step("b", &[])]), &rules()),
        Err(PlanError::UnknownAgentType { .. })
    ));
}

#[test]
fn an_empty_agent_type_list_accepts_any_type() {
    let mut odd = step("a", &[]);
    odd.agent_type = "anything".into();
    let rules = ValidationRules {
        known_agent_types: vec![],
        max_steps: 1,
    };
    assert!(validate(&plan(vec![odd]), &rules).is_ok());
}

// ---- graph queries ----

#[test]
fn graph_queries_answer_in_plan_order() {
    // a → b → d, a → c → d, e alone; listed out of order on purpose.
    let valid = validate(
        &plan(vec![
            step("d", &["c", "b"]),
            step("b", &["a"]),
            step("e", &[]),
            step("c", &["a", "a"]),
            step("a", &[]),
        ]),
        &rules(),
    )
    .expect("valid");
    assert_eq!(ids(valid.topological_order()), ["e", "a", "b", "c", "d"]);
    assert_eq!(ids(valid.dependencies(&"d".into())), ["b", "c"]);
    assert_eq!(ids(valid.dependents(&"a".into())), ["b", "c"]);
    assert_eq!(ids(valid.descendants(&"a".into())), ["d", "b", "c"]);
    assert!(valid.descendants(&"nope".into()).is_empty());

    let weights: HashMap<StepId, u64> = [("b", 10), ("c", 3)]
        .map(|(id, w)| (StepId::from(id), w))
        .into();
    // a(1) + b(10) + d(1)
    assert_eq!(valid.critical_path_len(&weights), 12);
    assert_eq!(valid.critical_path_len(&HashMap::new()), 3);
    let remaining = valid.remaining_critical_paths(&weights);
    assert_eq!(remaining[&StepId::from("a")], 12);
    assert_eq!(remaining[&StepId::from("c")], 4);
    assert_eq!(remaining[&StepId::from("e")], 1);

    let rows = valid.tree();
    let tree: Vec<(String, Vec<&str>)> = rows
        .iter()
        .map(|row| {
            (
                row.name.clone(),
                row.depends_on.iter().map(StepId::as_str).collect(),
            )
        })
        .collect();
    let expected: Vec<(String, Vec<&str>)> = vec![
        ("Step e".into(), vec![]),
        ("Step a".into(), vec![]),
        ("Step b".into(), vec!["a"]),
        ("Step c".into(), vec!["a"]),
        ("Step d".into(), vec!["b", "c"]),
    ];
    assert_eq!(tree, expected);
}

// ---- plan files and schema ----

#[test]
fn plans_round_trip_through_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("plan.json");
    let original = parse_plan(CLEAN).expect("plan");
    original.save(&path).expect("save");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("\"step_id\": \"step_1\""), "{text}");
    assert!(text.contains("\"depends_on\": [\n"), "{text}");
    assert_eq!(Plan::from_file(&path).expect("load"), original);
    assert_eq!(original.to_json_pretty() + "\n", text);
}

#[test]
fn bad_plan_files_name_the_path() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.json");
    let err = Plan::from_file(&missing).expect_err("missing").to_string();
    assert!(
        err.starts_with(&format!("cannot read the plan file {}", missing.display())),
        "{err}"
    );
    assert!(err.ends_with("; check the path"), "{err}");

    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, "{\"steps\": [").expect("write");
    let err = Plan::from_file(&broken).expect_err("broken").to_string();
    assert!(
        err.starts_with(&format!(
            "the plan file {} is not a valid plan: ",
            broken.display()
        )),
        "{err}"
    );
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn the_response_schema_requires_every_step_field_in_order() {
    let schema = plan_response_schema();
    assert_eq!(schema["type"], "OBJECT");
    assert_eq!(schema["required"], serde_json::json!(["analysis", "steps"]));
    assert_eq!(
        schema["propertyOrdering"],
        serde_json::json!(["analysis", "steps"])
    );
    let items = &schema["properties"]["steps"]["items"];
    assert_eq!(schema["properties"]["steps"]["type"], "ARRAY");
    let fields = serde_json::json!([
        "step_id",
        "name",
        "description",
        "agent_type",
        "task",
        "depends_on"
    ]);
    assert_eq!(items["required"], fields);
    assert_eq!(items["propertyOrdering"], fields);
    assert_eq!(items["properties"]["depends_on"]["items"]["type"], "STRING");
    for field in fields.as_array().expect("array") {
        let name = field.as_str().expect("string");
        assert!(items["properties"][name]["type"].is_string(), "{name}");
    }
}

// ---- dependency context ----

#[test]
fn dependency_context_cuts_long_results_and_says_so() {
    let results = [
        DependencyResult {
            id: "step_1".into(),
            name: "Research".into(),
            text: "é".repeat(9120),
        },
        DependencyResult {
            id: "step_2".into(),
            name: String::new(),
            text: "short\n".into(),
        },
    ];
    let context = dependency_context(&results, 4000);
    let expected = format!(
        "### Result of step_1 (Research)\n{}\n[result of step_1 cut at 4000 of 9120 characters]\n\n### Result of step_2\nshort\n",
        "é".repeat(4000)
    );
    assert_eq!(context, expected);
    assert_eq!(
        dependency_context(&results[1..], 5),
        "### Result of step_2\nshort\n",
        "a result exactly at the cap (trailing whitespace aside) is not cut"
    );
}

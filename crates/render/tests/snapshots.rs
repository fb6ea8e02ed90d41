//! Snapshots of every renderer, colour off, 80 columns: the reviewed look of
//! agent-fork's terminal output.

use std::time::Duration;

use insta::assert_snapshot;
use render::{
    Panel, ProgressBoard, ProgressItem, Status, Theme, TreeItem, UsageLine, key_value, markdown,
    plain_event_line, retry_line, rule, status_line, tree, usage_line,
};

const WIDTH: usize = 80;

fn theme() -> Theme {
    Theme::plain(WIDTH)
}

/// Every markdown element the renderer knows.
const DOCUMENT: &str = r#"# Comprehensive Summary: Simple User Authentication System

This project designed a **simple**, *robust* authentication system for a web API
using `FastAPI`. See the [FastAPI docs](https://fastapi.tiangolo.com) or
<https://example.com/auth>. Some ~~old~~ text, and a line ending in a hard break  
right here.

## 1. Synthesis of Work Done

### Data models

- **Project Initialization**: a new project with a clear structure (`auth.py`, `db.py`, `main.py`, `models.py`) and pinned dependencies.
- Data models:
  - `UserCreate`: receives registration data.
  - `User`: for API responses.
    1. nested numbered one
    2. nested numbered two
- [x] a finished task
- [ ] an open task

1. Assess readiness.
2. Invest in tooling.
3. Prioritise communication.
4. Embrace new patterns.
5. Focus on bounded contexts.
6. Six.
7. Seven.
8. Eight.
9. Nine.
10. Ten, so the markers line up.

```python
import functools
def retry(max_retries: int = 3, initial_delay: float = 1.0, backoff_factor: float = 2.0, exceptions=(Exception,)):
	return decorator  # a tab before this line
```

    indented code block

> A quoted remark that is long enough to wrap onto a second line inside the quote bar, to show the bar repeats.
>
> - a list inside the quote

---

| Endpoint | Method | Auth | Notes |
|:---------|:------:|-----:|-------|
| `/register` | POST | no | Creates a user and returns it without the password hash. |
| `/token` | POST | no | Returns a JWT. |
| `/users/me` | GET | yes | Needs a bearer token. |

#### A fourth-level heading

![diagram](https://example.com/diagram.png)
"#;

#[test]
fn fork_panel() {
    let theme = theme();
    let body = [
        "Forking to general agent".to_owned(),
        key_value("Model", "gemini-2.5-flash", &theme),
        key_value(
            "Task",
            "Explain the difference between async and threading in Python in 3 sentences. Keep it short and clear for a beginner....",
            &theme,
        ),
    ]
    .join("\n");
    let panel = Panel::new(body)
        .title("🔀 Fork fork_095723_001")
        .render(&theme);
    assert_snapshot!(panel);
}

#[test]
fn swarm_and_plan_panels() {
    let theme = theme();
    let swarm =
        Panel::new("Spawning agent swarm\nTasks: 3\nAgent Type: analysis\nMax Concurrent: 3")
            .title("🐝 Swarm swarm_103008")
            .render(&theme);
    let plan = Panel::new(
        "Goal: Design a simple user authentication system for a web API\nPlanning up to 4 steps...",
    )
    .title("🎯 Plan & Execute: wf_103207_001")
    .render(&theme);
    let untitled = Panel::new("Example: Basic Agent Fork").render(&theme);
    assert_snapshot!(format!("{swarm}\n{plan}\n{untitled}"));
}

#[test]
fn markdown_panel() {
    let answer = "Threading uses multiple OS threads; **asyncio** uses one thread and an event loop.\n\n## Example\n\n```python\nasync def main():\n    await asyncio.gather(fetch_data_from_flaky_api(), permanent_failure(), another_really_long_call())\n```\n\n- I/O-bound: prefer `async`\n- CPU-bound: prefer processes";
    let panel = Panel::markdown(answer).title("Response").render(&theme());
    assert_snapshot!(panel);
}

#[test]
fn markdown_document() {
    assert_snapshot!(markdown(DOCUMENT, WIDTH, &theme()));
}

#[test]
fn markdown_document_narrow() {
    assert_snapshot!(markdown(DOCUMENT, 44, &theme()));
}

#[test]
fn plan_tree() {
    let items = [
        TreeItem::new("Project Setup & User Utilities"),
        TreeItem::new("Implement Login Endpoint").with_note("depends: step_1"),
        TreeItem::new("Implement Protected Route").with_note("depends: step_2"),
        TreeItem::new("Implement User Registration")
            .with_note("depends: step_1")
            .with_children(vec![
                TreeItem::new("Validate input"),
                TreeItem::new("Hash the password before storing it in the fake users database, which is a long label that wraps")
                    .with_note("depends: step_1, step_4"),
            ]),
    ];
    assert_snapshot!(tree("Plan: wf_103207_001", &items, &theme()));
}

#[test]
fn status_and_key_value_lines() {
    let theme = theme();
    let lines = [
        rule("Running: basic_fork", &theme),
        status_line(Status::Ok, "Project Setup & User Utilities", &theme),
        status_line(Status::Failed, "Implement Login Endpoint", &theme),
        status_line(Status::Skipped, "Implement Protected Route", &theme),
        status_line(Status::Running, "Implement User Registration", &theme),
        status_line(Status::Cancelled, "Write docs", &theme),
        status_line(Status::Pending, "Deploy", &theme),
        key_value("Workflow Status", "completed", &theme),
        key_value("Steps", "4", &theme),
        rule("", &theme),
    ];
    assert_snapshot!(lines.join("\n"));
}

#[test]
fn usage_lines() {
    let theme = theme();
    let usage = UsageLine {
        prompt: 1_234,
        output: 567,
        thinking: 2_492,
        cached: 0,
        tool_use: 0,
        total: 4_293,
        cost: None,
        elapsed: Duration::from_millis(3_210),
    };
    let with_tools = UsageLine {
        prompt: 1_048_576,
        tool_use: 312,
        total: 1_050_000,
        cost: Some("$1.2345 + 1 call(s) unpriced".to_owned()),
        elapsed: Duration::from_secs(125),
        ..usage.clone()
    };
    // At 80 columns both lines break between parts; at 120 they fit.
    let wide = Theme::plain(120);
    assert_snapshot!(
        [
            usage_line(&usage, &theme),
            usage_line(&with_tools, &theme),
            usage_line(&usage, &wide),
            usage_line(&with_tools, &wide),
        ]
        .join("\n")
    );
}

fn step(id: &str, name: &str, status: Status, millis: u64) -> ProgressItem {
    ProgressItem::new(id, name, status).with_elapsed(Duration::from_millis(millis))
}

#[test]
fn progress_frames() {
    let theme = theme();
    let mut board = ProgressBoard::new("🎯 Plan & Execute: wf_103207_001", 4);
    let mut frames = vec![board.frame(Duration::ZERO, &theme)];

    board.update(step(
        "step_1",
        "Project Setup & User Utilities",
        Status::Running,
        200,
    ));
    frames.push(board.frame(Duration::from_millis(250), &theme));

    board.update(step(
        "step_1",
        "Project Setup & User Utilities",
        Status::Ok,
        1_400,
    ));
    board.update(step(
        "step_2",
        "Implement Login Endpoint",
        Status::Running,
        300,
    ));
    board.update(step(
        "step_4",
        "Implement User Registration",
        Status::Running,
        300,
    ));
    frames.push(board.frame(Duration::from_millis(1_700), &theme));

    board.update(step(
        "step_2",
        "Implement Login Endpoint",
        Status::Failed,
        2_100,
    ));
    board.update(step(
        "step_3",
        "Implement Protected Route",
        Status::Skipped,
        0,
    ));
    board.update(step(
        "step_4",
        "Implement User Registration",
        Status::Ok,
        2_600,
    ));
    frames.push(board.frame(Duration::from_millis(4_300), &theme));

    assert_snapshot!(frames.join("\n\n"));
}

#[test]
fn progress_frame_with_many_running() {
    let mut board = ProgressBoard::new("🐝 Swarm swarm_103008", 12);
    for index in 1..=10 {
        board.update(step(
            &format!("task_{index}"),
            "Summarise one chapter of the report with a name long enough to be cut",
            Status::Running,
            index * 1_000,
        ));
    }
    board.update(step("task_11", "Done early", Status::Ok, 900));
    assert_snapshot!(board.frame(Duration::from_secs(75), &theme()));
}

#[test]
fn plain_event_and_retry_lines() {
    let theme = theme();
    let lines = [
        plain_event_line(
            Duration::from_millis(100),
            &ProgressItem::new("step_1", "Project Setup & User Utilities", Status::Running),
            &theme,
        ),
        plain_event_line(
            Duration::from_millis(1_500),
            &step(
                "step_1",
                "Project Setup & User Utilities",
                Status::Ok,
                1_400,
            ),
            &theme,
        ),
        retry_line(2, Duration::from_secs(13), "429 RESOURCE_EXHAUSTED", &theme),
        retry_line(
            3,
            Duration::from_millis(26_400),
            "503 UNAVAILABLE: the model is overloaded",
            &theme,
        ),
        plain_event_line(
            Duration::from_millis(3_200),
            &step("step_2", "Implement Login Endpoint", Status::Failed, 1_400),
            &theme,
        ),
        plain_event_line(
            Duration::from_secs(3_725),
            &step(
                "step_3",
                "Implement Protected Route",
                Status::Cancelled,
                125_000,
            ),
            &theme,
        ),
    ];
    assert_snapshot!(lines.join("\n"));
}

//! The two drawings of a run: the plan's DAG and the timeline, as inline SVG.
//!
//! Every text in them is escaped ([`escape`]); positions come from the
//! journal's times and the plan's shape, never from text someone wrote.

use std::fmt::Write as _;

use petgraph::algo::toposort;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::escape::escape;
use crate::model::{AttemptEnd, Instant, RunView, UnitStatus};

const NODE_W: i64 = 170;
const NODE_H: i64 = 46;
const GAP_X: i64 = 60;
const GAP_Y: i64 = 18;
const MARGIN: i64 = 10;

/// Cuts `text` to `max` characters with an ellipsis.
fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

/// The plan's layers and critical path, from petgraph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Each unit's layer (0 = no dependencies).
    pub(crate) layer: Vec<usize>,
    /// Whether each unit is on the critical path.
    pub(crate) critical: Vec<bool>,
}

/// Layers each step by its longest chain of dependencies and finds the
/// critical path: the chain with the most time spent (each step's busy
/// time, at least 1 ms so an unrun plan still has one). A plan with a cycle
/// (a journal never holds one; the planner refuses them) is drawn in one
/// layer without a critical path.
pub(crate) fn layout(view: &RunView) -> Layout {
    let count = view.units.len();
    let mut graph: DiGraph<usize, ()> = DiGraph::with_capacity(count, view.edges.len());
    let nodes: Vec<NodeIndex> = (0..count).map(|index| graph.add_node(index)).collect();
    for &(from, to) in &view.edges {
        graph.add_edge(nodes[from], nodes[to], ());
    }
    let mut layer = vec![0; count];
    let mut critical = vec![false; count];
    let Ok(order) = toposort(&graph, None) else {
        return Layout { layer, critical };
    };
    let until = view.last.unwrap_or_default();
    let weight: Vec<i64> = view
        .units
        .iter()
        .map(|unit| unit.busy_ms(until).max(1))
        .collect();
    // Longest chain ending at each node: by steps (layers) and by time.
    let mut best: Vec<i64> = weight.clone();
    let mut via: Vec<Option<usize>> = vec![None; count];
    for node in &order {
        let index = graph[*node];
        for next in graph.neighbors(*node) {
            let next = graph[next];
            layer[next] = layer[next].max(layer[index] + 1);
            if best[index] + weight[next] > best[next] {
                best[next] = best[index] + weight[next];
                via[next] = Some(index);
            }
        }
    }
    if let Some(mut at) = (0..count).max_by_key(|&index| (best[index], std::cmp::Reverse(index))) {
        loop {
            critical[at] = true;
            match via[at] {
                Some(previous) => at = previous,
                None => break,
            }
        }
    }
    Layout { layer, critical }
}

/// The plan as a layered DAG: one box per step, coloured by status, an
/// arrow per dependency, the critical path drawn heavier.
pub(crate) fn dag(view: &RunView) -> String {
    let layout = layout(view);
    let layers = layout.layer.iter().max().map_or(0, |max| max + 1);
    let mut rows = vec![0_i64; layers];
    let mut position = vec![(0_i64, 0_i64); view.units.len()];
    for (index, &layer) in layout.layer.iter().enumerate() {
        let x = MARGIN + layer as i64 * (NODE_W + GAP_X);
        let y = MARGIN + rows[layer] * (NODE_H + GAP_Y);
        rows[layer] += 1;
        position[index] = (x, y);
    }
    let width = MARGIN * 2 + layers as i64 * (NODE_W + GAP_X) - GAP_X;
    let height = MARGIN * 2 + rows.iter().max().copied().unwrap_or(0) * (NODE_H + GAP_Y) - GAP_Y;
    let mut svg = format!(
        "<svg class=\"dag\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"plan graph\">\n\
         <defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerUnits=\"userSpaceOnUse\" markerWidth=\"9\" markerHeight=\"9\" orient=\"auto\"><path d=\"M0,0L10,5L0,10z\" class=\"arrowhead\"/></marker></defs>\n",
        w = width.max(1),
        h = height.max(1)
    );
    for &(from, to) in &view.edges {
        let (x1, y1) = position[from];
        let (x2, y2) = position[to];
        let (x1, y1) = (x1 + NODE_W, y1 + NODE_H / 2);
        let y2 = y2 + NODE_H / 2;
        let middle = (x1 + x2) / 2;
        let class = if layout.critical[from] && layout.critical[to] {
            "edge critical"
        } else {
            "edge"
        };
        let _ = writeln!(
            svg,
            "<path class=\"{class}\" d=\"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}\" marker-end=\"url(#arrow)\"/>"
        );
    }
    for (index, unit) in view.units.iter().enumerate() {
        let (x, y) = position[index];
        let critical = if layout.critical[index] {
            " critical"
        } else {
            ""
        };
        let title = if unit.name.is_empty() {
            &unit.task
        } else {
            &unit.name
        };
        let _ = writeln!(
            svg,
            "<a href=\"#u-{index}\"><g class=\"node s-{status}{critical}\" id=\"n-{index}\">\
             <title>{label}: {status}</title>\
             <rect x=\"{x}\" y=\"{y}\" width=\"{NODE_W}\" height=\"{NODE_H}\" rx=\"6\"/>\
             <text x=\"{tx}\" y=\"{ty1}\" class=\"id\">{id}</text>\
             <text x=\"{tx}\" y=\"{ty2}\" class=\"name\">{name}</text></g></a>",
            status = unit.status.as_str(),
            label = escape(&unit.label),
            tx = x + 8,
            ty1 = y + 18,
            ty2 = y + 36,
            id = escape(&short(&unit.label, 22)),
            name = escape(&short(title, 24)),
        );
    }
    svg.push_str("</svg>");
    svg
}

const LABEL_W: i64 = 150;
const PLOT_W: i64 = 720;
const ROW_H: i64 = 22;
const LOAD_H: i64 = 60;

/// The timeline: a row per step or item with its queued time, each
/// attempt, and the delay before each retry; below it, how many were
/// running at each moment against the concurrency limit.
pub(crate) fn timeline(view: &RunView) -> String {
    let (Some(start), Some(last)) = (view.start, view.last) else {
        return String::new();
    };
    let span = (last - start).num_milliseconds().max(1);
    let x_of = |at: Instant| -> i64 {
        LABEL_W + ((at - start).num_milliseconds().clamp(0, span) * PLOT_W) / span
    };
    let rows = view.units.len() as i64;
    let load_top = MARGIN + rows * ROW_H + 30;
    let height = load_top + LOAD_H + 30;
    let width = LABEL_W + PLOT_W + MARGIN * 2;
    let mut svg = format!(
        "<svg class=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"timeline\">\n"
    );
    for (index, unit) in view.units.iter().enumerate() {
        let y = MARGIN + index as i64 * ROW_H;
        let _ = writeln!(
            svg,
            "<a href=\"#u-{index}\"><text class=\"row-label\" x=\"{lx}\" y=\"{ty}\">{label}</text></a>",
            lx = LABEL_W - 6,
            ty = y + 15,
            label = escape(&short(&unit.label, 20))
        );
        let mut bar = |from: Instant, to: Instant, class: &str, title: String| {
            let x = x_of(from);
            let w = (x_of(to) - x).max(2);
            let _ = writeln!(
                svg,
                "<rect class=\"bar {class}\" x=\"{x}\" y=\"{by}\" width=\"{w}\" height=\"{bh}\"><title>{title}</title></rect>",
                by = y + 3,
                bh = ROW_H - 6,
            );
        };
        if let (Some(ready), Some(first)) = (unit.ready, unit.attempts.first()) {
            if first.start > ready {
                bar(ready, first.start, "queued", "queued".to_owned());
            }
        }
        let mut previous_end: Option<Instant> = None;
        for attempt in &unit.attempts {
            if let Some(end) = previous_end.filter(|end| *end < attempt.start) {
                bar(end, attempt.start, "delay", "retry delay".to_owned());
            }
            let end = attempt.end.unwrap_or(last);
            let (class, what) = match &attempt.outcome {
                AttemptEnd::Open
                    if view.state.is_unfinished() && unit.status != UnitStatus::Interrupted =>
                {
                    ("s-running", "running".to_owned())
                }
                AttemptEnd::Open => ("s-interrupted", "stopped".to_owned()),
                AttemptEnd::Retried(error) => (
                    "s-retrying",
                    format!("failed, retried: {}", escape(&short(error, 200))),
                ),
                AttemptEnd::Completed => ("s-completed", "completed".to_owned()),
                AttemptEnd::Failed(_) if unit.status == UnitStatus::Interrupted => {
                    ("s-interrupted", "stopped".to_owned())
                }
                AttemptEnd::Failed(error) => (
                    "s-failed",
                    format!("failed: {}", escape(&short(error, 200))),
                ),
            };
            let ms = (end - attempt.start).num_milliseconds();
            bar(
                attempt.start,
                end,
                class,
                format!("attempt {}: {what} ({ms} ms)", attempt.number),
            );
            previous_end = attempt.end;
        }
    }
    // The load: running attempts over time, against the limit.
    let mut changes: Vec<(Instant, i64)> = Vec::new();
    for unit in &view.units {
        for attempt in &unit.attempts {
            changes.push((attempt.start, 1));
            changes.push((attempt.end.unwrap_or(last), -1));
        }
    }
    // At one instant, starts before ends: the count never dips below zero.
    changes.sort_by_key(|&(at, change)| (at, std::cmp::Reverse(change)));
    let peak_scale = changes
        .iter()
        .scan(0, |running, (_, change)| {
            *running += change;
            Some(*running)
        })
        .max()
        .unwrap_or(0)
        .max(view.concurrency.unwrap_or(0) as i64)
        .max(1);
    let y_of = |running: i64| load_top + LOAD_H - running * LOAD_H / peak_scale;
    let mut running = 0;
    let mut points = format!("{},{}", LABEL_W, y_of(0));
    for (at, change) in &changes {
        let x = x_of(*at);
        let _ = write!(points, " {x},{}", y_of(running));
        running += change;
        let _ = write!(points, " {x},{}", y_of(running));
    }
    let _ = write!(points, " {},{}", LABEL_W + PLOT_W, y_of(running));
    let _ = writeln!(
        svg,
        "<text class=\"row-label\" x=\"{lx}\" y=\"{ly}\">running</text>\
         <rect class=\"load-frame\" x=\"{LABEL_W}\" y=\"{load_top}\" width=\"{PLOT_W}\" height=\"{LOAD_H}\"/>\
         <polyline class=\"load\" points=\"{points}\"/>",
        lx = LABEL_W - 6,
        ly = load_top + LOAD_H / 2,
    );
    if let Some(limit) = view.concurrency {
        let y = y_of(limit as i64);
        let _ = writeln!(
            svg,
            "<line class=\"limit\" x1=\"{LABEL_W}\" x2=\"{x2}\" y1=\"{y}\" y2=\"{y}\"/>\
             <text class=\"limit-label\" x=\"{x2}\" y=\"{ty}\">concurrency limit {limit}</text>",
            x2 = LABEL_W + PLOT_W,
            ty = y - 3,
        );
    }
    let _ = writeln!(
        svg,
        "<text class=\"axis\" x=\"{LABEL_W}\" y=\"{ay}\">0 s</text><text class=\"axis end\" x=\"{ax}\" y=\"{ay}\">{secs:.1} s</text>",
        ay = height - 8,
        ax = LABEL_W + PLOT_W,
        secs = span as f64 / 1000.0
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attempt, Unit};

    fn unit(label: &str, busy_ms: i64) -> Unit {
        let start = Instant::default();
        let mut unit = RunView::test_unit(label);
        unit.attempts.push(Attempt {
            number: 1,
            start,
            end: Some(start + chrono::Duration::milliseconds(busy_ms)),
            outcome: AttemptEnd::Completed,
        });
        unit
    }

    fn view(units: Vec<Unit>, edges: Vec<(usize, usize)>) -> RunView {
        let mut view = RunView::test_empty();
        view.units = units;
        view.edges = edges;
        view
    }

    #[test]
    fn a_diamond_is_three_layers_and_the_slow_side_is_critical() {
        // a → b (slow) → d, a → c (fast) → d
        let diamond = view(
            vec![unit("a", 10), unit("b", 500), unit("c", 20), unit("d", 10)],
            vec![(0, 1), (0, 2), (1, 3), (2, 3)],
        );
        let layout = layout(&diamond);
        assert_eq!(layout.layer, [0, 1, 1, 2]);
        assert_eq!(layout.critical, [true, true, false, true]);
    }

    #[test]
    fn a_long_chain_beats_a_short_one_and_a_cycle_is_drawn_flat() {
        let chains = view(
            vec![unit("a", 10), unit("b", 10), unit("c", 10), unit("x", 25)],
            vec![(0, 1), (1, 2)],
        );
        let drawn = layout(&chains);
        assert_eq!(drawn.layer, [0, 1, 2, 0]);
        assert_eq!(drawn.critical, [true, true, true, false]);
        let cycle = view(vec![unit("a", 1), unit("b", 1)], vec![(0, 1), (1, 0)]);
        let drawn = layout(&cycle);
        assert_eq!(drawn.layer, [0, 0]);
        assert_eq!(drawn.critical, [false, false]);
    }
}

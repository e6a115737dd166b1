//! The Chinese one-line helpers of the report: why an obligation has its status, its deadline,
//! its controls and measured figures. The bilingual HTML shows each beside its English twin in
//! [`super`], so that a regulator reading only Chinese misses nothing (issue 19 item 10).
//! Fact paths, ids and figures stay as they are: they are the same in both languages.

use crate::assess::{MeasureOutcome, ObligationResult, Status};
use crate::model::DeadlineUnit;

/// Why an obligation has its status, in Chinese.
pub fn why_zh(result: &ObligationResult) -> String {
    if let Some(force) = &result.force {
        let date = force.date.map(|d| d.to_string()).unwrap_or_default();
        return if force.state == "not_yet" {
            format!("`{}` 尚未生效（自 {date} 起施行）", force.instrument)
        } else {
            format!("`{}` 已失效（施行至 {date}）", force.instrument)
        };
    }
    if result.status == Status::Unknown {
        let needs: Vec<String> = result.needs.iter().map(|n| format!("`{n}`")).collect();
        return format!("尚需事实：{}", needs.join("、"));
    }
    if result.atoms.is_empty() {
        return "始终适用".to_string();
    }
    let decided = match result.status {
        Status::Applicable => "适用依据",
        _ => "不适用依据",
    };
    let atoms: Vec<String> = result
        .atoms
        .iter()
        .map(|atom| format!("`{}` = {}", atom.text, atom.value))
        .collect();
    format!("{decided}：{}", atoms.join("；"))
}

fn unit_zh(unit: DeadlineUnit) -> &'static str {
    match unit {
        DeadlineUnit::WorkingDays => "个工作日",
        DeadlineUnit::Days => "日",
        DeadlineUnit::Months => "个月",
    }
}

/// A deadline's problem in Chinese (the English text kept for what it names).
fn problem_zh(problem: &str) -> String {
    if let Some(fact) = problem.strip_prefix("needs ") {
        format!("尚需 {fact}")
    } else if problem.contains("not published") {
        format!("国务院节假日安排尚未公布（{problem}）")
    } else {
        problem.to_string()
    }
}

/// The deadline in Chinese: `2026-03-05 未到期（`service.launch_date` 后 10 个工作日）`.
pub fn deadline_zh(result: &ObligationResult) -> String {
    let Some(deadline) = &result.deadline else {
        return String::new();
    };
    let anchor = &deadline.anchor;
    let rule = match (deadline.before, deadline.amount, deadline.unit) {
        (true, Some(1), _) => format!("`{anchor}` 前一日"),
        (true, Some(n), _) => format!("`{anchor}` 前 {n} 日"),
        (true, None, _) => format!("`{anchor}` 之前"),
        (false, Some(amount), Some(unit)) => format!("`{anchor}` 后 {amount} {}", unit_zh(unit)),
        (false, _, _) => format!("`{anchor}` 之后"),
    };
    let state = deadline
        .state
        .map(|s| format!(" {}", s.label_zh()))
        .unwrap_or_default();
    match (deadline.due, &deadline.problem) {
        (Some(due), _) if deadline.caveat.is_some() => {
            format!("{due}{state}（{rule}；暂定日期：该年节假日安排尚未公布，以公布后为准）")
        }
        (Some(due), _) => format!("{due}{state}（{rule}）"),
        (None, Some(problem)) => match deadline.provisional {
            Some(provisional) => format!(
                "无法确定：{}；暂定 {provisional}（仅扣除周末，节假日安排未公布）（{rule}）",
                problem_zh(problem)
            ),
            None => format!("无法计算：{}（{rule}）", problem_zh(problem)),
        },
        (None, None) => rule,
    }
}

/// The controls in Chinese: `gateway.output_guard ✓`, `(计划中)` for a planned control.
pub fn controls_zh(result: &ObligationResult) -> String {
    result
        .controls
        .iter()
        .map(|c| match (c.planned, c.in_use) {
            (true, _) => format!("{}（计划中，尚未实现）", c.id),
            (false, true) => format!("{} ✓ 已启用", c.id),
            (false, false) => format!("{} 未启用", c.id),
        })
        .collect::<Vec<_>>()
        .join("，")
}

/// The measured figures in Chinese: `` `measured.x` = 6.8 > 5 (`param`) 不合格``.
pub fn measures_zh(result: &ObligationResult) -> String {
    result
        .measures
        .iter()
        .filter(|m| m.outcome != MeasureOutcome::Unknown)
        .map(|m| {
            let outcome = match m.outcome {
                MeasureOutcome::Pass => "达标",
                MeasureOutcome::Fail => "不合格（应/不应）",
                MeasureOutcome::Warn => "提示（宜/不宜）",
                MeasureOutcome::Unknown => "未知",
            };
            format!("{} {outcome}", m.describe())
        })
        .collect::<Vec<_>>()
        .join("；")
}

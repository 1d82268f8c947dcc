//! The pages and their script and style, compiled into the binary.

/// The status page: task stream, progress, memory, processing.
pub const STATUS: &str = include_str!("assets/status.html");
/// The workers' table.
pub const WORKERS: &str = include_str!("assets/workers.html");
/// One worker, with its logs.
pub const WORKER: &str = include_str!("assets/worker.html");
/// The graph of task groups.
pub const GROUPS: &str = include_str!("assets/groups.html");
/// A key's story.
pub const STORY: &str = include_str!("assets/story.html");
/// The pages' script.
pub const SCRIPT: &str = include_str!("assets/dashboard.js");
/// The pages' style.
pub const STYLE: &str = include_str!("assets/dashboard.css");
/// The performance report's template: see [`report`].
const REPORT: &str = include_str!("assets/report.html");
/// Where a report's data goes in [`REPORT`].
const REPORT_SLOT: &str = "/*BRISK_REPORT_DATA*/null";
/// Where the task stream's drawing goes in [`REPORT`].
const DRAWING_SLOT: &str = "/*BRISK_SHARED_DRAWING*/";

/// A performance report's page: the template with the status page's drawing
/// code (the block of [`SCRIPT`] between its `BEGIN`/`END shared drawing code`
/// lines) and `data`, JSON text that must not hold `</`, inline.
pub fn report(data: &str) -> String {
    // From the line after the BEGIN line to the END line.
    let drawing = SCRIPT
        .split_once("// BEGIN shared drawing code")
        .and_then(|(_, rest)| rest.split_once('\n'))
        .and_then(|(_, rest)| rest.split_once("// END shared drawing code"))
        .map_or("", |(block, _)| block);
    REPORT
        .replacen(DRAWING_SLOT, drawing, 1)
        .replacen(REPORT_SLOT, data, 1)
}

/// The page that asks for the cluster's token.
pub fn login(path: &str, wrong: bool) -> String {
    let path = html_escape(path);
    let note = if wrong {
        "<p class=\"error\">That token is not the cluster's.</p>"
    } else {
        ""
    };
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Brisk dashboard: token</title>\
         <link rel=\"stylesheet\" href=\"/static/dashboard.css\"></head><body>\
         <h1>This cluster needs its token</h1>{note}\
         <form id=\"login\" method=\"get\" action=\"{path}\">\
         <input id=\"token\" name=\"token\" type=\"password\" autofocus>\
         <button type=\"submit\">Open</button></form></body></html>"
    )
}

/// `text` with HTML's special characters escaped.
pub fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

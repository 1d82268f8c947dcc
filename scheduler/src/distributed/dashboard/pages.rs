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
/// The performance report's template: the data replaces [`REPORT_SLOT`].
pub const REPORT: &str = include_str!("assets/report.html");
/// Where a report's data goes in [`REPORT`].
pub const REPORT_SLOT: &str = "/*BRISK_REPORT_DATA*/null";

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

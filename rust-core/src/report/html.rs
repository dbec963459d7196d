//! The report as one HTML5 page: inline CSS only, no script, no font, image or anything else
//! fetched (a Content-Security-Policy says so to the browser), so it opens offline and from a
//! mail attachment. Every text that comes from the service or the user is escaped, in text and
//! in attributes alike. Tests and tools read the table back by its `data-*` attributes, never by
//! its text, which is for people.

use std::collections::HashMap;

use super::{columns, CellDrift, Column, ReportCell, ReportInput, TenantOutcome, TenantRow};
use crate::policy::baseline::rfc3339;

/// The page's style. Sticky header row and first column keep 1000+ products by 100 tenants
/// readable while scrolling; the filter works through `:has()`, without a script.
const STYLE: &str = "\
:root{color-scheme:light;--on:#d9f2df;--on-t:#0a5a1c;--off:#ececec;--off-t:#3d3d3d;\
--trial:#fff0c0;--trial-t:#684c00;--other:#e6ecff;--other-t:#20307a;--drift:#c0001a;--err:#fde9ec}\
*{box-sizing:border-box}\
body{margin:0;font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;color:#1b1b1b;background:#fff}\
header{padding:14px 20px 10px;border-bottom:1px solid #d6d6d6}\
h1{font-size:20px;margin:0 0 6px}\
.meta{display:flex;flex-wrap:wrap;gap:2px 22px;margin:0 0 6px}\
.meta div{display:flex;gap:6px}.meta dt{color:#555}.meta dd{margin:0;font-weight:600}\
.totals{margin:4px 0}.totals b{font-variant-numeric:tabular-nums}\
.legend{display:flex;flex-wrap:wrap;gap:6px 10px;list-style:none;margin:6px 0;padding:0;font-size:12px}\
.legend li{padding:1px 8px;border-radius:3px}\
.filter{font-size:13px;user-select:none}\
.scroll{overflow:auto;max-height:78vh;border-top:1px solid #d6d6d6}\
table{border-collapse:separate;border-spacing:0;font-size:13px}\
caption{caption-side:top;text-align:left;padding:6px 20px;color:#555}\
th,td{border-right:1px solid #e0e0e0;border-bottom:1px solid #e0e0e0;padding:4px 8px;text-align:left;vertical-align:top}\
td{min-width:7em;max-width:13em;overflow-wrap:break-word}\
thead th{position:sticky;top:0;z-index:2;background:#f5f5f5;min-width:8em;max-width:14em;font-weight:600}\
th[scope=row]{position:sticky;left:0;z-index:1;background:#fff;min-width:15em;max-width:22em;font-weight:600}\
thead th.corner{left:0;z-index:3}\
.id{display:block;font:12px ui-monospace,Consolas,monospace;color:#5a5a5a;font-weight:400}\
.sum{display:block;font-size:12px;color:#555;font-weight:400}\
.v-on{background:var(--on);color:var(--on-t)}\
.v-off{background:var(--off);color:var(--off-t)}\
.v-trial{background:var(--trial);color:var(--trial-t)}\
.v-other{background:var(--other);color:var(--other-t)}\
td.none{color:#8a8a8a;text-align:center}\
td.drift{box-shadow:inset 0 0 0 2px var(--drift);font-weight:700}\
.mark{color:var(--drift);font-weight:700;margin-right:4px}\
li.drift{box-shadow:inset 0 0 0 2px var(--drift)}\
tr.failed th,td.error{background:var(--err)}td.error{color:#7d0012;max-width:none}\
tr.drifted th[scope=row]{border-left:4px solid var(--drift)}\
body:has(#only-drift:checked) tbody tr.clean{display:none}\
@media print{.scroll{overflow:visible;max-height:none}thead th,th[scope=row]{position:static}.filter{display:none}}\
";

/// The page for `input`. Linear in the number of cells: one `String`, reserved up front.
pub fn render(input: &ReportInput) -> String {
    let columns = columns(input);
    let summary = input.summary();
    let cells: usize = input
        .tenants
        .iter()
        .map(|t| match &t.outcome {
            TenantOutcome::Items(cells) => cells.len(),
            TenantOutcome::Error(_) => 1,
        })
        .sum();
    let mut page = Page {
        out: String::with_capacity(
            4096 + STYLE.len() + columns.len() * 160 + input.tenants.len() * 300 + cells * 110,
        ),
    };
    let generated = utc(input.generated_at);
    let drift_shown = input.baseline.is_some() || summary.drifted_cells > 0;

    page.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    page.raw("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    // The page may load nothing at all and run no script, whoever edits it later.
    page.raw(
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
         style-src 'unsafe-inline'; img-src data:\">",
    );
    page.raw("<meta name=\"generator\"");
    page.attr("content", &format!("MSCommerce {}", input.module_version));
    page.raw("><title>");
    page.text(&input.policy_id);
    page.raw(&format!(
        " across {} — MSCommerce report",
        plural(summary.tenants, "tenant")
    ));
    page.raw("</title><style>");
    page.raw(STYLE);
    page.raw("</style></head><body><header><h1>Policy <code>");
    page.text(&input.policy_id);
    page.raw("</code></h1><dl class=\"meta\"><div><dt>Generated</dt><dd><time");
    page.attr("datetime", &rfc3339(input.generated_at));
    page.raw(">");
    page.text(&generated);
    page.raw("</time></dd></div><div><dt>Module</dt><dd>MSCommerce ");
    page.text(&input.module_version);
    page.raw("</dd></div><div><dt>Baseline</dt><dd>");
    match &input.baseline {
        Some(name) => page.text(name),
        None => page.raw("none"),
    }
    page.raw("</dd></div></dl>");

    page.raw("<p class=\"totals\"");
    page.attr("data-tenants", &summary.tenants.to_string());
    page.attr("data-failed-tenants", &summary.failed_tenants.to_string());
    page.attr("data-products", &summary.products.to_string());
    page.attr("data-drifted-cells", &summary.drifted_cells.to_string());
    page.attr("data-drifted-tenants", &summary.drifted_tenants.to_string());
    page.raw(&format!("><b>{}</b>", plural(summary.tenants, "tenant")));
    if summary.failed_tenants > 0 {
        page.raw(&format!(
            " (<b>{}</b> could not be read)",
            summary.failed_tenants
        ));
    }
    page.raw(&format!(
        " · <b>{}</b>",
        plural(summary.products, "product")
    ));
    if drift_shown {
        page.raw(&format!(
            " · <b>{}</b> in <b>{}</b> {} from the baseline",
            plural(summary.drifted_cells, "value"),
            plural(summary.drifted_tenants, "tenant"),
            if summary.drifted_cells == 1 {
                "differs"
            } else {
                "differ"
            }
        ));
    } else {
        page.raw(" · no baseline, so no drift is shown");
    }
    page.raw("</p><ul class=\"legend\"><li class=\"v-on\">Enabled</li><li class=\"v-off\">Disabled</li>\
              <li class=\"v-trial\">OnlyTrialsWithoutPaymentMethod</li><li class=\"v-other\">other value</li>\
              <li>— not listed for the tenant</li>");
    if drift_shown {
        page.raw("<li class=\"drift\"><span class=\"mark\">≠</span>differs from the baseline (hover for its value)</li>");
    }
    page.raw("</ul>");
    if drift_shown || summary.failed_tenants > 0 {
        page.raw(
            "<label class=\"filter\"><input type=\"checkbox\" id=\"only-drift\"> \
             Only tenants with drift or errors</label>",
        );
    }
    page.raw("</header><main><div class=\"scroll\"><table><caption>");
    page.text(&input.policy_id);
    page.raw(&format!(
        ": {} by {}",
        plural(summary.tenants, "tenant"),
        plural(summary.products, "product")
    ));
    if let Some(name) = &input.baseline {
        page.raw(", compared with the baseline ");
        page.text(name);
    }
    page.raw("</caption><thead><tr><th scope=\"col\" class=\"corner\">Tenant</th>");
    for column in &columns {
        page.raw("<th scope=\"col\"");
        page.attr("data-product-id", &column.id);
        page.raw("><span class=\"name\">");
        page.text(column.name.as_deref().unwrap_or(&column.id));
        page.raw("</span><span class=\"id\">");
        page.text(&column.id);
        page.raw("</span></th>");
    }
    page.raw("</tr></thead><tbody>");
    for tenant in &input.tenants {
        page.row(tenant, &columns);
    }
    page.raw("</tbody></table></div></main></body></html>\n");
    page.out
}

/// The page being written.
struct Page {
    out: String,
}

impl Page {
    /// Markup written as is: only ever literals of this file and numbers.
    fn raw(&mut self, markup: &str) {
        self.out.push_str(markup);
    }

    /// Text, escaped.
    fn text(&mut self, text: &str) {
        escape_into(&mut self.out, text);
    }

    /// ` name="value"`, the value escaped; names are literals of this file.
    fn attr(&mut self, name: &str, value: &str) {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_into(&mut self.out, value);
        self.out.push('"');
    }

    /// One tenant's `<tr>`: its header cell, then a cell per column (or its error across them).
    fn row(&mut self, tenant: &TenantRow, columns: &[Column]) {
        let (class, counts) = match tenant.counts() {
            None => ("failed", None),
            Some((_, 0)) => ("clean", tenant.counts()),
            Some(_) => ("drifted", tenant.counts()),
        };
        self.raw("<tr");
        self.attr("class", class);
        self.attr("data-tenant", &tenant.tenant_id);
        if let Some((products, drifted)) = counts {
            self.attr("data-products", &products.to_string());
            self.attr("data-drifted", &drifted.to_string());
        }
        if let TenantOutcome::Error(message) = &tenant.outcome {
            self.attr("data-error", message);
        }
        self.raw("><th scope=\"row\">");
        if let Some(label) = &tenant.label {
            self.text(label);
        }
        self.raw("<span class=\"id\">");
        self.text(&tenant.tenant_id);
        self.raw("</span><span class=\"sum\">");
        match counts {
            Some((products, drifted)) => {
                self.raw(&plural(products, "product"));
                if drifted > 0 {
                    self.raw(&format!(", {drifted} drifted"));
                }
            }
            None => self.raw("could not be read"),
        }
        self.raw("</span></th>");
        match &tenant.outcome {
            TenantOutcome::Error(message) => {
                self.raw(&format!(
                    "<td class=\"error\" colspan=\"{}\">Could not read this tenant: ",
                    columns.len().max(1)
                ));
                self.text(message);
                self.raw("</td>");
            }
            TenantOutcome::Items(cells) => {
                let mut by_key: HashMap<String, &ReportCell> = HashMap::with_capacity(cells.len());
                for cell in cells {
                    // The first of two cells with one id wins, as the column's name does.
                    by_key
                        .entry(cell.product_id.to_ascii_lowercase())
                        .or_insert(cell);
                }
                for column in columns {
                    self.cell(column, by_key.get(&column.key).copied());
                }
            }
        }
        self.raw("</tr>\n");
    }

    /// One `<td>`: the value by colour and by text, drift by colour and by a mark.
    fn cell(&mut self, column: &Column, cell: Option<&ReportCell>) {
        let Some(cell) = cell else {
            self.raw("<td class=\"none\"");
            self.attr("data-product-id", &column.id);
            self.raw(">—</td>");
            return;
        };
        let class = match cell.value.as_deref() {
            None if cell.drift == Some(CellDrift::Removed) => "none",
            Some("Enabled") => "v-on",
            Some("Disabled") => "v-off",
            Some("OnlyTrialsWithoutPaymentMethod") => "v-trial",
            _ => "v-other",
        };
        self.raw("<td");
        match cell.drift {
            Some(_) => self.attr("class", &format!("{class} drift")),
            None => self.attr("class", class),
        }
        self.attr("data-product-id", &column.id);
        if let Some(value) = &cell.value {
            self.attr("data-value", value);
        }
        if let Some(expected) = &cell.expected {
            self.attr("data-expected", expected);
        }
        if let Some(drift) = cell.drift {
            self.raw(" data-drift=\"true\"");
            self.attr("data-change", drift.name());
            let why = match (drift, &cell.expected) {
                (CellDrift::Removed, Some(expected)) => {
                    format!("In the baseline as {expected}; the service no longer lists it")
                }
                (CellDrift::Removed, None) => "The service no longer lists it".to_owned(),
                (_, Some(expected)) => format!("The baseline has {expected}"),
                (_, None) => "Not in the baseline".to_owned(),
            };
            self.attr("title", &why);
            self.raw("><span class=\"mark\" role=\"img\"");
            self.attr("aria-label", &format!("differs from the baseline: {why}."));
            self.raw(">≠</span>");
        } else {
            self.raw(">");
        }
        match (&cell.value, cell.drift) {
            // The longest value breaks between its words, not inside them, in narrow columns.
            (Some(value), _) if value == "OnlyTrialsWithoutPaymentMethod" => {
                self.raw("Only<wbr>Trials<wbr>Without<wbr>Payment<wbr>Method");
            }
            (Some(value), _) => self.text(value),
            (None, Some(CellDrift::Removed)) => self.raw("—"),
            (None, _) => self.raw("no value"),
        }
        self.raw("</td>");
    }
}

/// Appends `text` with the five characters HTML gives a meaning escaped, so it is safe both as
/// element content and inside a double- or single-quoted attribute.
pub(crate) fn escape_into(out: &mut String, text: &str) {
    let mut plain = 0;
    for (at, c) in text.char_indices() {
        let escaped = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&text[plain..at]);
        out.push_str(escaped);
        plain = at + c.len_utf8();
    }
    out.push_str(&text[plain..]);
}

/// Unix seconds as `yyyy-MM-dd HH:mm:ss UTC`.
fn utc(unix_seconds: u64) -> String {
    let stamp = rfc3339(unix_seconds);
    format!("{} UTC", stamp.trim_end_matches('Z').replacen('T', " ", 1))
}

/// `1 tenant`, `2 tenants`.
fn plural(count: usize, noun: &str) -> String {
    if count == 1 {
        format!("1 {noun}")
    } else {
        format!("{count} {noun}s")
    }
}

#[cfg(test)]
mod tests {
    use super::super::TenantRow;
    use super::*;

    const NASTY: &str = "<script>alert(\"x\")</script> & 'q'";

    fn cell(id: &str, name: &str, value: &str) -> ReportCell {
        ReportCell {
            product_id: id.into(),
            product_name: Some(name.into()),
            value: Some(value.into()),
            expected: None,
            drift: None,
        }
    }

    fn tenant(id: &str, cells: Vec<ReportCell>) -> TenantRow {
        TenantRow {
            tenant_id: id.into(),
            label: None,
            outcome: TenantOutcome::Items(cells),
        }
    }

    fn input(tenants: Vec<TenantRow>) -> ReportInput {
        ReportInput {
            policy_id: "AllowSelfServicePurchase".into(),
            generated_at: 1_795_258_800,
            module_version: "3.1.0".into(),
            baseline: Some("baseline.json".into()),
            tenants,
        }
    }

    /// The `<td>` of `product` in the row of `tenant`.
    fn td<'a>(html: &'a str, tenant: &str, product: &str) -> &'a str {
        let row_at = html
            .find(&format!("data-tenant=\"{tenant}\""))
            .unwrap_or_else(|| panic!("no row {tenant}"));
        let row = &html[row_at..html[row_at..].find("</tr>").unwrap() + row_at];
        let at = row
            .find(&format!("<td class=\"none\" data-product-id=\"{product}\""))
            .or_else(|| {
                row.match_indices("<td ").map(|(at, _)| at).find(|at| {
                    row[*at..]
                        .split('>')
                        .next()
                        .unwrap()
                        .contains(&format!("data-product-id=\"{product}\""))
                })
            })
            .unwrap_or_else(|| panic!("no cell {product} in {row}"));
        &row[at..at + row[at..].find("</td>").unwrap() + 5]
    }

    #[test]
    fn escaping_covers_the_five_characters_and_leaves_the_rest() {
        let mut out = String::new();
        escape_into(&mut out, NASTY);
        assert_eq!(
            out,
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;q&#39;"
        );
        let mut out = String::new();
        escape_into(&mut out, "Power BI ≠ ü");
        assert_eq!(out, "Power BI ≠ ü");
    }

    #[test]
    fn text_from_the_service_and_the_user_is_escaped_everywhere() {
        let mut report = input(vec![
            TenantRow {
                tenant_id: "\"><script>t</script>".into(),
                label: Some(NASTY.into()),
                outcome: TenantOutcome::Items(vec![cell("ID\"x", NASTY, "<b>odd</b>")]),
            },
            TenantRow::failed("e", None, NASTY),
        ]);
        report.baseline = Some(NASTY.into());
        report.module_version = NASTY.into();
        report.policy_id = NASTY.into();
        let html = render(&report);
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b>odd"), "{html}");
        assert!(html.contains("data-tenant=\"&quot;&gt;&lt;script&gt;t&lt;/script&gt;\""));
        assert!(html.contains("data-product-id=\"ID&quot;x\""));
        assert!(html.contains("data-error=\"&lt;script&gt;alert(&quot;x&quot;)"));
        // Attributes are only ever double-quoted, so an escaped value cannot end one early.
        assert!(!html.contains("='"), "{html}");
    }

    #[test]
    fn a_drifted_cell_is_marked_by_class_mark_and_expected_value() {
        let mut drifted = cell("A", "a", "Disabled");
        drifted.expected = Some("Enabled".into());
        drifted.drift = Some(CellDrift::Changed);
        let html = render(&input(vec![tenant(
            "t",
            vec![drifted, cell("B", "b", "Enabled")],
        )]));
        assert_eq!(
            td(&html, "t", "A"),
            "<td class=\"v-off drift\" data-product-id=\"A\" data-value=\"Disabled\" \
             data-expected=\"Enabled\" data-drift=\"true\" data-change=\"Changed\" \
             title=\"The baseline has Enabled\"><span class=\"mark\" role=\"img\" \
             aria-label=\"differs from the baseline: The baseline has Enabled.\">≠</span>Disabled</td>"
        );
        assert_eq!(
            td(&html, "t", "B"),
            "<td class=\"v-on\" data-product-id=\"B\" data-value=\"Enabled\">Enabled</td>"
        );
        assert!(html.contains("data-drifted-cells=\"1\""));
        assert!(html.contains(
            "<tr class=\"drifted\" data-tenant=\"t\" data-products=\"2\" data-drifted=\"1\">"
        ));
    }

    #[test]
    fn a_product_a_tenant_lacks_is_an_empty_cell_in_its_column() {
        let html = render(&input(vec![
            tenant(
                "one",
                vec![cell("A", "a", "Enabled"), cell("B", "b", "Disabled")],
            ),
            tenant(
                "two",
                vec![cell("b", "b", "OnlyTrialsWithoutPaymentMethod")],
            ),
        ]));
        assert_eq!(
            td(&html, "two", "A"),
            "<td class=\"none\" data-product-id=\"A\">—</td>"
        );
        assert_eq!(
            td(&html, "two", "B"),
            "<td class=\"v-trial\" data-product-id=\"B\" data-value=\"OnlyTrialsWithoutPaymentMethod\">\
             Only<wbr>Trials<wbr>Without<wbr>Payment<wbr>Method</td>",
            "the value's text breaks between words"
        );
        let heads = html.matches("<th scope=\"col\" data-product-id=").count();
        assert_eq!(heads, 2, "one column per product, ids without case");
    }

    #[test]
    fn a_tenant_that_could_not_be_read_is_a_row_with_its_message() {
        let html = render(&input(vec![
            tenant(
                "ok",
                vec![cell("A", "a", "Enabled"), cell("B", "b", "Enabled")],
            ),
            TenantRow::failed("bad", Some("Fabrikam"), "403 Forbidden"),
        ]));
        assert!(html.contains(
            "<tr class=\"failed\" data-tenant=\"bad\" data-error=\"403 Forbidden\"><th scope=\"row\">\
             Fabrikam<span class=\"id\">bad</span><span class=\"sum\">could not be read</span></th>\
             <td class=\"error\" colspan=\"2\">Could not read this tenant: 403 Forbidden</td></tr>"
        ), "{html}");
        assert!(html.contains("(<b>1</b> could not be read)"));
    }

    #[test]
    fn the_header_names_policy_time_version_and_baseline() {
        let html = render(&input(vec![]));
        assert!(
            html.contains("<time datetime=\"2026-11-21T11:00:00Z\">2026-11-21 11:00:00 UTC</time>")
        );
        assert!(html.contains("<dd>MSCommerce 3.1.0</dd>"));
        assert!(html.contains("<dt>Baseline</dt><dd>baseline.json</dd>"));
        assert!(html.contains("<caption>AllowSelfServicePurchase: 0 tenants by 0 products, compared with the baseline baseline.json</caption>"));
    }

    #[test]
    fn the_page_loads_nothing_and_runs_no_script() {
        let html = render(&input(vec![tenant("t", vec![cell("A", "a", "Enabled")])]));
        assert!(html
            .contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\""));
        for outside in ["<script", "src=", "href=", "@import", "url("] {
            assert!(!html.contains(outside), "{outside}");
        }
    }

    #[test]
    fn the_same_input_gives_the_same_page() {
        let tenants = || {
            vec![
                tenant(
                    "one",
                    vec![cell("B", "b", "Enabled"), cell("A", "a", "Disabled")],
                ),
                tenant(
                    "two",
                    vec![cell("C", "c", "Enabled"), cell("A", "a", "Enabled")],
                ),
            ]
        };
        let first = render(&input(tenants()));
        assert_eq!(first, render(&input(tenants())));
        let mut reversed = tenants();
        for row in &mut reversed {
            if let TenantOutcome::Items(cells) = &mut row.outcome {
                cells.reverse();
            }
        }
        assert_eq!(
            first,
            render(&input(reversed)),
            "cells' order does not matter"
        );
    }

    #[test]
    fn a_thousand_products_by_a_hundred_tenants_renders_every_cell() {
        let tenants = (0..100)
            .map(|t| {
                tenant(
                    &format!("tenant-{t}"),
                    (0..1000)
                        .map(|p| cell(&format!("P{p:04}"), &format!("Product {p:04}"), "Enabled"))
                        .collect(),
                )
            })
            .collect();
        let started = std::time::Instant::now();
        let html = render(&input(tenants));
        assert_eq!(html.matches("<td ").count(), 100_000);
        // Linear work takes well under a second even unoptimised; quadratic takes minutes.
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}

import Foundation

/// Small helpers for the self-contained HTML pages HydraNet writes (`report.html`,
/// `compare.html`): escaping, number formatting, tables and the page frame with its inline
/// stylesheet. Nothing here loads anything from the network.
public enum HTML {
    /// Text escaped for HTML content and attribute values.
    public static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A number for people: 4 significant digits, "–" when missing or not finite.
    public static func number(_ value: Double?, digits: Int = 4) -> String {
        guard let value, value.isFinite else { return value == .infinity ? "∞" : "–" }
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-3 { return String(format: "%.\(max(digits - 1, 1))e", value) }
        let decimals = max(0, digits - 1 - Int(floor(log10(magnitude))))
        return String(format: "%.\(decimals)f", value)
    }

    /// A table: `header` cells, then rows of already-escaped cell HTML. A first column of
    /// names is left-aligned, numbers right-aligned (by the stylesheet).
    public static func table(_ header: [String], _ rows: [[String]], caption: String? = nil, cssClass: String = "") -> String {
        var html = "<table class=\"\(cssClass)\">"
        if let caption { html += "<caption>\(escape(caption))</caption>" }
        html += "<thead><tr>" + header.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for row in rows { html += "<tr>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>" }
        return html + "</tbody></table>\n"
    }

    /// A section with a heading, an explanation for newcomers and its content.
    public static func section(_ id: String, _ title: String, explanation: String, _ content: String) -> String {
        "<section id=\"\(escape(id))\"><h2>\(escape(title))</h2><p class=\"explain\">\(explanation)</p>\n\(content)</section>\n"
    }

    /// A whole page: title, inline stylesheet, body.
    public static func page(title: String, body: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="generator" content="HydraNet">
        <title>\(escape(title))</title>
        <style>\(stylesheet)</style>
        </head>
        <body>
        \(body)
        </body>
        </html>

        """
    }

    static let stylesheet = """
    body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:#1d2330;\
    background:#f6f7f9;margin:0;padding:24px 32px;max-width:1280px}
    h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:28px 0 6px;border-bottom:1px solid #d8dce3;padding-bottom:4px}
    h3{font-size:15px;margin:16px 0 6px}
    p.explain{color:#4a5366;margin:4px 0 12px;max-width:900px}
    .status{display:inline-block;padding:2px 10px;border-radius:10px;background:#e3ecff;color:#1f4fb8;font-weight:600}
    .status.done{background:#dff5e6;color:#18743a}
    .grid{display:flex;flex-wrap:wrap;gap:16px}
    figure.chart{margin:0;background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:8px}
    figure.chart figcaption{font-weight:600;font-size:13px;margin:0 0 2px 4px}
    figure.chart svg{display:block}
    table{border-collapse:collapse;background:#fff;margin:6px 0 12px;font-variant-numeric:tabular-nums}
    th,td{border:1px solid #dde1e8;padding:3px 9px;text-align:right}
    th:first-child,td:first-child{text-align:left}
    th{background:#eef1f5;font-weight:600}caption{text-align:left;font-weight:600;padding:4px 0}
    table.kv td,table.kv th{text-align:left}
    .muted{color:#7a8294}
    code{background:#eef1f5;padding:0 4px;border-radius:3px}
    """
}
